import { Application, Bandwidth, createDecoder, createEncoder, isOpusError, loadLibopus, type OpusDecoderHandle, type OpusEncoderHandle } from 'libopus-wasm';
import { FRAME_SAMPLES, SAMPLE_RATE } from './mix.js';

/**
 * The mixer's only view of Opus: 16 kHz mono, 20 ms frames. Behind it is
 * libopus-wasm (libopus 1.6 in WebAssembly): the same code on every OS and in
 * Electron, and unlike the faster native package it offers loss concealment
 * and in-band FEC, which the jitter buffer's losses need.
 */

export interface OpusFrameEncoder {
  /** Encodes one 20 ms frame of 16 kHz mono PCM. */
  encode(pcm: Int16Array): Uint8Array;
  close(): void;
}

export type DecodeOutcome = { ok: true; pcm: Int16Array } | { ok: false; reason: 'corrupt' };

export interface OpusFrameDecoder {
  /** Decodes one packet to 16 kHz mono; a corrupt packet is reported, never thrown. */
  decode(packet: Uint8Array): DecodeOutcome;
  /** 20 ms of concealment for a lost packet, using FEC from `next` when it carries some. */
  conceal(next?: Uint8Array): Int16Array;
  close(): void;
}

export interface EncoderSettings {
  bitrate?: number;
  complexity?: number;
  fec?: boolean;
}

/**
 * Compiles the Opus WebAssembly once, up front. Otherwise the first meeting's first join pays
 * for it on the event loop, while that join's ICE and DTLS handshakes are in flight.
 */
export async function warmUpOpus(): Promise<string> {
  return (await loadLibopus()).version;
}

export async function createOpusEncoder(settings: EncoderSettings = {}): Promise<OpusFrameEncoder> {
  const encoder: OpusEncoderHandle = await createEncoder({
    channels: 1,
    sampleRate: SAMPLE_RATE,
    application: Application.Voip,
    bitrate: settings.bitrate ?? 24_000,
    complexity: settings.complexity ?? 9,
    fec: settings.fec ?? true,
    packetLossPercent: 5,
    maxBandwidth: Bandwidth.Wideband,
    frameSize: FRAME_SAMPLES,
  });
  let closed = false;
  return {
    encode: (pcm) => encoder.encode(pcm, { frameSize: FRAME_SAMPLES }),
    close: () => {
      if (!closed) encoder.free();
      closed = true;
    },
  };
}

export async function createOpusDecoder(): Promise<OpusFrameDecoder> {
  const decoder: OpusDecoderHandle = await createDecoder({ channels: 1, sampleRate: SAMPLE_RATE });
  let closed = false;
  return {
    decode(packet) {
      // Whatever a peer sends must degrade only its own voice: libopus errors and the
      // binding's argument checks (an empty packet is a RangeError) alike mean "corrupt".
      if (packet.length === 0) return { ok: false, reason: 'corrupt' };
      try {
        return { ok: true, pcm: decoder.decode(packet) };
      } catch (error) {
        if (isOpusError(error) || error instanceof RangeError) return { ok: false, reason: 'corrupt' };
        throw error;
      }
    },
    conceal(next) {
      if (next && next.length > 0) {
        try {
          return decoder.decode(next, { decodeFec: true, frameSize: FRAME_SAMPLES });
        } catch (error) {
          if (!isOpusError(error) && !(error instanceof RangeError)) throw error;
        }
      }
      return decoder.decodePacketLoss(FRAME_SAMPLES);
    },
    close: () => {
      if (!closed) decoder.free();
      closed = true;
    },
  };
}
