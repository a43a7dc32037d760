/**
 * The RTCP messages an SFU acts on (RFC 3550, 4585, 5104, draft-alvestrand-rmcat-remb),
 * parsed from compound packets without ever throwing, and builders for the ones it sends.
 */

export type RtcpMessage =
  | { kind: 'pli'; senderSsrc: number; mediaSsrc: number }
  | { kind: 'fir'; senderSsrc: number; mediaSsrcs: number[] }
  | { kind: 'nack'; senderSsrc: number; mediaSsrc: number; sequenceNumbers: number[] }
  | { kind: 'remb'; senderSsrc: number; bitrate: number; ssrcs: number[] }
  | { kind: 'sender-report'; ssrc: number; ntpMsw: number; ntpLsw: number; rtpTimestamp: number; packetCount: number; octetCount: number }
  | { kind: 'receiver-report'; ssrc: number; reports: ReceptionReport[] };

export interface ReceptionReport {
  ssrc: number;
  fractionLost: number;
  cumulativeLost: number;
  highestSequence: number;
  jitter: number;
  /** Compact NTP time of the last sender report received about this SSRC (0: none yet). */
  lastSr: number;
  /** Since then, in 1/65536 s. */
  delaySinceLastSr: number;
}

const RTCP_SR = 200;
const RTCP_RR = 201;
const RTCP_RTPFB = 205;
const RTCP_PSFB = 206;

function readReports(packet: Buffer, offset: number, count: number, end: number): ReceptionReport[] {
  const reports: ReceptionReport[] = [];
  for (let i = 0; i < count && offset + 24 <= end; i++, offset += 24) {
    const lostWord = packet.readUInt32BE(offset + 4);
    let cumulative = lostWord & 0xffffff;
    if (cumulative & 0x800000) cumulative -= 0x1000000;
    reports.push({
      ssrc: packet.readUInt32BE(offset),
      fractionLost: lostWord >>> 24,
      cumulativeLost: cumulative,
      highestSequence: packet.readUInt32BE(offset + 8),
      jitter: packet.readUInt32BE(offset + 12),
      lastSr: packet.readUInt32BE(offset + 16),
      delaySinceLastSr: packet.readUInt32BE(offset + 20),
    });
  }
  return reports;
}

/** Parses every understood message of a compound RTCP packet; unknown or truncated parts are skipped. */
export function parseRtcp(packet: Buffer): RtcpMessage[] {
  const out: RtcpMessage[] = [];
  let offset = 0;
  while (offset + 4 <= packet.length) {
    const b0 = packet[offset]!;
    if (b0 >> 6 !== 2) break;
    const count = b0 & 0x1f;
    const type = packet[offset + 1]!;
    const length = (packet.readUInt16BE(offset + 2) + 1) * 4;
    const end = offset + length;
    if (end > packet.length) break;
    if (type === RTCP_SR && length >= 28) {
      out.push({
        kind: 'sender-report',
        ssrc: packet.readUInt32BE(offset + 4),
        ntpMsw: packet.readUInt32BE(offset + 8),
        ntpLsw: packet.readUInt32BE(offset + 12),
        rtpTimestamp: packet.readUInt32BE(offset + 16),
        packetCount: packet.readUInt32BE(offset + 20),
        octetCount: packet.readUInt32BE(offset + 24),
      });
    } else if (type === RTCP_RR && length >= 8) {
      out.push({ kind: 'receiver-report', ssrc: packet.readUInt32BE(offset + 4), reports: readReports(packet, offset + 8, count, end) });
    } else if ((type === RTCP_RTPFB || type === RTCP_PSFB) && length >= 12) {
      const senderSsrc = packet.readUInt32BE(offset + 4);
      const mediaSsrc = packet.readUInt32BE(offset + 8);
      const fci = offset + 12;
      if (type === RTCP_RTPFB && count === 1) {
        const sequenceNumbers: number[] = [];
        for (let i = fci; i + 4 <= end; i += 4) {
          const pid = packet.readUInt16BE(i);
          const blp = packet.readUInt16BE(i + 2);
          sequenceNumbers.push(pid);
          for (let bit = 0; bit < 16; bit++) if (blp & (1 << bit)) sequenceNumbers.push((pid + bit + 1) & 0xffff);
        }
        out.push({ kind: 'nack', senderSsrc, mediaSsrc, sequenceNumbers });
      } else if (type === RTCP_PSFB && count === 1) {
        out.push({ kind: 'pli', senderSsrc, mediaSsrc });
      } else if (type === RTCP_PSFB && count === 4) {
        const mediaSsrcs: number[] = [];
        for (let i = fci; i + 8 <= end; i += 8) mediaSsrcs.push(packet.readUInt32BE(i));
        out.push({ kind: 'fir', senderSsrc, mediaSsrcs });
      } else if (type === RTCP_PSFB && count === 15 && fci + 8 <= end && packet.toString('latin1', fci, fci + 4) === 'REMB') {
        const numSsrc = packet[fci + 4]!;
        const exp = packet[fci + 5]! >> 2;
        const mantissa = ((packet[fci + 5]! & 0x03) << 16) | packet.readUInt16BE(fci + 6);
        const ssrcs: number[] = [];
        for (let i = 0; i < numSsrc && fci + 12 + i * 4 <= end; i++) ssrcs.push(packet.readUInt32BE(fci + 8 + i * 4));
        out.push({ kind: 'remb', senderSsrc, bitrate: mantissa * 2 ** exp, ssrcs });
      }
    }
    offset = end;
  }
  return out;
}

/** Bytes of a sender report without report blocks. */
export const SENDER_REPORT_BYTES = 28;

/**
 * Writes a sender report without report blocks into `out` (at least SENDER_REPORT_BYTES long; nothing
 * is allocated), and returns its length.
 */
export function writeSenderReport(
  out: Buffer, ssrc: number, ntp: { msw: number; lsw: number }, rtpTimestamp: number, packetCount: number, octetCount: number,
): number {
  out[0] = 0x80;
  out[1] = RTCP_SR;
  out.writeUInt16BE(SENDER_REPORT_BYTES / 4 - 1, 2);
  out.writeUInt32BE(ssrc >>> 0, 4);
  out.writeUInt32BE(ntp.msw >>> 0, 8);
  out.writeUInt32BE(ntp.lsw >>> 0, 12);
  out.writeUInt32BE(rtpTimestamp >>> 0, 16);
  out.writeUInt32BE(packetCount >>> 0, 20);
  out.writeUInt32BE(octetCount >>> 0, 24);
  return SENDER_REPORT_BYTES;
}

function header(count: number, type: number, words: number): Buffer {
  const buf = Buffer.alloc((words + 1) * 4);
  buf[0] = 0x80 | count;
  buf[1] = type;
  buf.writeUInt16BE(words, 2);
  return buf;
}

export function buildPli(senderSsrc: number, mediaSsrc: number): Buffer {
  const buf = header(1, RTCP_PSFB, 2);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(mediaSsrc >>> 0, 8);
  return buf;
}

export function buildFir(senderSsrc: number, mediaSsrc: number, sequence: number): Buffer {
  const buf = header(4, RTCP_PSFB, 4);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(mediaSsrc >>> 0, 12);
  buf[16] = sequence & 0xff;
  return buf;
}

export function buildRemb(senderSsrc: number, bitrate: number, ssrcs: number[]): Buffer {
  const buf = header(15, RTCP_PSFB, 4 + ssrcs.length);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.write('REMB', 12, 'latin1');
  let exp = 0;
  let mantissa = Math.max(0, Math.floor(bitrate));
  while (mantissa > 0x3ffff) {
    mantissa = Math.floor(mantissa / 2);
    exp++;
  }
  buf[16] = ssrcs.length;
  buf[17] = (exp << 2) | (mantissa >> 16);
  buf.writeUInt16BE(mantissa & 0xffff, 18);
  ssrcs.forEach((ssrc, i) => buf.writeUInt32BE(ssrc >>> 0, 20 + i * 4));
  return buf;
}

export function buildNack(senderSsrc: number, mediaSsrc: number, sequenceNumbers: number[]): Buffer {
  const items: [number, number][] = [];
  for (const seq of [...new Set(sequenceNumbers)].sort((a, b) => a - b)) {
    const last = items[items.length - 1];
    const delta = last ? (seq - last[0]) & 0xffff : 0;
    if (last && delta >= 1 && delta <= 16) last[1] |= 1 << (delta - 1);
    else items.push([seq, 0]);
  }
  const buf = header(1, RTCP_RTPFB, 2 + items.length);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(mediaSsrc >>> 0, 8);
  items.forEach(([pid, blp], i) => {
    buf.writeUInt16BE(pid, 12 + i * 4);
    buf.writeUInt16BE(blp, 14 + i * 4);
  });
  return buf;
}
