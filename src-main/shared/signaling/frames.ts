/**
 * The boundary codec for Chime SDK signaling frames.
 *
 * Everything a WebSocket peer sends passes through decodeSignalFrame before the
 * server looks at it, so this is where hostile or corrupt input is turned into
 * a small closed set of error codes instead of exceptions. Outgoing frames go
 * through encodeSignalFrame so that every frame carries the two fields the
 * client's decoder insists on (`type` and `timestamp_ms`).
 *
 * This module runs in the renderer too: no Node built-ins, Uint8Array only.
 */
import { clone, create, fromBinary, isMessage, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { isReflectMessage, reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { FeatureSet_FieldPresence } from '@bufbuild/protobuf/wkt';
import {
  SdkPingPongType,
  SdkSignalFrame_Type,
  SdkSignalFrameSchema,
  type SdkAudioControlFrame,
  type SdkAudioMetadataFrameSchema,
  type SdkAudioStatusFrameSchema,
  type SdkAudioStreamIdInfoFrameSchema,
  type SdkBitrateFrameSchema,
  type SdkClientMetricFrame,
  type SdkDataMessageFrame,
  type SdkDataMessageFrameSchema,
  type SdkErrorFrameSchema,
  type SdkIndexFrameSchema,
  type SdkJoinAckFrameSchema,
  type SdkJoinFrame,
  type SdkLeaveFrame,
  type SdkNotificationFrameSchema,
  type SdkPauseResumeFrame,
  type SdkPingPongFrame,
  type SdkPrimaryMeetingJoinFrame,
  type SdkPrimaryMeetingLeaveFrame,
  type SdkRemoteVideoUpdateFrame,
  type SdkSignalFrame,
  type SdkSubscribeAckFrameSchema,
  type SdkSubscribeFrame,
} from './gen/chime_signaling_pb.js';

// One import site for everything signaling: callers need the enums and
// message types alongside the codec.
export * from './gen/chime_signaling_pb.js';

/** The byte in front of every protobuf frame; the client checks it. */
export const FRAME_PREFIX = 0x05;

/** An older prefix that the client still accepts, so we accept it as well. */
export const LEGACY_FRAME_PREFIX = 0x02;

/**
 * Upper bound on one incoming WebSocket message, prefix included.
 *
 * The largest legitimate frame is a SUBSCRIBE whose SDP offer has one m-line
 * per transceiver; Chromium lists every codec in each video m-line (roughly
 * 3 KB each), and a client receiving many videos can approach 64 KB. 256 KiB
 * leaves headroom for that while still bounding what a peer can make us parse.
 */
export const MAX_SIGNAL_FRAME_BYTES = 256 * 1024;

export type SignalDecodeErrorCode =
  | 'EMPTY'
  | 'TOO_LARGE'
  | 'BAD_PREFIX'
  | 'MALFORMED_PROTOBUF'
  | 'MISSING_FIELD'
  | 'UNKNOWN_TYPE'
  | 'PAYLOAD_MISMATCH';

export const SIGNAL_DECODE_ERROR_CODES: readonly SignalDecodeErrorCode[] = [
  'EMPTY',
  'TOO_LARGE',
  'BAD_PREFIX',
  'MALFORMED_PROTOBUF',
  'MISSING_FIELD',
  'UNKNOWN_TYPE',
  'PAYLOAD_MISMATCH',
];

export interface SignalDecodeError {
  readonly code: SignalDecodeErrorCode;
  /** For logs only: it may quote field names but never the peer's bytes. */
  readonly message: string;
}

// Each variant's payload property is named after its kind, so narrowing on
// `kind` tells the reader which property to use without a lookup table.
export interface JoinClientFrame { kind: 'join'; timestampMs: bigint; join: SdkJoinFrame }
export interface SubscribeClientFrame { kind: 'subscribe'; timestampMs: bigint; subscribe: SdkSubscribeFrame }
export interface LeaveClientFrame { kind: 'leave'; timestampMs: bigint; leave: SdkLeaveFrame }
export interface PauseClientFrame { kind: 'pause'; timestampMs: bigint; pause: SdkPauseResumeFrame }
export interface ResumeClientFrame { kind: 'resume'; timestampMs: bigint; resume: SdkPauseResumeFrame }
export interface AudioControlClientFrame { kind: 'audioControl'; timestampMs: bigint; audioControl: SdkAudioControlFrame }
export interface PingPongClientFrame { kind: 'pingPong'; timestampMs: bigint; pingPong: SdkPingPongFrame }
export interface ClientMetricClientFrame { kind: 'clientMetric'; timestampMs: bigint; clientMetric: SdkClientMetricFrame }
export interface DataMessageClientFrame { kind: 'dataMessage'; timestampMs: bigint; dataMessage: SdkDataMessageFrame }
export interface RemoteVideoUpdateClientFrame {
  kind: 'remoteVideoUpdate';
  timestampMs: bigint;
  remoteVideoUpdate: SdkRemoteVideoUpdateFrame;
}
export interface PrimaryMeetingJoinClientFrame {
  kind: 'primaryMeetingJoin';
  timestampMs: bigint;
  primaryMeetingJoin: SdkPrimaryMeetingJoinFrame;
}
export interface PrimaryMeetingLeaveClientFrame {
  kind: 'primaryMeetingLeave';
  timestampMs: bigint;
  primaryMeetingLeave: SdkPrimaryMeetingLeaveFrame;
}
/**
 * A well-formed frame of a known type that the server has no use for: the
 * client's MEETING_SESSION_TIMING telemetry, or a server-to-client type echoed
 * back by a confused peer. Kept distinct from errors so it can be dropped
 * quietly rather than logged as an attack.
 */
export interface IgnoredClientFrame { kind: 'ignored'; timestampMs: bigint; type: SdkSignalFrame_Type }

export type ClientFrame =
  | JoinClientFrame
  | SubscribeClientFrame
  | LeaveClientFrame
  | PauseClientFrame
  | ResumeClientFrame
  | AudioControlClientFrame
  | PingPongClientFrame
  | ClientMetricClientFrame
  | DataMessageClientFrame
  | RemoteVideoUpdateClientFrame
  | PrimaryMeetingJoinClientFrame
  | PrimaryMeetingLeaveClientFrame
  | IgnoredClientFrame;

export type ClientFrameKind = ClientFrame['kind'];

export type DecodeResult = { ok: true; frame: ClientFrame } | { ok: false; error: SignalDecodeError };

/** Init shape for a whole frame; `type` is mandatory, `timestampMs` is filled in. */
export type SignalFrameInit = MessageInitShape<typeof SdkSignalFrameSchema> & { type: SdkSignalFrame_Type };

/** For exhaustive switches over ClientFrame['kind'] and the frame-type enum. */
export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${String(x)}`);
}

/**
 * Encodes a frame as the client expects it: FRAME_PREFIX then the protobuf.
 *
 * Throws if a `required` field of a sub-message (e.g. ping_pong.ping_id) is
 * unset: that is a bug on our side, and the client would reject the frame.
 */
export function encodeSignalFrame(frame: SignalFrameInit | SdkSignalFrame): Uint8Array {
  // create() hands back a message argument as-is; clone it so that filling in
  // the timestamp never mutates the caller's object.
  const message = isMessage(frame, SdkSignalFrameSchema) ? clone(SdkSignalFrameSchema, frame) : create(SdkSignalFrameSchema, frame);
  if (!reflect(SdkSignalFrameSchema, message).isSet(SdkSignalFrameSchema.field.timestampMs)) {
    message.timestampMs = BigInt(Date.now());
  }
  const body = toBinary(SdkSignalFrameSchema, message);
  const out = new Uint8Array(body.length + 1);
  out[0] = FRAME_PREFIX;
  out.set(body, 1);
  return out;
}

/**
 * The `type` (field 2) of a prefixed frame, read from the wire without decoding
 * the frame: a client that receives hundreds of AUDIO_METADATA frames a second
 * can drop them for the cost of a few byte reads. It walks the top-level fields
 * in order, since field 1 (`timestamp_ms`, a varint of variable length) comes
 * first. Undefined for anything it cannot read. Never throws.
 */
export function peekSignalFrameType(bytes: Uint8Array): number | undefined {
  let i = 1;
  const readVarint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 64 && i < bytes.length; shift += 7) {
      const byte = bytes[i++]!;
      if (shift < 28) value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
    return undefined;
  };
  // Only varint fields precede `type` in our encoder and the SDK's; stop at anything else.
  while (i < bytes.length) {
    const key = readVarint();
    if (key === undefined || (key & 7) !== 0) return undefined;
    const value = readVarint();
    if (value === undefined) return undefined;
    if (key >>> 3 === 2) return value;
  }
  return undefined;
}

/** Decodes one WebSocket message from a client. Never throws. */
export function decodeSignalFrame(bytes: Uint8Array): DecodeResult {
  try {
    return decodeUnsafe(bytes);
  } catch (e) {
    // Only a bug in the checks below gets here (fromBinary's throws are
    // caught at the call), but a peer must never be able to crash the caller.
    return fail('MALFORMED_PROTOBUF', `unexpected decoder failure: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function decodeUnsafe(bytes: Uint8Array): DecodeResult {
  if (!(bytes instanceof Uint8Array)) return fail('MALFORMED_PROTOBUF', 'frame is not binary');
  if (bytes.length === 0) return fail('EMPTY', 'empty message');
  if (bytes.length > MAX_SIGNAL_FRAME_BYTES) {
    return fail('TOO_LARGE', `frame of ${bytes.length} bytes exceeds ${MAX_SIGNAL_FRAME_BYTES}`);
  }
  const prefix = bytes[0];
  if (prefix !== FRAME_PREFIX && prefix !== LEGACY_FRAME_PREFIX) {
    return fail('BAD_PREFIX', `unknown frame prefix 0x${(prefix ?? 0).toString(16).padStart(2, '0')}`);
  }
  // A prefix with nothing after it is an empty frame, not a protobuf missing
  // its fields: the distinction matters when diagnosing a broken peer.
  if (bytes.length === 1) return fail('EMPTY', 'frame prefix without a body');

  let message: SdkSignalFrame;
  try {
    message = fromBinary(SdkSignalFrameSchema, bytes.subarray(1));
  } catch (e) {
    return fail('MALFORMED_PROTOBUF', e instanceof Error ? e.message : 'undecodable protobuf');
  }

  const fields = SdkSignalFrameSchema.field;
  const r = reflect(SdkSignalFrameSchema, message);
  if (!r.isSet(fields.timestampMs)) return fail('MISSING_FIELD', 'SdkSignalFrame.timestamp_ms is required');
  if (!r.isSet(fields.type)) {
    // type is a closed enum, so an out-of-range number lands in the unknown
    // fields instead of being dropped; that is what tells it from absence.
    const typeNo = fields.type.number;
    return (message.$unknown ?? []).some((u) => u.no === typeNo)
      ? fail('UNKNOWN_TYPE', 'SdkSignalFrame.type is not a known frame type')
      : fail('MISSING_FIELD', 'SdkSignalFrame.type is required');
  }

  const frame = toClientFrame(message);
  if ('code' in frame) return { ok: false, error: frame };

  // Hold client frames to the client's own decoder, which rejects any frame
  // lacking a nested required field (e.g. ping_pong.ping_id), rather than
  // acting on a zero default the peer never sent.
  const missing = firstMissingRequired(r, 'SdkSignalFrame');
  if (missing !== undefined) return fail('MISSING_FIELD', `${missing} is required`);
  return { ok: true, frame };
}

function toClientFrame(m: SdkSignalFrame): ClientFrame | SignalDecodeError {
  const timestampMs = m.timestampMs;
  const T = SdkSignalFrame_Type;
  switch (m.type) {
    case T.JOIN:
      return m.join ? { kind: 'join', timestampMs, join: m.join } : mismatch(m.type, 'join');
    case T.SUBSCRIBE:
      return m.sub ? { kind: 'subscribe', timestampMs, subscribe: m.sub } : mismatch(m.type, 'sub');
    case T.LEAVE:
      return m.leave ? { kind: 'leave', timestampMs, leave: m.leave } : mismatch(m.type, 'leave');
    case T.PAUSE:
      return m.pause ? { kind: 'pause', timestampMs, pause: m.pause } : mismatch(m.type, 'pause');
    case T.RESUME:
      // RESUME has no field of its own: the client sends it in `pause` too.
      return m.pause ? { kind: 'resume', timestampMs, resume: m.pause } : mismatch(m.type, 'pause');
    case T.AUDIO_CONTROL:
      return m.audioControl
        ? { kind: 'audioControl', timestampMs, audioControl: m.audioControl }
        : mismatch(m.type, 'audio_control');
    case T.PING_PONG:
      return m.pingPong ? { kind: 'pingPong', timestampMs, pingPong: m.pingPong } : mismatch(m.type, 'ping_pong');
    case T.CLIENT_METRIC:
      return m.clientMetric
        ? { kind: 'clientMetric', timestampMs, clientMetric: m.clientMetric }
        : mismatch(m.type, 'client_metric');
    case T.DATA_MESSAGE:
      return m.dataMessage
        ? { kind: 'dataMessage', timestampMs, dataMessage: m.dataMessage }
        : mismatch(m.type, 'data_message');
    case T.REMOTE_VIDEO_UPDATE:
      return m.remoteVideoUpdate
        ? { kind: 'remoteVideoUpdate', timestampMs, remoteVideoUpdate: m.remoteVideoUpdate }
        : mismatch(m.type, 'remote_video_update');
    case T.PRIMARY_MEETING_JOIN:
      return m.primaryMeetingJoin
        ? { kind: 'primaryMeetingJoin', timestampMs, primaryMeetingJoin: m.primaryMeetingJoin }
        : mismatch(m.type, 'primary_meeting_join');
    case T.PRIMARY_MEETING_LEAVE:
      return m.primaryMeetingLeave
        ? { kind: 'primaryMeetingLeave', timestampMs, primaryMeetingLeave: m.primaryMeetingLeave }
        : mismatch(m.type, 'primary_meeting_leave');
    case T.MEETING_SESSION_TIMING:
    case T.JOIN_ACK:
    case T.SUBSCRIBE_ACK:
    case T.INDEX:
    case T.LEAVE_ACK:
    case T.BITRATES:
    case T.AUDIO_METADATA:
    case T.AUDIO_STREAM_ID_INFO:
    case T.AUDIO_STATUS:
    case T.PRIMARY_MEETING_JOIN_ACK:
    case T.NOTIFICATION:
      return { kind: 'ignored', timestampMs, type: m.type };
    default:
      // Listing every type above makes adding one to the schema a compile
      // error here until someone decides how the server treats it.
      return assertNever(m.type);
  }
}

/** Path of the first unset `required` field in the tree, if any. */
function firstMissingRequired(msg: ReflectMessage, path: string): string | undefined {
  for (const field of msg.fields) {
    const here = `${path}.${field.name}`;
    if (field.fieldKind === 'message') {
      if (msg.isSet(field)) {
        const found = firstMissingRequired(msg.get(field), here);
        if (found !== undefined) return found;
      } else if (field.presence === FeatureSet_FieldPresence.LEGACY_REQUIRED) {
        return here;
      }
    } else if (field.fieldKind === 'list') {
      if (field.listKind !== 'message') continue;
      let i = 0;
      for (const item of msg.get(field)) {
        const found = isReflectMessage(item) ? firstMissingRequired(item, `${here}[${i}]`) : undefined;
        if (found !== undefined) return found;
        i++;
      }
    } else if (field.fieldKind !== 'map' && field.presence === FeatureSet_FieldPresence.LEGACY_REQUIRED && !msg.isSet(field)) {
      return here;
    }
  }
  return undefined;
}

function fail(code: SignalDecodeErrorCode, message: string): DecodeResult & { ok: false } {
  return { ok: false, error: { code, message } };
}

function mismatch(type: SdkSignalFrame_Type, field: string): SignalDecodeError {
  return { code: 'PAYLOAD_MISMATCH', message: `${SdkSignalFrame_Type[type]} frame without its ${field} sub-message` };
}

type Init<Desc extends DescMessage> = MessageInitShape<Desc>;

/**
 * Typed builders for the frames the server sends, each returning encoded
 * bytes ready for ws.send(). Pairing the type with its field here means no
 * caller can send, say, an INDEX type with a JOIN_ACK payload.
 */
export const serverFrame = {
  joinAck: (joinack: Init<typeof SdkJoinAckFrameSchema>): Uint8Array =>
    encodeSignalFrame({ type: SdkSignalFrame_Type.JOIN_ACK, joinack }),
  index: (index: Init<typeof SdkIndexFrameSchema>): Uint8Array =>
    encodeSignalFrame({ type: SdkSignalFrame_Type.INDEX, index }),
  subscribeAck: (suback: Init<typeof SdkSubscribeAckFrameSchema>): Uint8Array =>
    encodeSignalFrame({ type: SdkSignalFrame_Type.SUBSCRIBE_ACK, suback }),
  leaveAck: (): Uint8Array => encodeSignalFrame({ type: SdkSignalFrame_Type.LEAVE_ACK, leaveAck: {} }),
  pong: (pingId: number): Uint8Array =>
    encodeSignalFrame({ type: SdkSignalFrame_Type.PING_PONG, pingPong: { type: SdkPingPongType.PONG, pingId } }),
  audioStatus: (audioStatus: Init<typeof SdkAudioStatusFrameSchema>): Uint8Array =>
    encodeSignalFrame({ type: SdkSignalFrame_Type.AUDIO_STATUS, audioStatus }),
  audioStreamIdInfo: (audioStreamIdInfo: Init<typeof SdkAudioStreamIdInfoFrameSchema>): Uint8Array =>
    encodeSignalFrame({ type: SdkSignalFrame_Type.AUDIO_STREAM_ID_INFO, audioStreamIdInfo }),
  audioMetadata: (audioMetadata: Init<typeof SdkAudioMetadataFrameSchema>): Uint8Array =>
    encodeSignalFrame({ type: SdkSignalFrame_Type.AUDIO_METADATA, audioMetadata }),
  dataMessage: (dataMessage: Init<typeof SdkDataMessageFrameSchema>): Uint8Array =>
    encodeSignalFrame({ type: SdkSignalFrame_Type.DATA_MESSAGE, dataMessage }),
  /** Server-side PAUSE/RESUME name whole groups (publications); the client pauses or resumes those tiles. */
  pauseGroups: (groupIds: number[]): Uint8Array => encodeSignalFrame({ type: SdkSignalFrame_Type.PAUSE, pause: { groupIds } }),
  resumeGroups: (groupIds: number[]): Uint8Array => encodeSignalFrame({ type: SdkSignalFrame_Type.RESUME, pause: { groupIds } }),
  bitrates: (bitrates: Init<typeof SdkBitrateFrameSchema>): Uint8Array =>
    encodeSignalFrame({ type: SdkSignalFrame_Type.BITRATES, bitrates }),
  notification: (notification: Init<typeof SdkNotificationFrameSchema>): Uint8Array =>
    encodeSignalFrame({ type: SdkSignalFrame_Type.NOTIFICATION, notification }),
  primaryMeetingJoinAck: (): Uint8Array =>
    encodeSignalFrame({ type: SdkSignalFrame_Type.PRIMARY_MEETING_JOIN_ACK, primaryMeetingJoinAck: {} }),
  /**
   * There is no ERROR frame type: the client checks `error.status` on every
   * frame it receives, so the caller picks the frame type the error rides on.
   */
  error: (type: SdkSignalFrame_Type, error: Init<typeof SdkErrorFrameSchema>): Uint8Array =>
    encodeSignalFrame({ type, error }),
} as const;
