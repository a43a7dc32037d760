import { BatchCreateAttendeeCommand, CreateMeetingCommand, type Attendee, type ChimeSDKMeetingsClient, type Meeting } from '@aws-sdk/client-chime-sdk-meetings';

/**
 * Creates a meeting and its attendees through the real Chime API client, in
 * batches of 100 (the API's limit), failing loudly on any per-attendee error.
 * Shared by the tests and the benchmarks that need a populated meeting.
 */
export async function createMeetingWithAttendees(
  api: ChimeSDKMeetingsClient,
  externalMeetingId: string,
  externalUserIds: readonly string[],
): Promise<{ meeting: Meeting; attendees: Attendee[] }> {
  const { Meeting: meeting } = await api.send(new CreateMeetingCommand({ MediaRegion: 'us-east-1', ExternalMeetingId: externalMeetingId }));
  const attendees: Attendee[] = [];
  for (let i = 0; i < externalUserIds.length; i += 100) {
    const { Attendees, Errors } = await api.send(new BatchCreateAttendeeCommand({
      MeetingId: meeting!.MeetingId,
      Attendees: externalUserIds.slice(i, i + 100).map((ExternalUserId) => ({ ExternalUserId })),
    }));
    if (Errors && Errors.length > 0) throw new Error(`BatchCreateAttendee refused: ${JSON.stringify(Errors)}`);
    attendees.push(...Attendees!);
  }
  return { meeting: meeting!, attendees };
}

/** `count` external user ids: `${prefix}-0`, `${prefix}-1`, ... */
export const userIds = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
