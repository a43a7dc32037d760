/**
 * What receivers saw, the same way for both servers: per incoming stream, packets and
 * bytes, loss from sequence-number gaps, and RFC 3550 interarrival jitter. Pure (arrival
 * times are passed in), so it is unit tested.
 */

interface StreamState {
  clockRate: number;
  received: number;
  bytes: number;
  /** Extended (wrap-counted) highest sequence number, and the first one seen. */
  baseSeq: number;
  maxSeq: number;
  lastTransit: number | undefined;
  /** RFC 3550 jitter estimate in RTP timestamp units. */
  jitter: number;
  /** Extended (wrap-counted) highest RTP timestamp, and the first one. */
  baseTs: number;
  maxTs: number;
}

/** Audio streams: RTP clock 48 kHz, 20 ms (960 ticks) per packet. */
const AUDIO_CLOCK = 48_000;
const AUDIO_FRAME_TICKS = 960;

export interface ReceiverTotals {
  packets: number;
  bytes: number;
  /** Packets the senders' sequence numbers say should have arrived. */
  expected: number;
  streams: number;
  /** Mean over streams of the RFC 3550 jitter, ms. */
  jitterMs: number;
  /**
   * Seconds of audio the received audio streams cover, from their RTP timestamps.
   * A server that sends DTX during silence sends fewer packets for the same
   * seconds of audio, so this (not a packet count) says whether audio kept up.
   */
  audioSeconds: number;
}

export interface ReceiverMark { perStream: Map<string, { received: number; maxSeq: number; bytes: number; maxTs: number }> }

export class ReceiverStats {
  private readonly streams = new Map<string, StreamState>();

  /** Account one RTP packet of stream `key` (e.g. receiver + SSRC) arriving at `arrivalMs`. */
  onPacket(key: string, seq: number, rtpTimestamp: number, bytes: number, arrivalMs: number, clockRate: number): void {
    let s = this.streams.get(key);
    if (!s) {
      s = { clockRate, received: 0, bytes: 0, baseSeq: seq, maxSeq: seq, lastTransit: undefined, jitter: 0, baseTs: rtpTimestamp, maxTs: rtpTimestamp };
      this.streams.set(key, s);
    }
    s.received++;
    s.bytes += bytes;
    // Extend the 16-bit number to the one nearest the highest seen so far.
    const delta = ((seq - (s.maxSeq & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    const ext = s.maxSeq + delta;
    if (ext > s.maxSeq) s.maxSeq = ext;
    // The same for the 32-bit timestamp, nearest the highest seen so far.
    const tsDelta = ((rtpTimestamp - (s.maxTs % 2 ** 32) + 2 ** 31 + 2 ** 32) % 2 ** 32) - 2 ** 31;
    if (tsDelta > 0) s.maxTs += tsDelta;
    const transit = (arrivalMs * s.clockRate) / 1000 - rtpTimestamp;
    if (s.lastTransit !== undefined) {
      let d = Math.abs(transit - s.lastTransit);
      // A timestamp wrap or a server's timestamp rebase shows up as an absurd jump: skip it.
      if (d > s.clockRate * 10) d = s.jitter;
      s.jitter += (d - s.jitter) / 16;
    }
    s.lastTransit = transit;
  }

  /** Remember where every stream stands, to measure a window from here. */
  mark(): ReceiverMark {
    return { perStream: new Map([...this.streams].map(([k, s]) => [k, { received: s.received, maxSeq: s.maxSeq, bytes: s.bytes, maxTs: s.maxTs }])) };
  }

  /** Totals since `mark` (streams that started later count from their first packet). */
  since(mark: ReceiverMark): ReceiverTotals {
    let packets = 0;
    let bytes = 0;
    let expected = 0;
    let jitterSum = 0;
    let streams = 0;
    let audioTicks = 0;
    for (const [key, s] of this.streams) {
      const m = mark.perStream.get(key) ?? { received: 0, maxSeq: s.baseSeq - 1, bytes: 0, maxTs: s.baseTs - AUDIO_FRAME_TICKS };
      if (s.clockRate === AUDIO_CLOCK) audioTicks += s.maxTs - m.maxTs;
      packets += s.received - m.received;
      bytes += s.bytes - m.bytes;
      expected += s.maxSeq - m.maxSeq;
      jitterSum += (s.jitter * 1000) / s.clockRate;
      streams++;
    }
    return { packets, bytes, expected, streams, jitterMs: streams === 0 ? 0 : jitterSum / streams, audioSeconds: audioTicks / AUDIO_CLOCK };
  }
}

/** Loss as a fraction; duplicates can make `packets` exceed `expected`, which is no loss. */
export const lossFraction = (t: Pick<ReceiverTotals, 'packets' | 'expected'>): number =>
  t.expected <= 0 ? 0 : Math.max(0, 1 - t.packets / t.expected);
