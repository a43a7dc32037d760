import type { MediaPlacement } from '../../shared/chime-types.js';

/**
 * MediaPlacement URLs for a meeting, all on this server. The paths follow the
 * service's own layout (`/control/<MeetingId>` for signaling and so on), so
 * clients that log or rewrite these URLs see familiar shapes.
 * EventIngestionUrl is left out on purpose: without it the JS client sends no telemetry.
 */
export function mediaPlacementFor(publicBaseUrl: string, meetingId: string): MediaPlacement {
  const http = publicBaseUrl.replace(/\/+$/, '');
  const ws = http.replace(/^http/, 'ws');
  return {
    AudioHostUrl: `${ws}/audio/${meetingId}`,
    AudioFallbackUrl: `${ws}/calls/${meetingId}`,
    SignalingUrl: `${ws}/control/${meetingId}`,
    TurnControlUrl: `${http}/v2/turn_sessions`,
    ScreenDataUrl: `${ws}/v2/screen/${meetingId}`,
    ScreenViewingUrl: `${ws}/ws/connect?passcode=null&viewer_uuid=null&X-BitHub-Call-Id=${meetingId}`,
    ScreenSharingUrl: `${ws}/v2/screen/${meetingId}`,
  };
}
