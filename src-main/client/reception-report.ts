import { compactNtp } from '../server/media/rtp/ntp.js';

/**
 * What a headless receiver reports about one incoming stream (RFC 3550 receiver report):
 * packets expected and received since the last report, and the RR packet that says so.
 * Tests of the server's downlink control make it lose a share of packets on purpose
 * (counted as lost, as a constrained link would), since this kernel has no netem.
 */
export class ReceptionStats {
  ssrc = 0;
  private highest = -1;
  private cycles = 0;
  private received = 0;
  private reportedHighest = -1;
  private reportedReceived = 0;
  private cumulativeLost = 0;
  private seen = 0;
  /** The last sender report about this stream: its compact NTP time (echoed as LSR) and when it arrived. */
  private lastSr = 0;
  private lastSrAtMs = 0;

  constructor(public lossRate = 0) {}

  /** A packet arrived; false when it is to be treated as lost. */
  onPacket(ssrc: number, sequenceNumber: number): boolean {
    this.seen++;
    if (this.lossRate > 0 && (this.seen * this.lossRate) % 1 < this.lossRate) return false;
    this.ssrc = ssrc;
    this.received++;
    if (this.highest < 0) {
      this.highest = sequenceNumber;
      this.reportedHighest = sequenceNumber - 1;
      return true;
    }
    const delta = (sequenceNumber - (this.highest & 0xffff)) & 0xffff;
    if (delta > 0 && delta < 0x8000) {
      if ((this.highest & 0xffff) + delta > 0xffff) this.cycles += 0x10000;
      this.highest = this.cycles + sequenceNumber;
    }
    return true;
  }

  /** A sender report about this stream arrived at `atMs` (ms, the clock `report` is given). */
  onSenderReport(ntpMsw: number, ntpLsw: number, atMs: number): void {
    this.lastSr = compactNtp(ntpMsw, ntpLsw);
    this.lastSrAtMs = atMs;
  }

  /** An RTCP RR about this stream since the last one (echoing the last sender report as of `nowMs`), or undefined before any packet. */
  report(senderSsrc: number, nowMs = 0): Buffer | undefined {
    if (this.highest < 0) return undefined;
    const expected = this.highest - this.reportedHighest;
    const received = this.received - this.reportedReceived;
    const lost = Math.max(0, expected - received);
    this.cumulativeLost += lost;
    this.reportedHighest = this.highest;
    this.reportedReceived = this.received;
    const fraction = expected > 0 ? Math.min(255, Math.floor((lost * 256) / expected)) : 0;
    const rr = Buffer.alloc(32);
    rr[0] = 0x81;
    rr[1] = 201;
    rr.writeUInt16BE(7, 2);
    rr.writeUInt32BE(senderSsrc >>> 0, 4);
    rr.writeUInt32BE(this.ssrc >>> 0, 8);
    rr.writeUInt32BE(((fraction << 24) | (Math.min(this.cumulativeLost, 0x7fffff) & 0xffffff)) >>> 0, 12);
    rr.writeUInt32BE(this.highest >>> 0, 16);
    if (this.lastSr !== 0) {
      rr.writeUInt32BE(this.lastSr, 24);
      rr.writeUInt32BE(Math.max(0, Math.round(((nowMs - this.lastSrAtMs) * 65536) / 1000)) >>> 0, 28);
    }
    return rr;
  }
}
