import { seqDelta } from '../rtp/rtp.js';

/**
 * Repairs loss between a publisher and the server: sequence gaps on the incoming
 * stream are asked for again with NACK, about once per round trip, until the
 * packet arrives or `giveUpMs` passes; then a keyframe is the only repair left.
 * The round trip is learnt from how long a NACKed packet takes to come back.
 * Fixed-size arrays: nothing is allocated per packet.
 */
export interface NackSettings {
  /** How long to keep asking for one packet before asking for a keyframe instead. */
  giveUpMs: number;
  /** Bounds on the interval between NACKs for the same packet (the round-trip estimate is clamped to them). */
  retryMinMs: number;
  retryMaxMs: number;
  /** A jump longer than this is not loss to repair (a restarted sender); it gets a keyframe request. */
  maxGap: number;
  /** Most packets tracked as missing at once; the oldest make way. */
  capacity: number;
}

export interface NackStats {
  /** Sequence numbers found missing. */
  missing: number;
  /** Of those, how many arrived later (late or retransmitted). */
  recovered: number;
  /** NACK messages sent (each names one or more packets). */
  nacksSent: number;
  /** Missing packets given up on. */
  givenUp: number;
}

const INITIAL_RTT_MS = 100;

export class NackGenerator {
  readonly stats: NackStats = { missing: 0, recovered: 0, nacksSent: 0, givenUp: 0 };
  private highest = -1;
  private count = 0;
  private readonly seq: Uint16Array;
  private readonly firstMs: Float64Array;
  private readonly lastSentMs: Float64Array;
  private readonly due: number[] = [];
  private rttMs = INITIAL_RTT_MS;

  constructor(private readonly settings: NackSettings) {
    this.seq = new Uint16Array(settings.capacity);
    this.firstMs = new Float64Array(settings.capacity);
    this.lastSentMs = new Float64Array(settings.capacity);
  }

  /** The current round-trip estimate toward the publisher, in ms. */
  get roundTripMs(): number {
    return this.rttMs;
  }

  /** Notes an arriving packet. Returns false when it jumped so far that a keyframe is needed. */
  onPacket(sequenceNumber: number, nowMs: number): boolean {
    if (this.highest < 0) {
      this.highest = sequenceNumber;
      return true;
    }
    const delta = seqDelta(this.highest, sequenceNumber);
    if (delta > 0) {
      if (delta > this.settings.maxGap) {
        this.count = 0;
        this.highest = sequenceNumber;
        return false;
      }
      for (let missing = 1; missing < delta; missing++) this.add((this.highest + missing) & 0xffff, nowMs);
      this.highest = sequenceNumber;
    } else if (delta < 0) {
      this.arrived(sequenceNumber, nowMs);
    }
    return true;
  }

  /**
   * Sends what is due: one NACK naming every missing packet not asked for within
   * the last round trip (through `send`), and gives up on packets older than
   * giveUpMs (returns true when it did: the caller asks for a keyframe).
   */
  tick(nowMs: number, send: (sequenceNumbers: readonly number[]) => void): boolean {
    if (this.count === 0) return false;
    const retry = Math.min(this.settings.retryMaxMs, Math.max(this.settings.retryMinMs, this.rttMs));
    let gaveUp = false;
    this.due.length = 0;
    for (let i = 0; i < this.count; i++) {
      if (nowMs - this.firstMs[i]! >= this.settings.giveUpMs) {
        this.removeAt(i--);
        this.stats.givenUp++;
        gaveUp = true;
      } else if (nowMs - this.lastSentMs[i]! >= retry) {
        this.lastSentMs[i] = nowMs;
        this.due.push(this.seq[i]!);
      }
    }
    if (this.due.length > 0) {
      this.stats.nacksSent++;
      send(this.due);
    }
    return gaveUp;
  }

  /** Forgets everything (a new publication, or the sender restarted). */
  reset(): void {
    this.highest = -1;
    this.count = 0;
  }

  private add(sequenceNumber: number, nowMs: number): void {
    if (this.count === this.settings.capacity) {
      this.removeAt(0);
      this.stats.givenUp++;
    }
    this.seq[this.count] = sequenceNumber;
    this.firstMs[this.count] = nowMs;
    // Never sent yet: due at the next tick.
    this.lastSentMs[this.count] = -Infinity;
    this.count++;
    this.stats.missing++;
  }

  private arrived(sequenceNumber: number, nowMs: number): void {
    for (let i = 0; i < this.count; i++) {
      if (this.seq[i] !== sequenceNumber) continue;
      const sent = this.lastSentMs[i]!;
      // A packet that comes back after our NACK measures the round trip.
      if (sent > -Infinity) this.rttMs = 0.875 * this.rttMs + 0.125 * (nowMs - sent);
      this.removeAt(i);
      this.stats.recovered++;
      return;
    }
  }

  private removeAt(i: number): void {
    const last = --this.count;
    if (i === last) return;
    // Keep arrival order for give-up: shift rather than swap (the list is short).
    this.seq.copyWithin(i, i + 1, last + 1);
    this.firstMs.copyWithin(i, i + 1, last + 1);
    this.lastSentMs.copyWithin(i, i + 1, last + 1);
  }
}
