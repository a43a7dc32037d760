/**
 * Data messages in the harness page, through the SDK's public API only:
 * realtimeSubscribeToReceiveDataMessage and realtimeSendDataMessage.
 */
import type { AudioVideoFacade, DataMessage } from 'amazon-chime-sdk-js';

export interface ReceivedDataMessage {
  topic: string;
  text: string;
  senderAttendeeId: string;
  senderExternalUserId: string;
  throttled: boolean;
  timestampMs: number;
}

const received: ReceivedDataMessage[] = [];
let facade: AudioVideoFacade | undefined;

/** Subscribes to `topics`; called before start() so that a replay sent right after JOIN is caught. */
export function watchDataMessages(av: AudioVideoFacade, topics: string[]): void {
  facade = av;
  for (const topic of topics) {
    av.realtimeSubscribeToReceiveDataMessage(topic, (m: DataMessage) => {
      received.push({
        topic: m.topic,
        text: m.text(),
        senderAttendeeId: m.senderAttendeeId,
        senderExternalUserId: m.senderExternalUserId,
        throttled: m.throttled,
        timestampMs: m.timestampMs,
      });
    });
  }
}

/** Sends `count` messages `<prefix><i>` back to back, as fast as the page can. */
export function sendData(topic: string, prefix: string, lifetimeMs: number, count = 1): void {
  for (let i = 0; i < count; i++) facade!.realtimeSendDataMessage(topic, count === 1 ? prefix : `${prefix}${i}`, lifetimeMs);
}

export function dataMessages(): ReceivedDataMessage[] {
  return received;
}
