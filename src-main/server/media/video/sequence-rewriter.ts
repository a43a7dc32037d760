import { seqDelta } from '../rtp/rtp.js';

/** Frame spacing assumed when a subscription switches to another source, at 90 kHz (one frame at 30 fps). */
const SWITCH_TIMESTAMP_GAP = 3000;
/** Outgoing packets remembered for NACK translation: as many as a retransmission buffer holds. */
const HISTORY = 1024;
/** Deliberately dropped packets remembered, so a late packet from before them still gets the number it was due. */
const SKIP_HISTORY = 64;

/**
 * One subscriber's sequence numbers and timestamps for one m-section: continuous
 * across sources and pauses, whatever the publisher's numbering. Each source
 * (or each restart on a keyframe) begins an epoch with new offsets; packets from
 * before the current epoch are dropped. The last HISTORY outgoing packets are
 * remembered (typed arrays, no allocation), so a NACK for an outgoing number
 * finds the incoming packet and the offsets it went out with.
 */
export class SequenceRewriter {
  /** The outgoing sequence number and timestamp of the packet last passed to rewrite(). */
  sequenceNumber = 0;
  timestamp = 0;
  private lastSeq: number;
  private lastTs: number;
  private seqOffset = 0;
  private tsOffset = 0;
  private epochStart = 0;
  private started = false;
  private resyncDue = true;
  private readonly historyIn = new Uint16Array(HISTORY);
  private readonly historyOut = new Uint16Array(HISTORY);
  private readonly historyTsOffset = new Uint32Array(HISTORY);
  private readonly historyValid = new Uint8Array(HISTORY);
  /** The newest incoming number of this epoch. */
  private highestIn = 0;
  /** Incoming numbers dropped on purpose this epoch, oldest first (a ring), and how many there were. */
  private readonly skipped = new Uint16Array(SKIP_HISTORY);
  private skippedCount = 0;

  constructor(random: () => number = Math.random) {
    this.lastSeq = Math.floor(random() * 0x8000);
    this.lastTs = Math.floor(random() * 0x80000000);
  }

  /** Whether any packet went out yet (before that there is no numbering to continue). */
  get hasStarted(): boolean {
    return this.started;
  }

  /** The next packet passed to rewrite() starts a new epoch (a new source, or a restart on a keyframe). */
  resync(): void {
    this.resyncDue = true;
  }

  /**
   * Maps an incoming packet to outgoing numbers (left in `sequenceNumber` and
   * `timestamp`). False when the packet belongs to before the current epoch.
   */
  rewrite(inSeq: number, inTs: number): boolean {
    if (this.resyncDue) {
      this.resyncDue = false;
      this.seqOffset = (this.lastSeq + 1 - inSeq) & 0xffff;
      this.tsOffset = (this.lastTs + (this.started ? SWITCH_TIMESTAMP_GAP : 0) - inTs) >>> 0;
      this.epochStart = inSeq;
      this.highestIn = inSeq;
      this.skippedCount = 0;
      this.started = true;
    } else if (seqDelta(this.epochStart, inSeq) < 0) {
      return false;
    }
    let late = 0;
    if (seqDelta(this.highestIn, inSeq) > 0) this.highestIn = inSeq;
    else if (this.skippedCount > 0) {
      // A late packet goes out with the offset of its time: before the skips that followed it.
      late = this.skipsAfter(inSeq);
      if (late < 0) return false;
    }
    const seq = (inSeq + this.seqOffset + late) & 0xffff;
    const ts = (inTs + this.tsOffset) >>> 0;
    if (seqDelta(this.lastSeq, seq) > 0) {
      this.lastSeq = seq;
      this.lastTs = ts;
    }
    const slot = seq % HISTORY;
    this.historyIn[slot] = inSeq;
    this.historyOut[slot] = seq;
    this.historyTsOffset[slot] = this.tsOffset;
    this.historyValid[slot] = 1;
    this.sequenceNumber = seq;
    this.timestamp = ts;
    return true;
  }

  /**
   * Incoming `inSeq` is dropped on purpose (a layer this subscriber does not take): the
   * packets after it close up, so the subscriber sees no gap and asks for nothing.
   * A packet older than the newest seen cannot be closed up (its number may be taken).
   */
  skip(inSeq: number): void {
    if (this.resyncDue || seqDelta(this.highestIn, inSeq) <= 0) return;
    this.highestIn = inSeq;
    this.seqOffset = (this.seqOffset - 1) & 0xffff;
    this.skipped[this.skippedCount % SKIP_HISTORY] = inSeq;
    this.skippedCount++;
  }

  /** How many remembered skips came after `inSeq`; -1 when it is older than all remembered ones and more were forgotten. */
  private skipsAfter(inSeq: number): number {
    const remembered = Math.min(this.skippedCount, SKIP_HISTORY);
    let after = 0;
    while (after < remembered && seqDelta(inSeq, this.skipped[(this.skippedCount - 1 - after) % SKIP_HISTORY]!) > 0) after++;
    return after === remembered && this.skippedCount > SKIP_HISTORY ? -1 : after;
  }

  /**
   * Takes the next outgoing number for a packet of the server's own (padding while the
   * subscription is paused), at the last timestamp; -1 before any packet went out. The
   * next forwarded packet starts a new epoch after it, so the numbering stays continuous.
   */
  reserve(): number {
    if (!this.started) return -1;
    this.lastSeq = (this.lastSeq + 1) & 0xffff;
    this.sequenceNumber = this.lastSeq;
    this.timestamp = this.lastTs;
    this.resyncDue = true;
    return this.lastSeq;
  }

  /** The incoming sequence number behind outgoing `outSeq`, or -1 when it is not remembered. */
  incomingFor(outSeq: number): number {
    const slot = outSeq % HISTORY;
    return this.historyValid[slot] && this.historyOut[slot] === outSeq ? this.historyIn[slot]! : -1;
  }

  /** The timestamp offset outgoing `outSeq` was sent with (call after incomingFor found it). */
  timestampOffsetFor(outSeq: number): number {
    return this.historyTsOffset[outSeq % HISTORY]!;
  }
}
