import { ScalarType, create, fromBinary, isFieldSet, toBinary, toJson, type DescField, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { FeatureSet_FieldPresence } from '@bufbuild/protobuf/wkt';
import { SdkSignalFrame as Theirs, type ISdkSignalFrame } from 'amazon-chime-sdk-js/build/signalingprotocol/SignalingProtocol.js';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  FRAME_PREFIX,
  LEGACY_FRAME_PREFIX,
  MAX_SIGNAL_FRAME_BYTES,
  SIGNAL_DECODE_ERROR_CODES,
  SdkJoinFlags,
  SdkMetric_Type,
  SdkNotificationFrame_NotificationLevel as Level,
  SdkPingPongType,
  SdkServerSideNetworkAdaption as Adaption,
  SdkSignalFrame_Type as T,
  SdkSignalFrameSchema,
  SdkStreamDimension_Type,
  SdkStreamMediaType,
  SdkStreamServiceType,
  SdkVideoCodecCapability,
  SdkVideoQualityAdaptationPreference,
  assertNever,
  decodeSignalFrame,
  encodeSignalFrame,
  file_chime_signaling,
  serverFrame,
  type ClientFrame,
  type DecodeResult,
  type SignalDecodeErrorCode,
  type SignalFrameInit,
} from '../../src-main/shared/signaling/frames.js';
import { prng } from '../helpers/prng.js';

// --- helpers ---------------------------------------------------------------

function prefixed(body: Uint8Array, prefix = FRAME_PREFIX): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = prefix;
  out.set(body, 1);
  return out;
}

/** The client's own view of a frame, in a form comparable with proto JSON. */
function theirView(body: Uint8Array): unknown {
  // protobufjs in the client runs without Long, so 64-bit fields come back as
  // JS numbers; `longs: String` then prints them the way proto JSON does.
  return Theirs.toObject(Theirs.decode(body), { enums: String, longs: String, bytes: String, json: true });
}

function ourView(body: Uint8Array): JsonValue {
  return toJson(SdkSignalFrameSchema, fromBinary(SdkSignalFrameSchema, body));
}

function theirEncode(frame: ISdkSignalFrame): Uint8Array {
  return prefixed(Theirs.encode(Theirs.create(frame)).finish());
}

function expectError(result: DecodeResult, code: SignalDecodeErrorCode): void {
  expect(result.ok ? `ok:${result.frame.kind}` : result.error.code).toBe(code);
}

function decodeOk(bytes: Uint8Array): ClientFrame {
  const result = decodeSignalFrame(bytes);
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`);
  return result.frame;
}

const TS = 1_700_000_000_123n;
const sdpOffer = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=rtpmap:111 opus/48000/2',
  // Non-ASCII proves both sides agree on UTF-8 for string fields.
  'a=x-note:caf\u00e9 \u{1F600}',
  '',
].join('\r\n');
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);

// --- fixtures: written in our init form ----------------------------------

const ourFixtures: Record<string, SignalFrameInit> = {
  join: {
    type: T.JOIN,
    timestampMs: TS,
    join: {
      protocolVersion: 2,
      maxNumOfVideos: 25,
      flags: SdkJoinFlags.HAS_STREAM_UPDATE | SdkJoinFlags.COMPLETE_VIDEO_SOURCES_LIST,
      clientDetails: {
        appName: 'chorus',
        appVersion: '0.1.0',
        deviceModel: 'X11',
        deviceMake: 'Linux',
        platformName: 'Chrome',
        platformVersion: '131',
        clientSource: 'amazon-chime-sdk-js',
        chimeSdkVersion: '3.32.0',
        clientUtcOffset: '+01:00',
        osName: 'Linux',
        osVersion: '6.1',
      },
      audioSessionId: 3_141_592_653_589n,
      // An explicit false must survive: proto2 presence is part of the wire.
      wantsCompressedSdp: false,
      serverSideNetworkAdaption: Adaption.BANDWIDTH_PROBING,
      supportedServerSideNetworkAdaptions: [Adaption.BANDWIDTH_PROBING, Adaption.BANDWIDTH_PROBING_AND_VIDEO_QUALITY_ADAPTION],
      wantsAllTemporalLayersInIndex: true,
      disablePeriodicKeyframeRequestOnContentSender: true,
    },
  },
  subscribe: {
    type: T.SUBSCRIBE,
    timestampMs: TS,
    sub: {
      duplex: SdkStreamServiceType.DUPLEX,
      sendStreams: [
        { mediaType: SdkStreamMediaType.AUDIO, trackLabel: 'AmazonChimeExpressAudio', streamId: 1, groupId: 1 },
        { mediaType: SdkStreamMediaType.VIDEO, trackLabel: 'cam', maxBitrateKbps: 1400, framerate: 15, width: 1280, height: 720, avgBitrateBps: 0 },
      ],
      receiveStreamIds: [2, 5, 7],
      sdpOffer,
      audioHost: 'chorus.local:8443',
      audioCheckin: false,
      audioMuted: true,
      videoSubscriptionConfiguration: [
        { mid: '1', attendeeId: 'att-2', streamId: 2, groupId: 3, priority: 1, targetBitrateKbps: 600, qualityAdaptationPreference: SdkVideoQualityAdaptationPreference.MAINTAIN_FRAMERATE },
      ],
    },
  },
  subscribeAck: {
    type: T.SUBSCRIBE_ACK,
    timestampMs: TS,
    suback: {
      duplex: SdkStreamServiceType.DUPLEX,
      allocations: [
        { trackLabel: 'AmazonChimeExpressAudio', streamId: 11, groupId: 4 },
        { trackLabel: 'cam', streamId: 12, groupId: 5 },
      ],
      sdpAnswer: sdpOffer.replace('a=group', 'a=setup:passive\r\na=group'),
      // ssrc is uint32: a value above 2^31 checks no side treats it as signed.
      tracks: [{ streamId: 2, ssrc: 0xfffffff0, trackLabel: 'v_1' }],
    },
  },
  index: {
    type: T.INDEX,
    timestampMs: TS,
    index: {
      atCapacity: true,
      sources: [
        { streamId: 2, groupId: 3, attendeeId: 'att-2', externalUserId: 'bob', mediaType: SdkStreamMediaType.VIDEO, maxBitrateKbps: 1400, avgBitrateBps: 512_000, framerate: 15, width: 1280, height: 720 },
        { streamId: 4, groupId: 5, attendeeId: 'att-3', externalUserId: 'carol', mediaType: SdkStreamMediaType.VIDEO, maxBitrateKbps: 600 },
        { streamId: 6, groupId: 7, attendeeId: 'att-3#content', externalUserId: 'carol#content', mediaType: SdkStreamMediaType.VIDEO },
      ],
      pausedAtSourceIds: [4],
      numParticipants: 3,
      supportedReceiveCodecIntersection: [SdkVideoCodecCapability.VP8, SdkVideoCodecCapability.H264_CONSTRAINED_BASELINE_PROFILE, SdkVideoCodecCapability.AV1_MAIN_PROFILE],
    },
  },
  audioStreamIdInfo: {
    type: T.AUDIO_STREAM_ID_INFO,
    timestampMs: TS,
    audioStreamIdInfo: {
      streams: [
        { audioStreamId: 1, attendeeId: 'att-1', externalUserId: 'alice' },
        { audioStreamId: 2, muted: true },
        { audioStreamId: 3, dropped: true },
        { audioStreamId: 4 },
      ],
    },
  },
  audioMetadata: {
    type: T.AUDIO_METADATA,
    timestampMs: TS,
    audioMetadata: {
      attendeeStates: [
        { audioStreamId: 1, volume: 20, signalStrength: 2 },
        { audioStreamId: 2, volume: 42, muted: true, signalStrength: 0 },
      ],
    },
  },
  dataMessage: {
    type: T.DATA_MESSAGE,
    timestampMs: TS,
    dataMessage: {
      messages: [
        // 1.7e18 is exactly representable as a double; see the precision test.
        { topic: 'chat', data: allBytes, lifetimeMs: 300_000, senderAttendeeId: 'att-1', senderExternalUserId: 'alice', ingestTimeNs: 1_700_000_000_000_000_000n },
        { topic: 'empty-payload', data: new Uint8Array(0), ingestTimeNs: 0n },
      ],
    },
  },
  pong: { type: T.PING_PONG, timestampMs: TS, pingPong: { type: SdkPingPongType.PONG, pingId: 42 } },
  audioStatus: { type: T.AUDIO_STATUS, timestampMs: TS, audioStatus: { audioStatus: 200 } },
  joinAck: {
    type: T.JOIN_ACK,
    timestampMs: TS,
    joinack: {
      turnCredentials: { username: '1700000000:att-1', password: 'p@ss/w=rd', ttl: 86_400, uris: ['turn:10.0.0.2:3478?transport=udp', 'turns:chorus.local:443?transport=tcp'] },
      videoSubscriptionLimit: 25,
      wantsCompressedSdp: false,
      defaultServerSideNetworkAdaption: Adaption.NONE,
    },
  },
  joinAckWithError: { type: T.JOIN_ACK, timestampMs: TS, error: { status: 403, description: 'forbidden' }, joinack: {} },
  bitrates: {
    type: T.BITRATES,
    timestampMs: TS,
    bitrates: { bitrates: [{ sourceStreamId: 2, avgBitrateBps: 500_000 }, { sourceStreamId: 4, avgBitrateBps: 0 }], serverAvailableOutgoingBitrate: 2_500 },
  },
  leave: { type: T.LEAVE, timestampMs: TS, leave: {} },
  leaveAck: { type: T.LEAVE_ACK, timestampMs: TS, leaveAck: {} },
  notification: { type: T.NOTIFICATION, timestampMs: TS, notification: { level: Level.WARNING, message: 'meeting ends in 5 minutes' } },
  clientMetric: {
    type: T.CLIENT_METRIC,
    timestampMs: TS,
    clientMetric: {
      globalMetrics: [{ type: SdkMetric_Type.STUN_RTT_MS, value: 12.5 }],
      streamMetricFrames: [{
        streamId: 12,
        groupId: 5,
        mediaType: SdkStreamMediaType.VIDEO,
        metrics: [{ type: SdkMetric_Type.VIDEO_SENT_BITRATE, value: 812_345.25 }],
        dimensions: [
          { type: SdkStreamDimension_Type.VIDEO_ENCODER_NAME, value: { stringValue: 'libvpx' } },
          { type: SdkStreamDimension_Type.VIDEO_PROCESSOR_NAME, value: { uintValue: 5n, boolValue: true } },
        ],
      }],
    },
  },
  meetingSessionTiming: {
    type: T.MEETING_SESSION_TIMING,
    timestampMs: TS,
    meetingSessionTiming: {
      signaling: [{ startMs: 1_700_000_000_000n, joinSentMs: 1_700_000_000_010n, subscribeAckMs: 1_700_000_000_900n, timedOut: false }],
      remoteVideos: [{ groupId: 3, addedMs: 1_700_000_001_000n, removed: true }],
    },
  },
};

const ourEncoded: Record<string, Uint8Array> = Object.fromEntries(
  Object.entries(ourFixtures).map(([name, init]) => [name, encodeSignalFrame(init)]),
);

// --- fixtures: written the way the client builds them --------------------

const F = Theirs.Type;
const theirFixtures: Record<string, [ClientFrame['kind'], ISdkSignalFrame]> = {
  join: ['join', {
    timestampMs: 1_700_000_000_456,
    type: F.JOIN,
    join: {
      protocolVersion: 2,
      maxNumOfVideos: 8,
      flags: 2 | 16,
      clientDetails: { appName: 'demo', chimeSdkVersion: '3.32.0', platformName: 'Firefox', clientUtcOffset: '-05:00' },
      audioSessionId: 987_654_321,
      wantsCompressedSdp: true,
      serverSideNetworkAdaption: 3,
      supportedServerSideNetworkAdaptions: [3, 4],
    },
  }],
  subscribe: ['subscribe', {
    timestampMs: 1_700_000_000_456,
    type: F.SUBSCRIBE,
    sub: {
      duplex: 3,
      sendStreams: [{ mediaType: 1, trackLabel: 'AmazonChimeExpressAudio', streamId: 1, groupId: 1 }],
      receiveStreamIds: [2, 4],
      sdpOffer,
      audioHost: 'chorus.local:8443',
      audioMuted: false,
      audioCheckin: false,
      videoSubscriptionConfiguration: [{ mid: '2', attendeeId: 'att-2', streamId: 2, groupId: 3, priority: 2, targetBitrateKbps: 300 }],
    },
  }],
  leave: ['leave', { timestampMs: 1, type: F.LEAVE, leave: {} }],
  pause: ['pause', { timestampMs: 1, type: F.PAUSE, pause: { streamIds: [2, 4] } }],
  resume: ['resume', { timestampMs: 1, type: F.RESUME, pause: { streamIds: [2], groupIds: [3] } }],
  audioControl: ['audioControl', { timestampMs: 1, type: F.AUDIO_CONTROL, audioControl: { muted: true } }],
  ping: ['pingPong', { timestampMs: 1, type: F.PING_PONG, pingPong: { type: 1, pingId: 4_294_967_295 } }],
  clientMetric: ['clientMetric', {
    timestampMs: 1,
    type: F.CLIENT_METRIC,
    clientMetric: { globalMetrics: [{ type: 7, value: 0.1 }], streamMetricFrames: [{ streamId: 1, metrics: [{ type: 9, value: 3 }], dimensions: [{ type: 2, value: { uintValue: 7 } }] }] },
  }],
  dataMessage: ['dataMessage', { timestampMs: 1, type: F.DATA_MESSAGE, dataMessage: { messages: [{ topic: 'chat', data: allBytes, lifetimeMs: 0 }] } }],
  remoteVideoUpdate: ['remoteVideoUpdate', {
    timestampMs: 1,
    type: F.REMOTE_VIDEO_UPDATE,
    remoteVideoUpdate: { addedOrUpdatedVideoSubscriptions: [{ mid: '3', streamId: 6, groupId: 7, qualityAdaptationPreference: 3 }], removedVideoSubscriptionMids: ['2'] },
  }],
  primaryMeetingJoin: ['primaryMeetingJoin', { timestampMs: 1, type: F.PRIMARY_MEETING_JOIN, primaryMeetingJoin: { credentials: { attendeeId: 'a', externalUserId: 'b', joinToken: 'c' } } }],
  primaryMeetingLeave: ['primaryMeetingLeave', { timestampMs: 1, type: F.PRIMARY_MEETING_LEAVE, primaryMeetingLeave: {} }],
  timing: ['ignored', { timestampMs: 1, type: F.MEETING_SESSION_TIMING, meetingSessionTiming: { localAudio: [{ addedMs: 5, firstPacketSentMs: 9, timedOut: true }] } }],
};

const theirEncoded: Record<string, Uint8Array> = Object.fromEntries(
  Object.entries(theirFixtures).map(([name, [, frame]]) => [name, theirEncode(frame)]),
);

// --- compatibility ---------------------------------------------------------

describe('byte compatibility with the client codec', () => {
  it.each(Object.keys(ourFixtures))('the client decodes our %s frame to the same fields', (name) => {
    const bytes = ourEncoded[name]!;
    expect(bytes[0]).toBe(FRAME_PREFIX);
    const body = bytes.subarray(1);
    expect(theirView(body)).toEqual(ourView(body));
  });

  it.each(Object.keys(ourFixtures))('our %s frame is byte-identical to the client encoding the same fields', (name) => {
    // fromObject parses proto JSON-style values (enum names, 64-bit strings,
    // base64 bytes), so the client builds the very same logical frame.
    const body = ourEncoded[name]!.subarray(1);
    const theirs = Theirs.encode(Theirs.fromObject(ourView(body) as Record<string, unknown>)).finish();
    expect(Array.from(theirs)).toEqual(Array.from(body));
  });

  it.each(Object.keys(theirFixtures))('we decode the client\'s %s frame to the same fields and the right kind', (name) => {
    const bytes = theirEncoded[name]!;
    const body = bytes.subarray(1);
    expect(ourView(body)).toEqual(theirView(body));
    expect(decodeOk(bytes).kind).toBe(theirFixtures[name]![0]);
    // Re-encoding what we decoded reproduces the client's bytes exactly.
    expect(Array.from(encodeSignalFrame(fromBinary(SdkSignalFrameSchema, body)))).toEqual(Array.from(bytes));
  });

  it('exposes the client frames\' fields under typed kinds', () => {
    const join = decodeOk(theirEncoded.join!);
    expect(join.kind === 'join' && join.join.clientDetails?.platformName).toBe('Firefox');
    expect(join.kind === 'join' && join.join.audioSessionId).toBe(987_654_321n);
    expect(join.kind === 'join' && join.join.supportedServerSideNetworkAdaptions).toEqual([3, 4]);
    expect(join.timestampMs).toBe(1_700_000_000_456n);

    const sub = decodeOk(theirEncoded.subscribe!);
    if (sub.kind !== 'subscribe') throw new Error(sub.kind);
    expect(sub.subscribe.sdpOffer).toBe(sdpOffer);
    expect(sub.subscribe.receiveStreamIds).toEqual([2, 4]);
    expect(sub.subscribe.duplex).toBe(SdkStreamServiceType.DUPLEX);
    expect(sub.subscribe.videoSubscriptionConfiguration[0]?.mid).toBe('2');

    const resume = decodeOk(theirEncoded.resume!);
    expect(resume.kind === 'resume' && resume.resume.groupIds).toEqual([3]);
    const ping = decodeOk(theirEncoded.ping!);
    expect(ping.kind === 'pingPong' && ping.pingPong.pingId).toBe(4_294_967_295);
    const data = decodeOk(theirEncoded.dataMessage!);
    expect(data.kind === 'dataMessage' && Array.from(data.dataMessage.messages[0]!.data)).toEqual(Array.from(allBytes));
    const timing = decodeOk(theirEncoded.timing!);
    expect(timing.kind === 'ignored' && timing.type).toBe(T.MEETING_SESSION_TIMING);
  });

  it('agrees with the client on proto2 defaults of absent fields', () => {
    const body = Theirs.encode(Theirs.create({ timestampMs: 1, type: Theirs.Type.JOIN, join: {} })).finish();
    const ours = decodeOk(prefixed(body));
    const theirs = Theirs.decode(body);
    expect(ours.kind === 'join' && ours.join.protocolVersion).toBe(theirs.join?.protocolVersion);
    expect(ours.kind === 'join' && ours.join.protocolVersion).toBe(2);
    const note = fromBinary(SdkSignalFrameSchema, encodeSignalFrame({ type: T.NOTIFICATION, notification: {} }).subarray(1));
    expect(note.notification?.level).toBe(Level.ERROR);
    expect(Theirs.decode(encodeSignalFrame({ type: T.NOTIFICATION, notification: {} }).subarray(1)).notification?.level).toBe(Level.ERROR);
  });

  it('shows the client reads 64-bit fields as lossy JS numbers', () => {
    // The client runs protobufjs without Long: int64/uint64 decode to doubles,
    // so values past 2^53 are rounded on its side. Harmless for timestamps and
    // ingest times, but the server must not rely on exact large values.
    const exact = 2n ** 53n + 1n;
    const bytes = encodeSignalFrame({ type: T.DATA_MESSAGE, timestampMs: exact, dataMessage: { messages: [{ topic: 't', ingestTimeNs: exact }] } });
    const theirs = Theirs.decode(bytes.subarray(1));
    expect(theirs.timestampMs).toBe(Number(exact));
    expect(BigInt(theirs.timestampMs as number)).not.toBe(exact);
    const ours = fromBinary(SdkSignalFrameSchema, bytes.subarray(1));
    expect(ours.timestampMs).toBe(exact);
    expect(ours.dataMessage?.messages[0]?.ingestTimeNs).toBe(exact);
  });
});

// --- schema parity -----------------------------------------------------------

interface UpstreamCodec {
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  fromObject(object: unknown): unknown;
  toObject(message: unknown, options: object): unknown;
}

// The module is CommonJS assigning to module.exports wholesale, so an ESM
// namespace import cannot enumerate it; require() gives the real object.
const upstream = createRequire(import.meta.url)('amazon-chime-sdk-js/build/signalingprotocol/SignalingProtocol.js') as Record<string, unknown>;

/** Upstream's export for a type name like "SdkSignalFrame.Type", if any. */
function upstreamExport(path: string): unknown {
  let node: unknown = upstream;
  for (const part of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

const localPath = (typeName: string) => typeName.replace(/^chorus\.signaling\./, '');

/**
 * A value for every field, distinct per field so that two fields swapping
 * numbers or names cannot go unnoticed, and at the edges of each type's range.
 */
function fieldValue(field: DescField, salt: number): unknown {
  const n = field.number * 1000 + salt;
  if (field.fieldKind === 'map') throw new Error('the schema has no maps');
  if (field.fieldKind === 'message' || (field.fieldKind === 'list' && field.listKind === 'message')) return populated(field.message);
  if (field.fieldKind === 'enum' || (field.fieldKind === 'list' && field.listKind === 'enum')) return field.enum.values.at(-1)!.number;
  switch (field.scalar) {
    case ScalarType.UINT32: return 0x80000000 + n;
    case ScalarType.UINT64: return 2n ** 40n + BigInt(n);
    case ScalarType.INT64: return -(2n ** 40n) - BigInt(n);
    case ScalarType.BOOL: return true;
    case ScalarType.DOUBLE: return n + 0.25;
    case ScalarType.STRING: return `${field.parent.name}.${field.name}#${salt} \u00e9`;
    case ScalarType.BYTES: return Uint8Array.of(0, 255, n & 0xff, salt);
    default: throw new Error(`no test value for ${field.toString()}`);
  }
}

function populated(desc: DescMessage): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const field of desc.fields) {
    init[field.localName] = field.fieldKind === 'list' ? [fieldValue(field, 1), fieldValue(field, 2)] : fieldValue(field, 1);
  }
  return init;
}

/** Re-encodes a message's top-level records, leaving out one field number. */
function withoutField(bytes: Uint8Array, fieldNo: number): Uint8Array {
  const reader = new BinaryReader(bytes);
  const writer = new BinaryWriter();
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    const data = reader.skip(wireType, no);
    if (no !== fieldNo) writer.tag(no, wireType).raw(data);
  }
  return writer.finish();
}

describe('schema parity with the client codec', () => {
  it('has every message and enum the client codec has, and no others', () => {
    const ours = [
      ...file_chime_signaling.messages.map((m) => m.name),
      ...file_chime_signaling.enums.map((e) => e.name),
    ].sort();
    expect(ours).toEqual(Object.keys(upstream).sort());
  });

  const enums = [
    ...file_chime_signaling.enums,
    ...file_chime_signaling.messages.flatMap((m) => m.nestedEnums),
  ];
  it.each(enums.map((e) => [localPath(e.typeName), e] as const))('enum %s has the same names and numbers', (path, e) => {
    const theirs = upstreamExport(path) as Record<string, number>;
    expect(Object.fromEntries(e.values.map((v) => [v.name, v.number]))).toEqual({ ...theirs });
  });

  it.each(file_chime_signaling.messages.map((m) => [m.name, m] as const))(
    '%s with every field set encodes identically and reads back the same on both sides',
    (_name, desc) => {
      const codec = upstreamExport(desc.name) as UpstreamCodec;
      const ours = toBinary(desc, create(desc, populated(desc)));
      const json = toJson(desc, fromBinary(desc, ours));
      expect(codec.toObject(codec.decode(ours), { enums: String, longs: String, bytes: String, json: true })).toEqual(json);
      expect(Array.from(codec.encode(codec.fromObject(json)).finish())).toEqual(Array.from(ours));
    },
  );

  it.each(file_chime_signaling.messages.map((m) => [m.name, m] as const))(
    '%s marks exactly the fields required that the client decoder requires',
    (_name, desc) => {
      const codec = upstreamExport(desc.name) as UpstreamCodec;
      const full = toBinary(desc, create(desc, populated(desc)));
      for (const field of desc.fields) {
        let theirsRequires = false;
        try {
          codec.decode(withoutField(full, field.number));
        } catch {
          theirsRequires = true;
        }
        expect([field.name, field.presence === FeatureSet_FieldPresence.LEGACY_REQUIRED]).toEqual([field.name, theirsRequires]);
      }
    },
  );
});

// --- encoding ----------------------------------------------------------------

describe('encodeSignalFrame and the server builders', () => {
  it('fills timestamp_ms when unset and keeps it when set', () => {
    const before = Date.now();
    const theirs = Theirs.decode(encodeSignalFrame({ type: T.LEAVE_ACK, leaveAck: {} }).subarray(1));
    const after = Date.now();
    expect(theirs.timestampMs).toBeGreaterThanOrEqual(before);
    expect(theirs.timestampMs).toBeLessThanOrEqual(after);
    expect(Theirs.decode(encodeSignalFrame({ type: T.LEAVE_ACK, timestampMs: 7n, leaveAck: {} }).subarray(1)).timestampMs).toBe(7);
  });

  it('does not mutate a message passed in', () => {
    const msg = create(SdkSignalFrameSchema, { type: T.LEAVE_ACK, leaveAck: {} });
    encodeSignalFrame(msg);
    expect(isFieldSet(msg, SdkSignalFrameSchema.field.timestampMs)).toBe(false);
  });

  it('refuses to encode a frame the client would reject for a missing required field', () => {
    expect(() => encodeSignalFrame({ type: T.PING_PONG, pingPong: { type: SdkPingPongType.PONG } })).toThrow(/required/);
  });

  it('builds server frames the client decodes', () => {
    const decode = (bytes: Uint8Array) => Theirs.decode(bytes.subarray(1));
    const pong = decode(serverFrame.pong(9));
    expect([pong.type, pong.pingPong?.type, pong.pingPong?.pingId]).toEqual([T.PING_PONG, SdkPingPongType.PONG, 9]);
    expect(decode(serverFrame.joinAck({ videoSubscriptionLimit: 25 })).joinack?.videoSubscriptionLimit).toBe(25);
    expect(decode(serverFrame.index({ numParticipants: 2 })).index?.numParticipants).toBe(2);
    expect(decode(serverFrame.subscribeAck({ sdpAnswer: 'v=0' })).suback?.sdpAnswer).toBe('v=0');
    expect(decode(serverFrame.leaveAck()).type).toBe(T.LEAVE_ACK);
    expect(decode(serverFrame.audioStatus({ audioStatus: 410 })).audioStatus?.audioStatus).toBe(410);
    expect(decode(serverFrame.audioStreamIdInfo({ streams: [{ audioStreamId: 1, attendeeId: 'a' }] })).audioStreamIdInfo?.streams?.[0]?.attendeeId).toBe('a');
    expect(decode(serverFrame.audioMetadata({ attendeeStates: [{ audioStreamId: 1, volume: 30 }] })).audioMetadata?.attendeeStates?.[0]?.volume).toBe(30);
    expect(decode(serverFrame.dataMessage({ messages: [{ topic: 'x', data: new Uint8Array([1, 2]) }] })).dataMessage?.messages?.[0]?.topic).toBe('x');
    expect(decode(serverFrame.bitrates({ serverAvailableOutgoingBitrate: 3 })).bitrates?.serverAvailableOutgoingBitrate).toBe(3);
    expect(decode(serverFrame.notification({ level: Level.INFO, message: 'hi' })).notification?.message).toBe('hi');
    expect(decode(serverFrame.primaryMeetingJoinAck()).type).toBe(T.PRIMARY_MEETING_JOIN_ACK);
    const err = decode(serverFrame.error(T.AUDIO_STATUS, { status: 410, description: 'ended' }));
    expect([err.type, err.error?.status]).toEqual([T.AUDIO_STATUS, 410]);
  });
});

// --- decoding bad input ------------------------------------------------------

describe('decodeSignalFrame on bad input', () => {
  const cases: [string, number[] | Uint8Array, SignalDecodeErrorCode][] = [
    ['empty', [], 'EMPTY'],
    ['only the prefix byte', [FRAME_PREFIX], 'EMPTY'],
    ['prefix 0x07', [0x07, 0x08, 0x01, 0x10, 0x09, 0x5a, 0x00], 'BAD_PREFIX'],
    ['prefix 0x00', [0x00, 0x08, 0x01], 'BAD_PREFIX'],
    ['oversized', prefixed(new Uint8Array(MAX_SIGNAL_FRAME_BYTES)), 'TOO_LARGE'],
    ['a truncated varint', [FRAME_PREFIX, 0x08], 'MALFORMED_PROTOBUF'],
    ['a length running past the end', [FRAME_PREFIX, 0x08, 0x01, 0x10, 0x09, 0x5a, 0x05, 0x00], 'MALFORMED_PROTOBUF'],
    ['an invalid wire type', [FRAME_PREFIX, 0x0f, 0x00], 'MALFORMED_PROTOBUF'],
    ['valid protobuf missing type', [FRAME_PREFIX, 0x08, 0x01], 'MISSING_FIELD'],
    ['missing timestamp', [FRAME_PREFIX, 0x10, 0x09, 0x5a, 0x00], 'MISSING_FIELD'],
    ['type=SUBSCRIBE without a subscribe sub-message', [FRAME_PREFIX, 0x08, 0x01, 0x10, 0x03], 'PAYLOAD_MISMATCH'],
    ['type=SUBSCRIBE carrying a join instead', [FRAME_PREFIX, 0x08, 0x01, 0x10, 0x03, 0x22, 0x00], 'PAYLOAD_MISMATCH'],
    ['an unknown type number', [FRAME_PREFIX, 0x08, 0x01, 0x10, 0x63], 'UNKNOWN_TYPE'],
    ['a negative type number', [FRAME_PREFIX, 0x08, 0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'UNKNOWN_TYPE'],
    // PING_PONG whose ping_pong lacks the required ping_id (field 20 = tag 0xa2 0x01).
    ['a nested required field missing', [FRAME_PREFIX, 0x08, 0x01, 0x10, 0x13, 0xa2, 0x01, 0x02, 0x08, 0x01], 'MISSING_FIELD'],
  ];

  it.each(cases)('%s', (_name, input, code) => {
    expectError(decodeSignalFrame(input instanceof Uint8Array ? input : Uint8Array.from(input)), code);
  });

  it('accepts the legacy 0x02 prefix', () => {
    expect(decodeOk(prefixed(theirEncoded.leave!.subarray(1), LEGACY_FRAME_PREFIX)).kind).toBe('leave');
  });

  it('accepts a frame of exactly MAX_SIGNAL_FRAME_BYTES and refuses one byte more', () => {
    const subscribe = (sdpLength: number) =>
      encodeSignalFrame({ type: T.SUBSCRIBE, timestampMs: TS, sub: { sdpOffer: 'x'.repeat(sdpLength) } });
    let length = MAX_SIGNAL_FRAME_BYTES;
    while (subscribe(length).length > MAX_SIGNAL_FRAME_BYTES) length--;
    expect(subscribe(length).length).toBe(MAX_SIGNAL_FRAME_BYTES);
    expect(decodeOk(subscribe(length)).kind).toBe('subscribe');
    expectError(decodeSignalFrame(subscribe(length + 1)), 'TOO_LARGE');
  });

  it('treats server-only frame types from a client as ignored, not as errors', () => {
    const frame = decodeOk(ourEncoded.index!);
    expect(frame.kind === 'ignored' && frame.type).toBe(T.INDEX);
  });

  it('does not throw on values that are not byte arrays at all', () => {
    for (const junk of [undefined, null, 'text', 42, {}, [5, 8, 1]]) {
      expect(decodeSignalFrame(junk as unknown as Uint8Array).ok).toBe(false);
    }
  });

  it('assertNever throws when reached', () => {
    expect(() => assertNever('x' as never)).toThrow(/unexpected/);
  });
});

// --- fuzzing -------------------------------------------------------------------


const KNOWN_KINDS = new Set<ClientFrame['kind']>([
  'join', 'subscribe', 'leave', 'pause', 'resume', 'audioControl', 'pingPong', 'clientMetric',
  'dataMessage', 'remoteVideoUpdate', 'primaryMeetingJoin', 'primaryMeetingLeave', 'ignored',
]);

/** Returns a description of what is wrong with a result, or '' if well formed. */
function malformation(result: DecodeResult): string {
  if (!result.ok) {
    if (!SIGNAL_DECODE_ERROR_CODES.includes(result.error.code)) return `unknown code ${String(result.error.code)}`;
    return typeof result.error.message === 'string' && result.error.message.length > 0 ? '' : 'no message';
  }
  const frame = result.frame;
  if (!KNOWN_KINDS.has(frame.kind)) return `unknown kind ${String(frame.kind)}`;
  if (typeof frame.timestampMs !== 'bigint') return 'timestamp not a bigint';
  if (frame.kind === 'ignored') return T[frame.type] === undefined ? 'ignored frame of unknown type' : '';
  const payload = (frame as unknown as Record<string, unknown>)[frame.kind];
  return typeof payload === 'object' && payload !== null ? '' : `kind ${frame.kind} without payload`;
}

function runFuzz(inputs: Iterable<Uint8Array>): { failures: string[]; codes: Map<string, number> } {
  const failures: string[] = [];
  const codes = new Map<string, number>();
  for (const input of inputs) {
    let result: DecodeResult;
    try {
      result = decodeSignalFrame(input);
    } catch (e) {
      failures.push(`threw ${String(e)} on ${Array.from(input.subarray(0, 32)).join(',')}`);
      continue;
    }
    const problem = malformation(result);
    if (problem) failures.push(`${problem} on ${Array.from(input.subarray(0, 32)).join(',')}`);
    const key = result.ok ? `ok:${result.frame.kind}` : result.error.code;
    codes.set(key, (codes.get(key) ?? 0) + 1);
  }
  return { failures, codes };
}

describe('decodeSignalFrame under fuzzing', () => {
  const seeds = [...Object.values(ourEncoded), ...Object.values(theirEncoded)];

  it('never throws on 10,000 random byte arrays', () => {
    const rand = prng(0xc0ffee);
    function* inputs(): Generator<Uint8Array> {
      for (let n = 0; n < 10_000; n++) {
        const bytes = Uint8Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256));
        // Mostly valid prefixes, otherwise nearly everything stops at BAD_PREFIX.
        if (bytes.length > 0 && rand() < 0.9) bytes[0] = rand() < 0.8 ? FRAME_PREFIX : LEGACY_FRAME_PREFIX;
        yield bytes;
      }
    }
    const { failures, codes } = runFuzz(inputs());
    expect(failures.slice(0, 5)).toEqual([]);
    expect(codes.get('MALFORMED_PROTOBUF')).toBeGreaterThan(0);
  });

  it('never throws on 10,000 mutations of valid frames', () => {
    const rand = prng(0x5eed);
    const pick = (n: number) => Math.floor(rand() * n);
    function mutate(src: Uint8Array): Uint8Array {
      let bytes = Array.from(src);
      const rounds = 1 + pick(4);
      for (let r = 0; r < rounds; r++) {
        const at = 1 + pick(Math.max(1, bytes.length - 1));
        switch (pick(5)) {
          case 0: // bit flip
            if (bytes.length > 1) bytes[at] = (bytes[at] ?? 0) ^ (1 << pick(8));
            break;
          case 1: // truncation
            bytes = bytes.slice(0, at);
            break;
          case 2: // insertion of random bytes
            bytes.splice(at, 0, ...Array.from({ length: 1 + pick(8) }, () => pick(256)));
            break;
          case 3: { // duplicated region
            const len = 1 + pick(Math.min(64, bytes.length));
            bytes.splice(at, 0, ...bytes.slice(at, at + len));
            break;
          }
          default: // a varint-looking byte, to hit tags and lengths
            bytes[at] = 0x80 | pick(128);
        }
      }
      return Uint8Array.from(bytes);
    }
    function* inputs(): Generator<Uint8Array> {
      for (let n = 0; n < 10_000; n++) yield mutate(seeds[n % seeds.length]!);
    }
    const { failures, codes } = runFuzz(inputs());
    expect(failures.slice(0, 5)).toEqual([]);
    // The mutations must exercise both paths, or the test proves little.
    expect([...codes.keys()].filter((k) => k.startsWith('ok:')).length).toBeGreaterThan(3);
    expect(codes.get('MALFORMED_PROTOBUF')).toBeGreaterThan(0);
  });
});
