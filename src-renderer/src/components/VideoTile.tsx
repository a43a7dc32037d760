import { memo, useEffect, useRef, useState } from 'react';
import { t } from '../i18n/i18n';
import { initialsOf } from '../lib/names';
import { FrameWatch, tileCondition, type TileCondition } from '../lib/tile-health';
import { bindVideo, unbindVideo } from '../meeting/meeting-controller';
import { useConnectionStore } from '../state/connection-store';
import { handPosition, roleOf, useLiveStore, verdictOf } from '../state/live-store';
import { useMediaHealthStore } from '../state/media-health-store';
import { isSpeaking, useRosterStore, type RosterEntry } from '../state/roster-store';
import type { Tile } from '../state/tiles-store';
import { useUiStore } from '../state/ui-store';
import { Icon } from './Icon';

/** Polls the decoded-frame counter: a remote video that stops advancing is frozen. */
function useFrozen(ref: React.RefObject<HTMLVideoElement | null>, active: boolean): boolean {
  const [frozen, setFrozen] = useState(false);
  useEffect(() => {
    if (!active) {
      setFrozen(false);
      return;
    }
    const watch = new FrameWatch();
    const timer = setInterval(() => {
      const video = ref.current;
      if (!video) return;
      setFrozen(watch.update(video.getVideoPlaybackQuality?.().totalVideoFrames ?? 0, performance.now()));
    }, 250);
    return () => clearInterval(timer);
  }, [ref, active]);
  return frozen;
}

function VideoSurface({ tileId, mirror, contain, videoRef }: { tileId: number; mirror: boolean; contain: boolean; videoRef?: React.RefObject<HTMLVideoElement | null> }) {
  const own = useRef<HTMLVideoElement>(null);
  const ref = videoRef ?? own;
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    bindVideo(tileId, el);
    return () => unbindVideo(tileId);
  }, [tileId, ref]);
  return <video ref={ref} className={`tile-video ${mirror ? 'mirror' : ''} ${contain ? 'contain' : ''}`} autoPlay playsInline muted data-tile-id={tileId} />;
}

const CONDITION_COPY: Partial<Record<TileCondition, string>> = {
  frozen: t.tile.frozen,
  poor: t.tile.poor,
  paused: t.tile.paused,
  reconnecting: t.tile.reconnecting,
};

/** One participant: video when there is a tile, initials otherwise; name, mute, hand and connection state; pin. */
export const ParticipantTile = memo(function ParticipantTile({ entry, tile, self, large = false }: { entry: RosterEntry; tile: Tile | undefined; self: boolean; large?: boolean }) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const live = useLiveStore((s) => s.live);
  const pinned = useUiStore((s) => s.pinned === entry.attendeeId);
  const pin = useUiStore((s) => s.pin);
  const hasVideo = Boolean(tile?.hasVideo);
  const frozen = useFrozen(videoRef, hasVideo && !self && !tile?.paused);
  const setFrozen = useMediaHealthStore((s) => s.setFrozen);
  useEffect(() => {
    if (!self) setFrozen(entry.attendeeId, frozen);
  }, [self, frozen, entry.attendeeId, setFrozen]);
  const selfReconnecting = useConnectionStore((s) => self && s.assessment.reconnecting);
  const condition: TileCondition = self
    ? selfReconnecting
      ? 'reconnecting'
      : hasVideo
        ? 'live'
        : 'no-video'
    : tileCondition({
        hasVideo,
        dropped: entry.droppedAt !== undefined,
        verdict: verdictOf(live, entry.attendeeId),
        paused: Boolean(tile?.paused),
        poorConnection: Boolean(tile?.poorConnection),
        frozen,
        signal: entry.signal,
      });
  const speaking = isSpeaking(entry);
  const present = useRosterStore((s) => s.attendees);
  const hand = handPosition(live, entry.attendeeId, present);
  const role = roleOf(live, entry.attendeeId);
  const label = self ? t.tile.you(entry.name) : entry.name;
  const conditionText = CONDITION_COPY[condition];
  const description = [label, entry.muted ? t.tile.mutedSuffix : '', speaking ? t.tile.speaking : '', hand ? t.tile.handRaised : '', conditionText ?? ''].filter(Boolean).join(', ');
  return (
    <figure
      className={`tile ${entry.activeSpeaker ? 'active-speaker' : ''} ${speaking ? 'speaking' : ''} ${large ? 'large' : ''} condition-${condition}`}
      data-testid="participant-tile"
      data-attendee-id={entry.attendeeId}
      data-name={entry.name}
      data-video={tile ? 'on' : 'off'}
      data-condition={condition}
      data-hand={hand || undefined}
      data-pinned={pinned ? 'true' : undefined}
      aria-label={description}
    >
      {tile && hasVideo ? (
        <VideoSurface tileId={tile.tileId} mirror={self} contain={false} videoRef={videoRef} />
      ) : (
        <div className="avatar" aria-hidden="true">
          {initialsOf(entry.name)}
        </div>
      )}
      {conditionText && (
        <div className={`tile-condition ${condition}`} data-testid="tile-condition" aria-hidden="true">
          {condition === 'reconnecting' && <span className="spinner" />}
          {conditionText}
        </div>
      )}
      {hand > 0 && (
        <span className="tile-hand" title={t.tile.handRaised} data-testid="tile-hand" aria-hidden="true">
          <Icon name="hand" size={14} /> {hand}
        </span>
      )}
      <button
        type="button"
        className={`tile-pin ${pinned ? 'on' : ''}`}
        aria-pressed={pinned}
        aria-label={pinned ? t.tile.unpin(entry.name) : t.tile.pin(entry.name)}
        title={pinned ? t.tile.unpin(entry.name) : t.tile.pin(entry.name)}
        onClick={() => pin(pinned ? undefined : entry.attendeeId)}
        data-testid="pin-button"
      >
        <Icon name="pin" size={16} />
      </button>
      <figcaption className="tile-label">
        {entry.muted ? (
          <span className="tile-muted" title={t.tile.muted} data-testid="tile-muted">
            <Icon name="micOff" size={14} />
          </span>
        ) : (
          <span className={`voice ${speaking ? 'on' : ''}`} aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
        )}
        <span className="tile-name">{label}</span>
        {role !== 'guest' && <span className="tile-role">{role === 'host' ? t.roster.host : t.roster.cohost}</span>}
      </figcaption>
    </figure>
  );
});

export function ContentTile({ tile, ownerName, visible = true }: { tile: Tile; ownerName: string; visible?: boolean }) {
  return (
    <figure className={`content-tile ${visible ? '' : 'hidden-share'}`} data-testid="content-tile" data-tile-id={tile.tileId} data-visible={visible ? 'true' : 'false'} aria-label={t.meeting.isSharing(ownerName)} aria-hidden={!visible}>
      <VideoSurface tileId={tile.tileId} mirror={false} contain />
      <figcaption className="tile-label">
        <span className="tile-name">{t.meeting.screenOf(ownerName)}</span>
      </figcaption>
    </figure>
  );
}

/** What the sharer sees instead of their own screen looped back: a note, a small preview and Stop. */
export function OwnSharePreview({ tile, onStop }: { tile: Tile | undefined; onStop: () => void }) {
  return (
    <section className="own-share" data-testid="own-share" aria-labelledby="own-share-title">
      <div className="own-share-preview" aria-label={t.meeting.yourSharePreview}>
        {tile && <VideoSurface tileId={tile.tileId} mirror={false} contain />}
      </div>
      <div className="own-share-text">
        <h2 id="own-share-title">{t.meeting.sharingTitle}</h2>
        <p className="muted small">{t.meeting.sharingDetail}</p>
      </div>
      <button type="button" className="button danger-solid" onClick={onStop} data-testid="stop-sharing">
        {t.meeting.stopSharing}
      </button>
    </section>
  );
}
