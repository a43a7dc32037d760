/**
 * The last packets of one incoming stream, by sequence number, shared by every
 * subscriber of that stream: a NACK from any of them is answered from here,
 * rewritten for the one who asked. Packets are kept by reference (node-datachannel
 * gives each one its own buffer), never copied. A packet older than the window
 * is not resent: by then the receiver has given up on it, or will soon.
 */
export class RetransmissionBuffer {
  private readonly packets: (Buffer | undefined)[];
  private readonly sequence: Uint16Array;
  private readonly arrival: Float64Array;
  private readonly mask: number;

  /** `slots` is rounded up to a power of two; it bounds memory as well as the window. */
  constructor(slots: number, private readonly windowMs: number) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(16, slots)));
    this.mask = size - 1;
    this.packets = new Array<Buffer | undefined>(size);
    this.sequence = new Uint16Array(size);
    this.arrival = new Float64Array(size);
  }

  get capacity(): number {
    return this.mask + 1;
  }

  store(sequenceNumber: number, packet: Buffer, arrivalMs: number): void {
    const slot = sequenceNumber & this.mask;
    this.packets[slot] = packet;
    this.sequence[slot] = sequenceNumber;
    this.arrival[slot] = arrivalMs;
  }

  /** The packet with this sequence number, if it is still held and inside the window. */
  get(sequenceNumber: number, nowMs: number): Buffer | undefined {
    const slot = sequenceNumber & this.mask;
    const packet = this.packets[slot];
    if (!packet || this.sequence[slot] !== sequenceNumber || nowMs - this.arrival[slot]! > this.windowMs) return undefined;
    return packet;
  }

  /** Arrival time of a held packet (NaN when not held). */
  arrivalOf(sequenceNumber: number): number {
    const slot = sequenceNumber & this.mask;
    return this.packets[slot] && this.sequence[slot] === sequenceNumber ? this.arrival[slot]! : NaN;
  }

  clear(): void {
    this.packets.fill(undefined);
  }
}
