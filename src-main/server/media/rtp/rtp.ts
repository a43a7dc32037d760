/**
 * RTP header parsing and rewriting (RFC 3550, header extensions per RFC 8285).
 * Every parser returns undefined on malformed input instead of throwing: these
 * run inside node-datachannel callbacks, where an exception aborts the process.
 */

export interface RtpHeaderExtension {
  id: number;
  data: Buffer;
}

export interface RtpPacketInfo {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload within the packet. */
  payloadOffset: number;
  /** Payload length, padding excluded. */
  payloadLength: number;
  paddingLength: number;
  csrcCount: number;
  /** Offset and length of the header-extension block (profile word included), when present. */
  extension?: { offset: number; length: number; profile: number };
}

/** RFC 5761 demultiplexing: RTCP packet types 192-223 occupy the second byte's range RTP payload types 64-95 would. */
export function isRtcpPacket(packet: Uint8Array): boolean {
  return packet.length >= 2 && packet[1]! >= 192 && packet[1]! <= 223;
}

/**
 * A parsed RTP header that is read into again and again: the forwarding path
 * parses every packet into one of these instead of allocating an object per packet.
 */
export class RtpHeader implements RtpPacketInfo {
  marker = false;
  payloadType = 0;
  sequenceNumber = 0;
  timestamp = 0;
  ssrc = 0;
  payloadOffset = 0;
  payloadLength = 0;
  paddingLength = 0;
  csrcCount = 0;
  extension: { offset: number; length: number; profile: number } | undefined;
  private readonly extensionBlock = { offset: 0, length: 0, profile: 0 };

  /** Reads `packet`; false (and this header meaningless) when it is not a well-formed RTP packet. */
  read(packet: Buffer): boolean {
    if (packet.length < 12) return false;
    const b0 = packet[0]!;
    if (b0 >> 6 !== 2) return false;
    if (isRtcpPacket(packet)) return false;
    const csrcCount = b0 & 0x0f;
    let offset = 12 + csrcCount * 4;
    if (offset > packet.length) return false;
    this.extension = undefined;
    if ((b0 & 0x10) !== 0) {
      if (offset + 4 > packet.length) return false;
      const length = 4 + packet.readUInt16BE(offset + 2) * 4;
      if (offset + length > packet.length) return false;
      this.extensionBlock.offset = offset;
      this.extensionBlock.length = length;
      this.extensionBlock.profile = packet.readUInt16BE(offset);
      this.extension = this.extensionBlock;
      offset += length;
    }
    let paddingLength = 0;
    if ((b0 & 0x20) !== 0) {
      if (packet.length === offset) return false;
      paddingLength = packet[packet.length - 1]!;
      if (paddingLength === 0 || offset + paddingLength > packet.length) return false;
    }
    this.marker = (packet[1]! & 0x80) !== 0;
    this.payloadType = packet[1]! & 0x7f;
    this.sequenceNumber = packet.readUInt16BE(2);
    this.timestamp = packet.readUInt32BE(4);
    this.ssrc = packet.readUInt32BE(8);
    this.payloadOffset = offset;
    this.payloadLength = packet.length - offset - paddingLength;
    this.paddingLength = paddingLength;
    this.csrcCount = csrcCount;
    return true;
  }
}

export function parseRtp(packet: Buffer): RtpPacketInfo | undefined {
  const header = new RtpHeader();
  if (!header.read(packet)) return undefined;
  const { marker, payloadType, sequenceNumber, timestamp, ssrc, payloadOffset, payloadLength, paddingLength, csrcCount, extension } = header;
  return { marker, payloadType, sequenceNumber, timestamp, ssrc, payloadOffset, payloadLength, paddingLength, csrcCount, extension: extension && { ...extension } };
}

/** The extension elements of a one-byte (0xBEDE) or two-byte (0x100x) header-extension block. */
export function readHeaderExtensions(packet: Buffer, info: RtpPacketInfo): RtpHeaderExtension[] {
  const ext = info.extension;
  if (!ext) return [];
  const out: RtpHeaderExtension[] = [];
  const end = ext.offset + ext.length;
  let i = ext.offset + 4;
  if (ext.profile === 0xbede) {
    while (i < end) {
      const byte = packet[i]!;
      if (byte === 0) {
        i++;
        continue;
      }
      const id = byte >> 4;
      const len = (byte & 0x0f) + 1;
      if (id === 15 || i + 1 + len > end) break;
      out.push({ id, data: packet.subarray(i + 1, i + 1 + len) });
      i += 1 + len;
    }
  } else if ((ext.profile & 0xfff0) === 0x1000) {
    while (i + 1 < end) {
      const id = packet[i]!;
      if (id === 0) {
        i++;
        continue;
      }
      const len = packet[i + 1]!;
      if (i + 2 + len > end) break;
      out.push({ id, data: packet.subarray(i + 2, i + 2 + len) });
      i += 2 + len;
    }
  }
  return out;
}

function encodeExtensionBlock(elements: RtpHeaderExtension[]): Buffer | undefined {
  if (elements.length === 0) return undefined;
  const oneByte = elements.every((e) => e.id >= 1 && e.id <= 14 && e.data.length >= 1 && e.data.length <= 16);
  const body: Buffer[] = [];
  for (const e of elements) {
    body.push(oneByte ? Buffer.from([(e.id << 4) | (e.data.length - 1)]) : Buffer.from([e.id, e.data.length]), e.data);
  }
  const raw = Buffer.concat(body);
  const padded = Math.ceil(raw.length / 4) * 4;
  const block = Buffer.alloc(4 + padded);
  block.writeUInt16BE(oneByte ? 0xbede : 0x1000, 0);
  block.writeUInt16BE(padded / 4, 2);
  raw.copy(block, 4);
  return block;
}

export interface RtpRewrite {
  ssrc: number;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  /**
   * Maps the sender's extension ids to the receiver's; elements without a mapping are
   * dropped. Undefined drops every extension.
   */
  extensionIds?: ReadonlyMap<number, number>;
  /**
   * abs-send-time to write, under the receiver's id: 24 bits of 6.18 fixed-point
   * seconds, stamped as the packet leaves, so the receiver's bandwidth estimator
   * (which reports back with REMB) measures this hop. Undefined writes none.
   */
  absSendTime?: { id: number; value: number };
  /** Overrides the packet's marker bit (an SVC subscriber's picture ends at the highest layer it takes); undefined keeps it. */
  marker?: boolean | undefined;
}

/** The abs-send-time value (6.18 fixed-point seconds, 24 bits) for a monotonic time in ms. */
export function absSendTimeOf(ms: number): number {
  return Math.floor((ms * 262144) / 1000) & 0xffffff;
}

/** Most padding one packet can carry: RTP's padding count is one byte. */
export const MAX_RTP_PADDING = 255;

/**
 * Writes a padding-only RTP packet into `out` (RFC 3550 5.1: P set, no payload, the last
 * byte counts the padding), with abs-send-time when given, so a receiver's estimator counts
 * it. For probing a link: receivers discard it but count its sequence number and bytes.
 * Returns its length.
 */
export function writePaddingRtp(out: Buffer, fields: Pick<RtpRewrite, 'ssrc' | 'payloadType' | 'sequenceNumber' | 'timestamp' | 'absSendTime'>, paddingBytes: number): number {
  const padding = Math.max(1, Math.min(MAX_RTP_PADDING, Math.floor(paddingBytes)));
  const abs = fields.absSendTime && fields.absSendTime.id >= 1 && fields.absSendTime.id <= 14 ? fields.absSendTime : undefined;
  out[0] = 0x80 | 0x20 | (abs ? 0x10 : 0);
  out[1] = fields.payloadType & 0x7f;
  out.writeUInt16BE(fields.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(fields.timestamp >>> 0, 4);
  out.writeUInt32BE(fields.ssrc >>> 0, 8);
  let pos = 12;
  if (abs) {
    // One-byte header block of one word: the element (id, 3 bytes) in it.
    out.writeUInt16BE(0xbede, pos);
    out.writeUInt16BE(1, pos + 2);
    out[pos + 4] = (abs.id << 4) | 2;
    out[pos + 5] = (abs.value >> 16) & 0xff;
    out[pos + 6] = (abs.value >> 8) & 0xff;
    out[pos + 7] = abs.value & 0xff;
    pos += 8;
  }
  out.fill(0, pos, pos + padding - 1);
  out[pos + padding - 1] = padding;
  return pos + padding;
}

/** The part of a parsed header the writer needs (RtpPacketInfo, or a reused RtpHeader). */
export type RtpLayout = Pick<RtpPacketInfo, 'marker' | 'payloadOffset' | 'payloadLength' | 'extension'>;

/** Calls `visit(id, dataOffset, dataLength)` for each element of the packet's extension block. */
function forEachExtension(packet: Buffer, extension: NonNullable<RtpLayout['extension']>, visit: (id: number, offset: number, length: number) => void): void {
  const end = extension.offset + extension.length;
  let i = extension.offset + 4;
  if (extension.profile === 0xbede) {
    while (i < end) {
      const byte = packet[i]!;
      if (byte === 0) {
        i++;
        continue;
      }
      const id = byte >> 4;
      const len = (byte & 0x0f) + 1;
      if (id === 15 || i + 1 + len > end) return;
      visit(id, i + 1, len);
      i += 1 + len;
    }
  } else if ((extension.profile & 0xfff0) === 0x1000) {
    while (i + 1 < end) {
      const id = packet[i]!;
      if (id === 0) {
        i++;
        continue;
      }
      const len = packet[i + 1]!;
      if (i + 2 + len > end) return;
      visit(id, i + 2, len);
      i += 2 + len;
    }
  }
}

/**
 * The first data byte of extension element `id` (one-byte or two-byte form), or -1.
 * Reads in place: the mixer takes each packet's audio level (RFC 6464) this way.
 */
export function readExtensionByte(packet: Buffer, layout: RtpLayout, id: number): number {
  const extension = layout.extension;
  if (!extension) return -1;
  const end = extension.offset + extension.length;
  let i = extension.offset + 4;
  const oneByte = extension.profile === 0xbede;
  if (!oneByte && (extension.profile & 0xfff0) !== 0x1000) return -1;
  while (i < end) {
    const first = packet[i]!;
    if (first === 0) {
      i++;
      continue;
    }
    const elementId = oneByte ? first >> 4 : first;
    if (oneByte && elementId === 15) return -1;
    if (!oneByte && i + 1 >= end) return -1;
    const length = oneByte ? (first & 0x0f) + 1 : packet[i + 1]!;
    const data = i + (oneByte ? 1 : 2);
    if (data + length > end) return -1;
    if (elementId === id) return length >= 1 ? packet[data]! : -1;
    i = data + length;
  }
  return -1;
}

/** Upper bound on the bytes writeRewrittenRtp may write for `packet` (mapping can switch to two-byte elements). */
export function rewrittenRtpBound(packet: Buffer, layout: RtpLayout): number {
  const elements = layout.extension ? layout.extension.length : 0;
  // Mapped elements may double in size in the two-byte form; abs-send-time adds at most 5, padding 3.
  return 12 + 4 + 2 * elements + 8 + layout.payloadLength;
}

// State of the extension scan in writeRewrittenRtp, kept outside so the visitors are created once.
let scanIds: ReadonlyMap<number, number> | undefined;
let scanOneByte = true;
let scanCount = 0;
let scanOut: Buffer = Buffer.alloc(0);
let scanPos = 0;
let scanSource: Buffer = Buffer.alloc(0);
const checkElement = (id: number, _offset: number, length: number): void => {
  const mapped = scanIds!.get(id);
  if (mapped === undefined) return;
  scanCount++;
  if (mapped < 1 || mapped > 14 || length < 1 || length > 16) scanOneByte = false;
};
const writeElement = (id: number, offset: number, length: number): void => {
  const mapped = scanIds!.get(id);
  if (mapped === undefined) return;
  if (scanOneByte) {
    scanOut[scanPos++] = (mapped << 4) | (length - 1);
  } else {
    scanOut[scanPos++] = mapped;
    scanOut[scanPos++] = length;
  }
  scanSource.copy(scanOut, scanPos, offset, offset + length);
  scanPos += length;
};

/**
 * Writes the packet a subscriber receives into `out`, returning its length: new
 * SSRC, payload type, sequence number and timestamp, extensions renumbered to the
 * subscriber's negotiated ids (unmapped ones dropped), CSRCs and padding removed.
 * Allocates nothing: the forwarding path reuses one buffer for every subscriber,
 * since node-datachannel copies what it sends. `out` needs rewrittenRtpBound bytes.
 */
export function writeRewrittenRtp(out: Buffer, packet: Buffer, layout: RtpLayout, rewrite: RtpRewrite): number {
  let pos = 12;
  const ids = rewrite.extensionIds;
  const abs = rewrite.absSendTime;
  scanOneByte = abs === undefined || (abs.id >= 1 && abs.id <= 14);
  scanCount = 0;
  if (layout.extension && ids && ids.size > 0) {
    scanIds = ids;
    forEachExtension(packet, layout.extension, checkElement);
  }
  if (scanCount > 0 || abs) {
    scanOut = out;
    scanSource = packet;
    scanPos = 16;
    if (scanCount > 0) forEachExtension(packet, layout.extension!, writeElement);
    if (abs) {
      if (scanOneByte) out[scanPos++] = (abs.id << 4) | 2;
      else {
        out[scanPos++] = abs.id;
        out[scanPos++] = 3;
      }
      out[scanPos++] = (abs.value >> 16) & 0xff;
      out[scanPos++] = (abs.value >> 8) & 0xff;
      out[scanPos++] = abs.value & 0xff;
    }
    while ((scanPos - 16) % 4 !== 0) out[scanPos++] = 0;
    out.writeUInt16BE(scanOneByte ? 0xbede : 0x1000, 12);
    out.writeUInt16BE((scanPos - 16) / 4, 14);
    pos = scanPos;
    scanOut = scanSource = EMPTY;
  }
  scanIds = undefined;
  out[0] = 0x80 | (pos > 12 ? 0x10 : 0);
  out[1] = ((rewrite.marker ?? layout.marker) ? 0x80 : 0) | (rewrite.payloadType & 0x7f);
  out.writeUInt16BE(rewrite.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(rewrite.timestamp >>> 0, 4);
  out.writeUInt32BE(rewrite.ssrc >>> 0, 8);
  packet.copy(out, pos, layout.payloadOffset, layout.payloadOffset + layout.payloadLength);
  return pos + layout.payloadLength;
}
const EMPTY = Buffer.alloc(0);

/**
 * writeRewrittenRtp into a new buffer of its own, for callers that keep the result.
 */
export function rewriteRtp(packet: Buffer, info: RtpLayout, rewrite: RtpRewrite): Buffer {
  const out = Buffer.allocUnsafe(rewrittenRtpBound(packet, info));
  return out.subarray(0, writeRewrittenRtp(out, packet, info, rewrite));
}

/** A buffer with a fixed RTP header (no CSRCs) and the extension block written, room left for the payload. */
function allocWithHeader(fields: { payloadType: number; sequenceNumber: number; timestamp: number; ssrc: number; marker?: boolean }, extensionBlock: Buffer | undefined, payloadLength: number): Buffer {
  const extLength = extensionBlock?.length ?? 0;
  const out = Buffer.allocUnsafe(12 + extLength + payloadLength);
  out[0] = 0x80 | (extensionBlock ? 0x10 : 0);
  out[1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  out.writeUInt16BE(fields.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(fields.timestamp >>> 0, 4);
  out.writeUInt32BE(fields.ssrc >>> 0, 8);
  extensionBlock?.copy(out, 12);
  return out;
}

/** Signed distance from sequence number `a` to `b`, modulo 2^16. */
export function seqDelta(a: number, b: number): number {
  const d = (b - a) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}

/** Builds a minimal RTP packet; used by the silence generator, the headless client and tests. */
export function buildRtp(fields: { payloadType: number; sequenceNumber: number; timestamp: number; ssrc: number; marker?: boolean; payload: Uint8Array; extensions?: RtpHeaderExtension[] }): Buffer {
  const out = allocWithHeader(fields, encodeExtensionBlock(fields.extensions ?? []), fields.payload.length);
  out.set(fields.payload, out.length - fields.payload.length);
  return out;
}
