import { codecOf, isCodec, VIDEO_CODECS, type VideoCodec } from '../video/codecs.js';
import type { AnswerPlan, ReceiveVideoSpec, SendVideoSpec } from './media-peer.js';
import { ABS_SEND_TIME_URI, AUDIO_LEVEL_URI, findCodec, MID_URI, REPAIRED_RID_URI, RID_URI, VIDEO_ORIENTATION_URI, type HeaderExtension, type MediaSection, type ParsedSdp, type RtpCodecDesc } from './sdp.js';

/**
 * Video header extensions the SFU negotiates on both legs and forwards, renumbered per subscriber.
 * Video orientation lets phones send unrotated frames; the rest describe one hop and are not forwarded.
 */
export const FORWARDED_VIDEO_EXTENSIONS = [VIDEO_ORIENTATION_URI];

function forwardedExtensions(section: MediaSection): HeaderExtension[] {
  return section.extensions.filter((e) => FORWARDED_VIDEO_EXTENSIONS.includes(e.uri));
}

/**
 * Extensions of a video m-section the server sends on: the forwarded ones, plus abs-send-time,
 * which the server stamps itself as each packet leaves. With it (and no transport-cc, which the
 * offer loses) the browser runs its receive-side estimator and reports the downlink with REMB.
 */
function sendingExtensions(section: MediaSection): HeaderExtension[] {
  return section.extensions.filter((e) => FORWARDED_VIDEO_EXTENSIONS.includes(e.uri) || e.uri === ABS_SEND_TIME_URI);
}

/**
 * Turns a client's offer plus what the meeting can give it into an AnswerPlan.
 * Pure: the caller decides which sources each video m-section should carry
 * (aligned with the offer's video m-sections, as the Chime client's
 * receive_stream_ids are); this decides how each m-section is answered, with
 * the Chime client's labels (`v_<mid>`).
 */

export interface PublishCandidate {
  mid: string;
  codec: VideoCodec;
  payloadType: number;
  extensions: HeaderExtension[];
  /** The client's primary SSRC on this m-section (RTCP feedback is addressed to it). */
  ssrc: number;
}

export interface PlannedSubscription {
  mid: string;
  /** The participant whose video this m-section carries. */
  publisherId: string;
  codec: VideoCodec;
  payloadType: number;
  extensions: HeaderExtension[];
}

export interface PlanInput {
  offer: ParsedSdp;
  /** One entry per video m-section: the publisher it should carry, or undefined for none. */
  receive: readonly (string | undefined)[];
  /** Whether the client may publish video now (capacity, capabilities, send_streams). */
  mayPublishVideo: boolean;
  /** The codecs the meeting forwards, in order of preference. */
  meetingCodecs: VideoCodec[];
  /** The codec a participant publishes in, or undefined when it publishes nothing. */
  sourceCodec: (publisherId: string) => VideoCodec | undefined;
  /** The SSRC this server sends on a given mid of this client (stable across renegotiations). */
  ssrcForMid: (mid: string) => number;
  audioSsrc: number;
}

/**
 * Why the answer refuses a camera the client offered to send:
 * - `not-allowed`: the meeting's video capacity, the attendee's capabilities, or no codec every participant decodes;
 * - `rid-simulcast`: the camera is sent as RID simulcast (`enableSimulcastForUnifiedPlanChromiumBasedBrowsers`),
 *   whose streams carry SSRCs no description lists, and libdatachannel drops RTP of unlisted SSRCs.
 */
export type PublishRefusal = 'not-allowed' | 'rid-simulcast';

export interface PlanResult {
  plan: AnswerPlan;
  publish?: PublishCandidate;
  /** The client offered video but may not publish it now (the answer refuses that m-section), and why. */
  publishRefusal?: PublishRefusal;
  subscriptions: PlannedSubscription[];
  /** Video codecs this client can receive, from its offer. */
  receivableCodecs: VideoCodec[];
}

export const AUDIO_STREAM_LABEL = 'chorus-audio';
export const AUDIO_TRACK_ID = 'chorus-mix';

function codecFor(section: MediaSection, codec: VideoCodec): RtpCodecDesc | undefined {
  return section.codecs.find((c) => isCodec(codec, c));
}

/** The video codecs a client can receive: those its first video m-section lists. */
export function receivableCodecs(offer: ParsedSdp): VideoCodec[] {
  const video = offer.sections.find((s) => s.kind === 'video');
  if (!video) return [];
  return VIDEO_CODECS.filter((codec) => codecFor(video, codec) !== undefined);
}

/**
 * The codec to publish in: the first one of the client's own preference (the
 * order of its m-section, which the SDK sets from setVideoCodecSendPreferences)
 * that every participant can receive.
 */
function preferredCodec(section: MediaSection, meetingCodecs: readonly VideoCodec[]): { codec: VideoCodec; desc: RtpCodecDesc } | undefined {
  for (const desc of section.codecs) {
    const codec = codecOf(desc);
    if (codec && meetingCodecs.includes(codec)) return { codec, desc };
  }
  return undefined;
}

/** Extensions an inactive video answer keeps, so that the camera's RID simulcast can be offered later. */
const SIMULCAST_EXTENSIONS = [MID_URI, RID_URI, REPAIRED_RID_URI];

/**
 * How to answer a refused m-section: inactive, with the first media codec the offer listed for it.
 * A video one keeps the MID and RID extensions the offer had. Chrome offers a later renegotiation only
 * the extensions the last answer kept, and a camera sent as RID simulcast without the RID extension
 * cannot be offered at all ("negotiates simulcast but does not negotiate the RID RTP header
 * extension"): the SDK would reconnect over it, forever. The camera's m-section is answered inactive
 * while it is off, and when it is refused as RID simulcast (which rejects the simulcast: Chrome keeps
 * one encoding and, inactive, sends nothing).
 */
function inactive(section: MediaSection, kind: 'audio' | 'video'): AnswerPlan['inactive'][number] {
  const codec = section.codecs.find((c) => c.name && !/^(rtx|red|ulpfec|flexfec-03|CN|telephone-event)$/i.test(c.name)) ?? section.codecs[0];
  const answer = { mid: section.mid, kind, payloadType: codec?.payloadType ?? (kind === 'audio' ? 111 : 96), codecName: codec?.name || (kind === 'audio' ? 'opus' : 'VP8') };
  const extensions = kind === 'video' ? section.extensions.filter((e) => SIMULCAST_EXTENSIONS.includes(e.uri)) : [];
  return extensions.length > 0 ? { ...answer, extensions } : answer;
}

/** The offer's audio/red whose blocks are all this Opus payload type (`a=fmtp:<red> 111/111`), if any. */
function redOver(section: MediaSection, opusPayloadType: number): number | undefined {
  const red = findCodec(section, 'red', (c) => c.clockRate === 48000 && (c.fmtp ?? '').split('/').every((pt) => Number(pt) === opusPayloadType));
  return red?.payloadType;
}

export function planAnswer(input: PlanInput): PlanResult {
  const plan: AnswerPlan = { sendVideos: [], receiveVideos: [], inactive: [] };
  const subscriptions: PlannedSubscription[] = [];
  let publish: PublishCandidate | undefined;
  let publishRefusal: PublishRefusal | undefined;
  let videoIndex = 0;
  let audioDone = false;

  for (const section of input.offer.sections) {
    if (section.kind === 'audio') {
      const opus = findCodec(section, 'opus', (c) => c.clockRate === 48000);
      if (!audioDone && opus && section.port !== 0 && section.direction !== 'inactive') {
        audioDone = true;
        plan.audio = {
          mid: section.mid,
          payloadType: opus.payloadType,
          ssrc: input.audioSsrc,
          streamLabel: AUDIO_STREAM_LABEL,
          trackId: AUDIO_TRACK_ID,
          audioLevelExtensionId: section.extensions.find((e) => e.uri === AUDIO_LEVEL_URI)?.id,
          redPayloadType: redOver(section, opus.payloadType),
        };
      } else if (section.port !== 0) {
        plan.inactive.push(inactive(section, 'audio'));
      }
      continue;
    }
    if (section.kind !== 'video') continue;
    const source = input.receive[videoIndex++];
    if (section.port === 0) continue;

    const sending = section.direction === 'sendrecv' || section.direction === 'sendonly';
    if (sending && !publish && section.ssrcs.length === 0 && section.sendRids.length > 0) {
      publishRefusal = 'rid-simulcast';
      plan.inactive.push(inactive(section, 'video'));
      continue;
    }
    if (sending && !publish && section.ssrcs.length > 0) {
      const chosen = preferredCodec(section, input.meetingCodecs);
      if (input.mayPublishVideo && chosen) {
        const rtx = new Set(section.rtxSsrcs.values());
        const primary = section.ssrcs.find((s) => !rtx.has(s)) ?? section.ssrcs[0]!;
        const extensions = forwardedExtensions(section);
        publish = { mid: section.mid, codec: chosen.codec, payloadType: chosen.desc.payloadType, ssrc: primary, extensions };
        const spec: ReceiveVideoSpec = { mid: section.mid, codec: chosen.codec, payloadType: chosen.desc.payloadType, fmtp: chosen.desc.fmtp, extensions };
        plan.receiveVideos.push(spec);
        continue;
      }
      publishRefusal = 'not-allowed';
      plan.inactive.push(inactive(section, 'video'));
      continue;
    }

    const wantsReceive = section.direction === 'recvonly' || section.direction === 'sendrecv';
    const codec = source !== undefined ? input.sourceCodec(source) : undefined;
    const desc = codec ? codecFor(section, codec) : undefined;
    if (wantsReceive && codec && desc) {
      const spec: SendVideoSpec = {
        mid: section.mid,
        codec,
        payloadType: desc.payloadType,
        fmtp: desc.fmtp,
        ssrc: input.ssrcForMid(section.mid),
        streamLabel: `v_${section.mid}`,
        trackId: `v_${section.mid}_track`,
        extensions: sendingExtensions(section),
      };
      plan.sendVideos.push(spec);
      subscriptions.push({ mid: section.mid, publisherId: source!, codec, payloadType: desc.payloadType, extensions: spec.extensions });
    } else {
      plan.inactive.push(inactive(section, 'video'));
    }
  }

  return { plan, publish, publishRefusal, subscriptions, receivableCodecs: receivableCodecs(input.offer) };
}
