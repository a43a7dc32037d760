import { ConsoleLogger, DefaultActiveSpeakerPolicy, type AudioVideoFacade } from 'amazon-chime-sdk-js';
import { useConnectionStore } from '../state/connection-store';
import { useTilesStore } from '../state/tiles-store';
import { useUiStore } from '../state/ui-store';

/** How the app sets up and steers amazon-chime-sdk-js beyond its defaults, and why. */

/**
 * The SDK's speaker ranking, without its "bandwidth priority": with it, every time this
 * attendee becomes or stops being the loudest speaker the SDK re-tunes the camera
 * encoder with an async RTCRtpSender.setParameters it does not await. Two flips close
 * together overlap, and Chrome rejects the second ("getParameters() has never been
 * called on this sender"): an uncaught error, seen on most clients of a four-person
 * meeting. On a LAN the speaker needs no extra uplink share.
 */
export class SpeakerPolicy extends DefaultActiveSpeakerPolicy {
  override prioritizeVideoSendBandwidthForActiveSpeaker(): boolean {
    return false;
  }
}

/**
 * The SDK's console logger, less the one "error" that is Chorus working as designed:
 * the server sends no TURN credentials (ICE reaches it directly on the LAN), which
 * the SDK reports at ERROR level on every join.
 */
export class SdkLogger extends ConsoleLogger {
  override error(msg: string | (() => string)): void {
    const text = typeof msg === 'function' ? msg() : msg;
    if (/missing TURN credentials/i.test(text)) return;
    super.error(text);
  }
}

/**
 * On a poor connection, other people's cameras are paused (the server stops sending
 * them) except the pinned one, so audio gets the bandwidth; once the connection is
 * good again, they come back. Each paused tile says why. `paused` holds the tiles
 * this app paused, so it never resumes one the SDK or the server paused.
 */
export function saveBandwidth(av: AudioVideoFacade, paused: Set<number>): void {
  const poor = useConnectionStore.getState().level === 'poor';
  const good = useConnectionStore.getState().level === 'good';
  const pinned = useUiStore.getState().pinned;
  for (const tile of Object.values(useTilesStore.getState().tiles)) {
    if (tile.local || tile.content || !tile.hasVideo) continue;
    const mine = paused.has(tile.tileId);
    const keep = tile.attendeeId === pinned;
    if (poor && !keep && !mine && !tile.paused) {
      paused.add(tile.tileId);
      av.pauseVideoTile(tile.tileId);
    } else if (mine && (good || keep)) {
      paused.delete(tile.tileId);
      av.unpauseVideoTile(tile.tileId);
    }
  }
}
