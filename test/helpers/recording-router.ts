import { DEFAULT_MEDIA_SETTINGS } from '../../src-main/server/defaults.js';
import { createLogger } from '../../src-main/server/logger.js';
import { VideoRouter } from '../../src-main/server/media/video/video-router.js';

/** A video router with default settings whose packets out, and layer-change events, are recorded: no sockets, time from `now`. */
export function recordingRouter(now: () => number): { router: VideoRouter; sent: { to: string; packet: Buffer }[]; layerChanges: string[] } {
  const sent: { to: string; packet: Buffer }[] = [];
  const layerChanges: string[] = [];
  const router = new VideoRouter(
    { send: (to, _mid, packet) => (sent.push({ to, packet: Buffer.from(packet) }), true) },
    DEFAULT_MEDIA_SETTINGS.video,
    createLogger({ level: 'error', write: () => undefined }),
    now,
    { layersChanged: (id) => layerChanges.push(id) },
  );
  return { router, sent, layerChanges };
}
