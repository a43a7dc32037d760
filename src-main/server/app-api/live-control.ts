import { HOST_CONTROL_TOPIC } from '../../shared/app-api.js';
import { serverFrame } from '../../shared/signaling/frames.js';
import type { SignalingGateway } from '../signaling/signaling-gateway.js';

export { HOST_CONTROL_TOPIC };

/**
 * Applies a host's mute to the attendee's live session at once: the room stops
 * mixing them and tells everyone they are muted. The SDK trusts its own state for
 * the local attendee over the server's, so the muted client is also told directly,
 * by a data message with an empty sender. The relay stamps every client's message
 * with its real sender, so no attendee can forge one.
 */
export function muteLiveAttendee(gateway: SignalingGateway | undefined, meetingId: string, attendeeId: string, nowMs: number): boolean {
  const room = gateway?.room(meetingId);
  const participant = room?.participant(attendeeId);
  if (!room || !participant) return false;
  room.setMuted(participant, true);
  participant.session.send(
    serverFrame.dataMessage({
      messages: [
        {
          topic: HOST_CONTROL_TOPIC,
          data: new TextEncoder().encode(JSON.stringify({ v: 1, action: 'mute' })),
          lifetimeMs: 0,
          senderAttendeeId: '',
          senderExternalUserId: '',
          // A zero ingest time would mark the message throttled.
          ingestTimeNs: BigInt(nowMs) * 1_000_000n,
        },
      ],
    }),
  );
  return true;
}
