import type { Attendee } from '../../shared/chime-types.js';
import type { VideoCodec } from '../media/video/codecs.js';

/** The room's view of one signaling connection: how to talk to it and how to end it. */
export interface SessionPort {
  readonly id: string;
  /**
   * Sends a frame; one that may be lost (`mayDrop`: volumes, messages the replay
   * buffer keeps) is dropped while the connection is backed up. Returns whether it went out.
   */
  send(frame: Uint8Array, mayDrop?: boolean): boolean | void;
  /** False once the connection is closing or closed: a frame sent now is lost. */
  readonly isOpen: boolean;
  /** Closes the connection; `code` is a WebSocket close code. */
  close(code: number, reason: string): void;
}

/** A participant's video as the protocol describes it (INDEX): its media lives in MeetingMedia. */
export interface VideoPublication {
  streamId: number;
  groupId: number;
  mid: string;
  codec: VideoCodec;
  maxBitrateKbps: number;
}

/** One joined attendee session (`<AttendeeId>` or `<AttendeeId>#content`) in a room. */
export interface Participant {
  /** The participant id: the attendee id, with `#content` for a content share. */
  id: string;
  attendee: Attendee;
  content: boolean;
  session: SessionPort;
  audioSessionId: bigint;
  /** JOIN max_num_of_videos; 0 when the client did not set one. */
  maxVideos: number;
  audioStreamId: number;
  muted: boolean;
  publication?: VideoPublication;
  receivableCodecs: VideoCodec[];
  /** The server chooses this participant's video layers and pauses (it asked in JOIN; JOIN_ACK granted it). */
  serverAdaptation: boolean;
  /** JOIN wants_all_temporal_layers_in_index: INDEX lists each SVC layer at each frame rate. */
  wantsTemporalLayers: boolean;
  /** The stream id this participant chose of each SVC publisher it receives (a layer, or the base: all), by publisher. */
  chosenStreams: Map<string, number>;
}
