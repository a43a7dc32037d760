import type { Logger } from '../../logger.js';
import { newAudioOutput, OPUS_SILENCE_FRAME, silencePayload, skipAudioFrame, writeAudioPacket, type AudioOutput } from './opus-output.js';
import { readExtensionByte, RtpHeader } from '../rtp/rtp.js';
import { JitterBuffer } from './jitter-buffer.js';
import { RedPayload } from './red.js';
import { addInto, FRAME_SAMPLES, levelDbov, mixMinus } from './mix.js';
import type { OpusFrameDecoder, OpusFrameEncoder } from './opus-codec.js';
import { SpeakerSelector } from './speaker-selection.js';

/**
 * Server-side mix-minus for one meeting. Every 20 ms `tick()` takes one frame
 * from each attendee's jitter buffer, mixes the few loudest voices, and sends
 * each attendee the mix without its own voice. Attendees who are not in the
 * mix all receive one shared encode; only mixed speakers cost an encode each.
 * Attendees whose audio-level extension says they are quiet are not decoded.
 */

export interface MixerCodecs {
  createEncoder(): Promise<OpusFrameEncoder>;
  createDecoder(): Promise<OpusFrameDecoder>;
}

export interface MixerOptions {
  codecs: MixerCodecs;
  logger: Logger;
  maxSpeakers?: number;
  now?: () => number;
}

export interface AttendeeLevel {
  id: string;
  /** dBov of what this attendee sent in the last tick (127 = silence). */
  level: number;
  muted: boolean;
}

export interface TickReport {
  decodes: number;
  encodes: number;
  speakers: string[];
}

/** How an attendee's audio is negotiated: the Opus payload type both ways, and what else its offer allowed. */
export interface MemberAudio {
  payloadType: number;
  ssrc: number;
  audioLevelExtensionId?: number;
  redPayloadType?: number;
}

interface Member {
  id: string;
  send: (packet: Buffer) => void;
  output: AudioOutput;
  buffer: JitterBuffer<{ payload: Uint8Array; level?: number }>;
  decoder?: OpusFrameDecoder;
  muted: boolean;
  audioLevelExtensionId?: number;
  /** The payload type of audio/red (RFC 2198) when negotiated: its redundant frames fill losses. */
  redPayloadType?: number;
  /** The Opus payload type inside RED. */
  opusPayloadType: number;
  /** Frames missing when a later packet's redundancy carried them (lost, or later than it): not concealed. */
  recoveredFrames: number;
  /** RED packets received. */
  redundantPackets: number;
  /** Level of the most recent frame (dBov), from the extension or from decoding. */
  level: number;
  frame?: Int16Array;
  encoder?: OpusFrameEncoder;
  /** Consecutive ticks this attendee's mix has been silent (DTX). */
  silentTicks: number;
}

/** Room for the largest Opus packet (1275 bytes) after a 12-byte RTP header. */
const PACKET_BYTES = 12 + 1275;

/** Louder than this (dBov) by the audio-level extension: worth decoding. */
const DECODE_THRESHOLD_DBOV = 60;

export class AudioMixer {
  private readonly members = new Map<string, Member>();
  private readonly selector: SpeakerSelector;
  private readonly encoderPool: OpusFrameEncoder[] = [];
  private sharedEncoder: OpusFrameEncoder | undefined;
  private readonly acc = new Int32Array(FRAME_SAMPLES);
  private readonly scratch = new Int16Array(FRAME_SAMPLES);
  /** One packet buffer for every listener's packet of a tick (node-datachannel copies what it sends), and views of it by length. */
  private readonly packetOut = Buffer.allocUnsafe(PACKET_BYTES);
  private readonly packetViews: (Buffer | undefined)[] = new Array(PACKET_BYTES + 1);
  private readonly header = new RtpHeader();
  private readonly red = new RedPayload();
  private readonly now: () => number;
  private ready: Promise<void>;
  private closed = false;

  constructor(private readonly options: MixerOptions) {
    const maxSpeakers = options.maxSpeakers ?? 4;
    this.selector = new SpeakerSelector({ maxSpeakers });
    this.now = options.now ?? (() => performance.now());
    // Encoders are made ahead of time: a tick must never wait for one.
    this.ready = (async () => {
      this.sharedEncoder = await options.codecs.createEncoder();
      for (let i = 0; i < maxSpeakers + 1; i++) this.encoderPool.push(await options.codecs.createEncoder());
    })();
  }

  whenReady(): Promise<void> {
    return this.ready;
  }

  get size(): number {
    return this.members.size;
  }

  /**
   * Adds (or re-targets) an attendee's audio: what it sends arrives through onRtp, the
   * mix leaves through `send`. The packet handed to `send` is the mixer's reused buffer,
   * valid only during the call: send it (node-datachannel copies it) or copy it.
   */
  async addMember(id: string, out: MemberAudio, send: (packet: Buffer) => void): Promise<void> {
    const existing = this.members.get(id);
    if (existing) {
      existing.send = send;
      existing.output.payloadType = out.payloadType;
      existing.opusPayloadType = out.payloadType;
      existing.audioLevelExtensionId = out.audioLevelExtensionId;
      existing.redPayloadType = out.redPayloadType;
      return;
    }
    const member: Member = {
      id,
      send,
      output: newAudioOutput(out.payloadType, out.ssrc),
      buffer: new JitterBuffer({ targetDepth: 2, capacity: 25 }),
      muted: false,
      audioLevelExtensionId: out.audioLevelExtensionId,
      redPayloadType: out.redPayloadType,
      opusPayloadType: out.payloadType,
      recoveredFrames: 0,
      redundantPackets: 0,
      level: 127,
      silentTicks: 0,
    };
    this.members.set(id, member);
    const decoder = await this.options.codecs.createDecoder();
    if (this.closed || this.members.get(id) !== member) decoder.close();
    else member.decoder = decoder;
  }

  removeMember(id: string): void {
    const member = this.members.get(id);
    if (!member) return;
    this.members.delete(id);
    this.selector.remove(id);
    if (member.redPayloadType !== undefined) {
      this.options.logger.info('audio_redundancy', { participantId: id, redPackets: member.redundantPackets, recoveredFrames: member.recoveredFrames });
    }
    member.decoder?.close();
    if (member.encoder) this.encoderPool.push(member.encoder);
  }

  setMuted(id: string, muted: boolean): void {
    const member = this.members.get(id);
    if (!member) return;
    member.muted = muted;
    if (muted) {
      member.buffer.reset();
      member.level = 127;
      this.selector.remove(id);
    }
  }

  /** One RTP packet from an attendee's microphone. Malformed packets are dropped. */
  onRtp(id: string, packet: Buffer): void {
    const member = this.members.get(id);
    if (!member || member.muted) return;
    const info = this.header;
    if (!info.read(packet) || info.payloadLength === 0) return;
    let level: number | undefined;
    if (member.audioLevelExtensionId !== undefined) {
      const byte = readExtensionByte(packet, info, member.audioLevelExtensionId);
      if (byte >= 0) level = byte & 0x7f;
    }
    if (member.redPayloadType !== undefined && info.payloadType === member.redPayloadType) {
      this.onRedundantRtp(member, packet, level);
      return;
    }
    // A view, not a copy: node-datachannel gave this packet its own buffer.
    const payload = packet.subarray(info.payloadOffset, info.payloadOffset + info.payloadLength);
    member.buffer.push(info.sequenceNumber, { payload, level });
  }

  /** How much of this attendee's audio came as RED, and the frames its redundancy filled. */
  redundancy(id: string): { packets: number; recoveredFrames: number } {
    const member = this.members.get(id);
    return { packets: member?.redundantPackets ?? 0, recoveredFrames: member?.recoveredFrames ?? 0 };
  }

  /**
   * An RFC 2198 packet: its earlier frames go in first, where their own packets
   * were lost (the buffer ignores those it has or has played), then its own.
   */
  private onRedundantRtp(member: Member, packet: Buffer, level: number | undefined): void {
    const info = this.header;
    const red = this.red;
    member.redundantPackets++;
    if (!red.read(packet, info.payloadOffset, info.payloadLength, member.opusPayloadType) || red.primaryPayloadType !== member.opusPayloadType) return;
    for (let i = 0; i < red.count; i++) {
      const seq = (info.sequenceNumber - red.framesBack[i]!) & 0xffff;
      const block = packet.subarray(red.offsets[i]!, red.offsets[i]! + red.lengths[i]!);
      if (member.buffer.push(seq, { payload: block }) === 'accepted') member.recoveredFrames++;
    }
    if (red.primaryLength === 0) return;
    member.buffer.push(info.sequenceNumber, { payload: packet.subarray(red.primaryOffset, red.primaryOffset + red.primaryLength), level });
  }

  /** Levels of every attendee for AUDIO_METADATA. */
  levels(): AttendeeLevel[] {
    return [...this.members.values()].map((m) => ({ id: m.id, level: m.muted ? 127 : m.level, muted: m.muted }));
  }

  /** Produces and sends one 20 ms frame to every attendee. Never throws for one attendee's bad input. */
  tick(): TickReport {
    const now = this.now();
    let decodes = 0;
    let encodes = 0;
    for (const member of this.members.values()) {
      member.frame = undefined;
      if (member.muted) continue;
      const next = member.buffer.pop();
      if (next.kind === 'empty') {
        member.level = 127;
        continue;
      }
      const extLevel = next.kind === 'frame' ? next.payload.level : undefined;
      // Quiet by its own report and not a current speaker: skip the decode entirely.
      if (extLevel !== undefined && extLevel > DECODE_THRESHOLD_DBOV) {
        member.level = extLevel;
        this.selector.report(member.id, extLevel, now);
        continue;
      }
      if (!member.decoder) continue;
      if (next.kind === 'frame') {
        const result = member.decoder.decode(next.payload.payload);
        decodes++;
        if (!result.ok || result.pcm.length !== FRAME_SAMPLES) continue;
        member.frame = result.pcm;
      } else {
        member.frame = member.decoder.conceal();
        decodes++;
      }
      member.level = extLevel ?? levelDbov(member.frame);
      this.selector.report(member.id, member.level, now);
    }

    const speakers = this.selector.select(now);
    this.acc.fill(0);
    const mixed: Member[] = [];
    for (const id of speakers) {
      const member = this.members.get(id);
      if (member?.frame) {
        addInto(this.acc, member.frame);
        mixed.push(member);
      }
    }

    let shared: Uint8Array = OPUS_SILENCE_FRAME;
    if (mixed.length > 0 && this.sharedEncoder) {
      shared = this.sharedEncoder.encode(mixMinus(this.acc, undefined, this.scratch));
      encodes++;
    }
    for (const member of this.members.values()) {
      let payload = shared;
      if (mixed.includes(member)) {
        member.encoder ??= this.encoderPool.pop();
        if (member.encoder) {
          payload = mixed.length > 1 ? member.encoder.encode(mixMinus(this.acc, member.frame, this.scratch)) : OPUS_SILENCE_FRAME;
          if (mixed.length > 1) encodes++;
        }
      } else if (member.encoder) {
        this.encoderPool.push(member.encoder);
        member.encoder = undefined;
      }
      const length = this.nextPacket(member, payload);
      if (length === 0) continue;
      try {
        member.send(this.packetViews[length] ??= this.packetOut.subarray(0, length));
      } catch (error) {
        this.options.logger.debug('mixer_send_failed', { id: member.id, error });
      }
    }
    return { decodes, encodes, speakers: mixed.map((m) => m.id) };
  }

  /**
   * Sound goes out every tick. Silence goes out with DTX: a silence frame, then
   * a DTX frame every 400 ms, with the timestamp running on in between. That
   * keeps the stream and the client's connection-health statistics alive while
   * halving or better what the server sends, since most listeners hear silence
   * most of the time. The first packet after silence carries the marker bit.
   * Writes into packetOut and returns the packet's length; 0 when nothing goes out.
   */
  private nextPacket(member: Member, payload: Uint8Array): number {
    if (payload !== OPUS_SILENCE_FRAME) {
      const marker = member.silentTicks > 0;
      member.silentTicks = 0;
      return writeAudioPacket(this.packetOut, member.output, payload, marker);
    }
    const silent = silencePayload(member.silentTicks++, true);
    if (silent) return writeAudioPacket(this.packetOut, member.output, silent);
    skipAudioFrame(member.output);
    return 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.ready.then(() => {
      this.sharedEncoder?.close();
      for (const e of this.encoderPool) e.close();
      for (const m of this.members.values()) {
        m.decoder?.close();
        m.encoder?.close();
      }
      this.members.clear();
    });
  }
}
