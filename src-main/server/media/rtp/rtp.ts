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

export function parseRtp(packet: Buffer): RtpPacketInfo | undefined {
  if (packet.length < 12) return undefined;
  const b0 = packet[0]!;
  if (b0 >> 6 !== 2) return undefined;
  if (isRtcpPacket(packet)) return undefined;
  const hasPadding = (b0 & 0x20) !== 0;
  const hasExtension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let offset = 12 + csrcCount * 4;
  if (offset > packet.length) return undefined;
  let extension: RtpPacketInfo['extension'];
  if (hasExtension) {
    if (offset + 4 > packet.length) return undefined;
    const profile = packet.readUInt16BE(offset);
    const words = packet.readUInt16BE(offset + 2);
    const length = 4 + words * 4;
    if (offset + length > packet.length) return undefined;
    extension = { offset, length, profile };
    offset += length;
  }
  let paddingLength = 0;
  if (hasPadding) {
    if (packet.length === offset) return undefined;
    paddingLength = packet[packet.length - 1]!;
    if (paddingLength === 0 || offset + paddingLength > packet.length) return undefined;
  }
  return {
    marker: (packet[1]! & 0x80) !== 0,
    payloadType: packet[1]! & 0x7f,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payloadOffset: offset,
    payloadLength: packet.length - offset - paddingLength,
    paddingLength,
    csrcCount,
    extension,
  };
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
}

/**
 * Builds the packet a subscriber receives: new SSRC, payload type, sequence number
 * and timestamp, extensions renumbered to the subscriber's negotiated ids, CSRCs
 * and padding removed. Returns a new buffer; the input is left untouched because
 * the same packet goes to several subscribers.
 */
export function rewriteRtp(packet: Buffer, info: RtpPacketInfo, rewrite: RtpRewrite): Buffer {
  let extensionBlock: Buffer | undefined;
  if (info.extension && rewrite.extensionIds && rewrite.extensionIds.size > 0) {
    const mapped: RtpHeaderExtension[] = [];
    for (const element of readHeaderExtensions(packet, info)) {
      const id = rewrite.extensionIds.get(element.id);
      if (id !== undefined) mapped.push({ id, data: element.data });
    }
    extensionBlock = encodeExtensionBlock(mapped);
  }
  const out = allocWithHeader({ ...rewrite, marker: info.marker }, extensionBlock, info.payloadLength);
  packet.copy(out, out.length - info.payloadLength, info.payloadOffset, info.payloadOffset + info.payloadLength);
  return out;
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
