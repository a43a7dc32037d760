import { fromBinary } from '@bufbuild/protobuf';
import WebSocket from 'ws';
import {
  encodeSignalFrame,
  peekSignalFrameType,
  SdkPingPongType,
  SdkSignalFrame_Type,
  SdkSignalFrameSchema,
  type SdkSignalFrame,
  type SignalFrameInit,
} from '../shared/signaling/frames.js';
import type { PinnedTls } from './pinned-tls.js';

/** The SDK pings every 10 s; the server drops a session that stays silent for 45 s. */
const PING_INTERVAL_MS = 10_000;
/** Long runs receive AUDIO_METADATA 5 times a second: only recent history is kept. */
const FRAME_HISTORY = 2000;

export interface SignalingChannelOptions {
  /** Drop AUDIO_METADATA frames unread (5 a second, one entry per attendee): load generators with hundreds of clients. */
  ignoreAudioMetadata?: boolean;
  /** For wss:// to a server with a self-signed certificate: trust exactly that certificate. */
  tls?: PinnedTls;
}

/**
 * One Chime signaling WebSocket as amazon-chime-sdk-js opens it: the join token
 * as the second subprotocol, binary frames with the 0x05 prefix, a ping every
 * 10 s. It keeps the frames it received and lets callers wait for a type.
 */
export class SignalingChannel {
  readonly frames: SdkSignalFrame[] = [];
  closeCode: number | undefined;
  private readonly ws: WebSocket;
  private readonly waiters: { type: SdkSignalFrame_Type; resolve: (frame: SdkSignalFrame) => void }[] = [];
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(url: string, token: string, private readonly options: SignalingChannelOptions = {}) {
    // ws hands these to tls.connect; its own typing of checkServerIdentity predates Node's (Error | undefined).
    this.ws = new WebSocket(url, ['_aws_wt_session', token], { ...options.tls } as WebSocket.ClientOptions);
    this.ws.on('message', (data: Buffer) => this.receive(data));
    this.ws.on('close', (code) => {
      this.closeCode = code;
      clearInterval(this.pingTimer);
    });
    // Errors also surface as a failed open() or a close code; without a listener ws would throw.
    this.ws.on('error', () => undefined);
  }

  /** Resolves once the socket is open (and starts pinging); rejects if it fails to open. */
  open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => {
        let pingId = 0;
        const ping = (): void => this.send({ type: SdkSignalFrame_Type.PING_PONG, pingPong: { type: SdkPingPongType.PING, pingId: ++pingId } });
        ping();
        this.pingTimer = setInterval(ping, PING_INTERVAL_MS);
        resolve();
      });
      this.ws.once('error', reject);
      this.ws.once('close', (code) => reject(new Error(`signaling closed with ${code} before it opened`)));
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The next frame of `type`, or a rejection after `timeoutMs`. */
  next(type: SdkSignalFrame_Type, timeoutMs = 10_000): Promise<SdkSignalFrame> {
    return new Promise((resolve, reject) => {
      const waiter = {
        type,
        resolve: (frame: SdkSignalFrame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no ${SdkSignalFrame_Type[type]} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The most recent frame of `type` received, if any. */
  latest(type: SdkSignalFrame_Type): SdkSignalFrame | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) if (this.frames[i]!.type === type) return this.frames[i];
    return undefined;
  }

  send(frame: SignalFrameInit): void {
    if (this.isOpen) this.ws.send(encodeSignalFrame(frame));
  }

  close(): void {
    clearInterval(this.pingTimer);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }

  private receive(data: Buffer): void {
    if (this.options.ignoreAudioMetadata && peekSignalFrameType(data) === SdkSignalFrame_Type.AUDIO_METADATA) return;
    let frame: SdkSignalFrame;
    try {
      frame = fromBinary(SdkSignalFrameSchema, new Uint8Array(data.subarray(1)));
    } catch {
      return;
    }
    this.frames.push(frame);
    if (this.frames.length > FRAME_HISTORY) this.frames.splice(0, FRAME_HISTORY / 2);
    for (const waiter of [...this.waiters]) {
      if (waiter.type !== frame.type) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(frame);
    }
  }
}
