
/**
 * What the mixer sends each listener: Opus packets with per-listener sequence
 * numbers and timestamps, and the silence/DTX rule shared with the clients
 * that play browsers in tests and benchmarks.
 */

/** An Opus packet (TOC 0xF8: CELT-only, fullband, 20 ms, one frame) that decodes to silence. */
export const OPUS_SILENCE_FRAME = Buffer.from([0xf8, 0xff, 0xfe]);
/**
 * An Opus DTX frame: the same TOC (CELT, 20 ms, mono) with no frame data. A
 * decoder treats it as "nothing to play" (WebRTC's NetEq recognises packets of
 * at most 2 bytes as DTX, so the gaps between them are not counted as loss).
 */
export const OPUS_DTX_FRAME = Buffer.from([0xf8]);
/** During silence with DTX, one packet every this many 20 ms frames (400 ms, as libopus does). */
export const DTX_INTERVAL_FRAMES = 20;

/**
 * What to send for frame `silentRun` of a silence (0 = its first silent frame):
 * without DTX a silence frame every time; with DTX a silence frame first, then
 * a DTX frame every 400 ms, and nothing (undefined) in between. The one rule
 * for the mixer's output and for the test and benchmark clients that play browsers.
 */
export function silencePayload(silentRun: number, dtx: boolean): Buffer | undefined {
  if (!dtx || silentRun === 0) return OPUS_SILENCE_FRAME;
  return silentRun % DTX_INTERVAL_FRAMES === 0 ? OPUS_DTX_FRAME : undefined;
}
export const OPUS_FRAME_MS = 20;
/** RTP timestamp step for 20 ms at Opus's 48 kHz RTP clock, whatever the coded rate. */
export const OPUS_TIMESTAMP_STEP = 960;

export interface AudioOutput {
  payloadType: number;
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
}

export function newAudioOutput(payloadType: number, ssrc: number): AudioOutput {
  return { payloadType, ssrc, sequenceNumber: Math.floor(Math.random() * 0x8000), timestamp: Math.floor(Math.random() * 0x7fffffff) };
}

/**
 * Writes the next packet of `output` into `out` (12 + payload bytes) and returns
 * its length, advancing the sequence number and timestamp. `marker` starts a
 * talkspurt. The mixer writes every listener's packet into one reused buffer
 * (node-datachannel copies what it sends), so a tick allocates no packets.
 */
export function writeAudioPacket(out: Buffer, output: AudioOutput, payload: Uint8Array, marker = false): number {
  out[0] = 0x80;
  out[1] = (marker ? 0x80 : 0) | (output.payloadType & 0x7f);
  out.writeUInt16BE(output.sequenceNumber, 2);
  out.writeUInt32BE(output.timestamp >>> 0, 4);
  out.writeUInt32BE(output.ssrc >>> 0, 8);
  out.set(payload, 12);
  output.sequenceNumber = (output.sequenceNumber + 1) & 0xffff;
  output.timestamp = (output.timestamp + OPUS_TIMESTAMP_STEP) >>> 0;
  return 12 + payload.length;
}

/** writeAudioPacket into a buffer of its own, for callers that keep the packet. */
export function nextAudioPacket(output: AudioOutput, payload: Uint8Array, marker = false): Buffer {
  const packet = Buffer.allocUnsafe(12 + payload.length);
  writeAudioPacket(packet, output, payload, marker);
  return packet;
}

/** A 20 ms frame not sent (discontinuous transmission): the timestamp moves on, the sequence number does not. */
export function skipAudioFrame(output: AudioOutput): void {
  output.timestamp = (output.timestamp + OPUS_TIMESTAMP_STEP) >>> 0;
}
