import { seqDelta } from '../rtp/rtp.js';

/** Frame spacing assumed when a subscription switches to another source, at 90 kHz (one frame at 30 fps). */
const SWITCH_TIMESTAMP_GAP = 3000;
/** Outgoing packets remembered for NACK translation: as many as a retransmission buffer holds. */
const HISTORY = 1024;

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

  constructor(random: () => number = Math.random) {
    this.lastSeq = Math.floor(random() * 0x8000);
    this.lastTs = Math.floor(random() * 0x80000000);
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
      this.started = true;
    } else if (seqDelta(this.epochStart, inSeq) < 0) {
      return false;
    }
    const seq = (inSeq + this.seqOffset) & 0xffff;
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
