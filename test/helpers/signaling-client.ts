import { fromBinary } from '@bufbuild/protobuf';
import WebSocket from 'ws';
import {
  encodeSignalFrame,
  SdkJoinFlags,
  SdkPingPongType,
  SdkServerSideNetworkAdaption,
  SdkSignalFrame_Type,
  SdkSignalFrameSchema,
  type SdkAudioStreamIdInfo,
  type SdkSignalFrame,
  type SignalFrameInit,
} from '../../src-main/shared/signaling/frames.js';

/**
 * A raw signaling client for tests: a `ws` WebSocket that speaks the Chime
 * framing (0x05 + SdkSignalFrame), records every decoded server frame and the
 * close, and lets a test wait for either. No media: it never sends an SDP offer.
 */

export const SESSION_SUBPROTOCOL = '_aws_wt_session';
const DEFAULT_TIMEOUT_MS = 3_000;

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface ConnectOptions {
  /** Presented as the second subprotocol, as amazon-chime-sdk-js does. */
  token?: string;
  /** Explicit subprotocols (overrides `token`); [] sends no Sec-WebSocket-Protocol header. */
  protocols?: string[];
  headers?: Record<string, string>;
}

/** The URL the JS client connects to for a meeting. */
export function signalingUrl(meeting: { MediaPlacement?: { SignalingUrl?: string } }): string {
  const base = meeting.MediaPlacement?.SignalingUrl;
  if (!base) throw new Error('meeting has no SignalingUrl');
  return `${base}?X-Chime-Control-Protocol-Version=3`;
}

export class SignalClient {
  readonly frames: SdkSignalFrame[] = [];
  /** The first byte of every binary message the server sent. */
  readonly prefixes: number[] = [];
  /** Server messages that were text or did not decode: there must be none. */
  readonly garbage: string[] = [];
  closeInfo: CloseInfo | undefined;
  private readonly listeners = new Set<() => void>();
  private nextPingId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.garbage.push(`text: ${data.toString('utf8').slice(0, 80)}`);
      } else {
        this.prefixes.push(data[0] ?? -1);
        try {
          this.frames.push(fromBinary(SdkSignalFrameSchema, new Uint8Array(data.subarray(1))));
        } catch (error) {
          this.garbage.push(`undecodable: ${String(error)}`);
        }
      }
      this.notify();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeInfo = { code, reason: reason.toString('utf8') };
      this.notify();
    });
    // A refused or reset socket reports an error before its close; the close is what tests look at.
    ws.on('error', () => undefined);
  }

  /** Opens a socket and resolves once it is open (rejects if the upgrade fails). */
  static async connect(url: string, options: ConnectOptions = {}): Promise<SignalClient> {
    const protocols = options.protocols ?? (options.token !== undefined ? [SESSION_SUBPROTOCOL, options.token] : []);
    const ws = new WebSocket(url, protocols, { headers: options.headers, perMessageDeflate: false });
    const client = new SignalClient(ws);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      ws.once('error', onError);
      ws.once('open', () => {
        ws.off('error', onError);
        resolve();
      });
    });
    return client;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && this.closeInfo === undefined;
  }

  /** Sends a frame built with the shared encoder (prefix 0x05, timestamp filled in). */
  send(frame: SignalFrameInit): void {
    this.sendRaw(encodeSignalFrame(frame));
  }

  sendRaw(data: Uint8Array | string, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  sendPing(pingId = this.nextPingId++): number {
    this.send({ type: SdkSignalFrame_Type.PING_PONG, pingPong: { type: SdkPingPongType.PING, pingId } });
    return pingId;
  }

  /** Sends PING and waits for the PONG carrying the same id. */
  async ping(pingId = this.nextPingId++, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<SdkSignalFrame> {
    this.sendPing(pingId);
    return this.frame(SdkSignalFrame_Type.PING_PONG, (f) => f.pingPong?.type === SdkPingPongType.PONG && f.pingPong.pingId === pingId, timeoutMs);
  }

  /** Sends a JOIN shaped like amazon-chime-sdk-js 3.x sends it (`adaption`: as its priority policy asks, or by default). */
  sendJoin(audioSessionId: bigint = randomAudioSessionId(), adaption: 'default' | 'server' = 'default'): void {
    const mode = adaption === 'server' ? SdkServerSideNetworkAdaption.BANDWIDTH_PROBING_AND_VIDEO_QUALITY_ADAPTION : SdkServerSideNetworkAdaption.DEFAULT;
    const supported = adaption === 'server'
      ? [SdkServerSideNetworkAdaption.NONE, SdkServerSideNetworkAdaption.BANDWIDTH_PROBING, SdkServerSideNetworkAdaption.BANDWIDTH_PROBING_AND_VIDEO_QUALITY_ADAPTION]
      : [SdkServerSideNetworkAdaption.DEFAULT];
    this.send({
      type: SdkSignalFrame_Type.JOIN,
      join: {
        protocolVersion: 2,
        maxNumOfVideos: 25,
        flags: SdkJoinFlags.HAS_STREAM_UPDATE | SdkJoinFlags.COMPLETE_VIDEO_SOURCES_LIST,
        clientDetails: { appName: 'chorus-signaling-test', appVersion: '1.0', platformName: 'node', chimeSdkVersion: '3.32.0' },
        audioSessionId,
        wantsCompressedSdp: true,
        serverSideNetworkAdaption: mode,
        supportedServerSideNetworkAdaptions: supported,
      },
    });
  }

  /** JOIN, then the three frames the server answers with: JOIN_ACK, INDEX and the presence snapshot. */
  async join(audioSessionId?: bigint, adaption?: 'default' | 'server'): Promise<{ joinAck: SdkSignalFrame; index: SdkSignalFrame; snapshot: SdkSignalFrame }> {
    const from = this.frames.length;
    this.sendJoin(audioSessionId, adaption);
    const joinAck = await this.frame(SdkSignalFrame_Type.JOIN_ACK, undefined, DEFAULT_TIMEOUT_MS, from);
    const index = await this.frame(SdkSignalFrame_Type.INDEX, undefined, DEFAULT_TIMEOUT_MS, from);
    const snapshot = await this.frame(SdkSignalFrame_Type.AUDIO_STREAM_ID_INFO, undefined, DEFAULT_TIMEOUT_MS, from);
    return { joinAck, index, snapshot };
  }

  /** The attendee's own presence entry in its snapshot after join(). */
  static own(snapshot: SdkSignalFrame, participantId: string): SdkAudioStreamIdInfo {
    const entry = snapshot.audioStreamIdInfo?.streams.find((s) => s.attendeeId === participantId);
    if (!entry) throw new Error(`no presence entry for ${participantId} in the snapshot`);
    return entry;
  }

  /** All frames of a type received so far. */
  framesOf(type: SdkSignalFrame_Type): SdkSignalFrame[] {
    return this.frames.filter((f) => f.type === type);
  }

  /**
   * The first frame (at index ≥ `from`) of `type` for which `match` holds, waiting for it if need be.
   * Rejects on timeout, or at once if the socket closes without such a frame.
   */
  frame(type: SdkSignalFrame_Type, match: (f: SdkSignalFrame) => boolean = () => true, timeoutMs = DEFAULT_TIMEOUT_MS, from = 0): Promise<SdkSignalFrame> {
    const find = (): SdkSignalFrame | undefined => this.frames.slice(from).find((f) => f.type === type && match(f));
    return this.until(find, `a ${SdkSignalFrame_Type[type]} frame`, timeoutMs, true);
  }

  /** The first presence entry (in any AUDIO_STREAM_ID_INFO frame) for which `match` holds. */
  async presence(match: (entry: SdkAudioStreamIdInfo) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS, from = 0): Promise<SdkAudioStreamIdInfo> {
    const frame = await this.frame(SdkSignalFrame_Type.AUDIO_STREAM_ID_INFO, (f) => (f.audioStreamIdInfo?.streams ?? []).some(match), timeoutMs, from);
    return frame.audioStreamIdInfo!.streams.find(match)!;
  }

  /** Resolves with the close code and reason once the socket has closed. */
  closed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<CloseInfo> {
    return this.until(() => this.closeInfo, 'the socket to close', timeoutMs, false);
  }

  /** Resolves with whichever comes first: the frame or the close. */
  frameOrClose(type: SdkSignalFrame_Type, match: (f: SdkSignalFrame) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS, from = 0): Promise<SdkSignalFrame | CloseInfo> {
    const find = (): SdkSignalFrame | CloseInfo | undefined => this.frames.slice(from).find((f) => f.type === type && match(f)) ?? this.closeInfo;
    return this.until(find, `a ${SdkSignalFrame_Type[type]} frame or a close`, timeoutMs, false);
  }

  /** Ends the socket from the client side, without a close handshake. */
  terminate(): void {
    this.ws.terminate();
  }

  /** Closes politely (if still open) and waits for the close. */
  async close(): Promise<void> {
    if (this.closeInfo) return;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    await this.closed().catch(() => this.ws.terminate());
  }

  describe(): string {
    const types = this.frames.map((f) => SdkSignalFrame_Type[f.type] ?? String(f.type)).join(', ');
    const close = this.closeInfo ? `closed ${this.closeInfo.code} "${this.closeInfo.reason}"` : 'open';
    return `[${types}] (${close})`;
  }

  private until<T>(find: () => T | undefined, what: string, timeoutMs: number, failOnClose: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const found = find();
        if (found !== undefined) return finish(() => resolve(found));
        if (failOnClose && this.closeInfo) return finish(() => reject(new Error(`socket closed while waiting for ${what}: ${this.describe()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${this.describe()}`))), timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

export function isCloseInfo(x: SdkSignalFrame | CloseInfo): x is CloseInfo {
  return 'code' in x && typeof x.code === 'number';
}

let audioSessionCounter = 0n;
/** Distinct audio session ids, as the client draws a random 64-bit one per session. */
export function randomAudioSessionId(): bigint {
  audioSessionCounter += 1n;
  return (BigInt(Date.now()) << 20n) + audioSessionCounter;
}

