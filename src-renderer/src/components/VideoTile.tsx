import { memo, useEffect, useRef } from 'react';
import { initialsOf } from '../lib/names';
import { bindVideo, unbindVideo } from '../meeting/meeting-controller';
import { isSpeaking, type RosterEntry } from '../state/roster-store';
import type { Tile } from '../state/tiles-store';
import { Icon } from './Icon';

function VideoSurface({ tileId, mirror, contain }: { tileId: number; mirror: boolean; contain: boolean }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    bindVideo(tileId, el);
    return () => unbindVideo(tileId);
  }, [tileId]);
  return <video ref={ref} className={`tile-video ${mirror ? 'mirror' : ''} ${contain ? 'contain' : ''}`} autoPlay playsInline muted data-tile-id={tileId} />;
}

/** One participant: video when there is a tile, initials otherwise; name, mute and speaking state. */
export const ParticipantTile = memo(function ParticipantTile({ entry, tile, self }: { entry: RosterEntry; tile: Tile | undefined; self: boolean }) {
  const speaking = isSpeaking(entry);
  const label = `${entry.name}${self ? ' (you)' : ''}`;
  return (
    <figure
      className={`tile ${entry.activeSpeaker ? 'active-speaker' : ''} ${speaking ? 'speaking' : ''}`}
      data-testid="participant-tile"
      data-attendee-id={entry.attendeeId}
      data-name={entry.name}
      data-video={tile ? 'on' : 'off'}
      aria-label={`${label}${entry.muted ? ', muted' : ''}${speaking ? ', speaking' : ''}`}
    >
      {tile ? (
        <VideoSurface tileId={tile.tileId} mirror={self} contain={false} />
      ) : (
        <div className="avatar" aria-hidden="true">
          {initialsOf(entry.name)}
        </div>
      )}
      <figcaption className="tile-label">
        {entry.muted ? (
          <span className="tile-muted" title="Muted" data-testid="tile-muted">
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
        {entry.signal < 0.5 && (
          <span className="weak-signal" title="Weak connection">
            <Icon name="signal" size={12} />
          </span>
        )}
      </figcaption>
    </figure>
  );
});

export function ContentTile({ tile, ownerName }: { tile: Tile; ownerName: string }) {
  return (
    <figure className="content-tile" data-testid="content-tile" aria-label={`${ownerName} is sharing their screen`}>
      <VideoSurface tileId={tile.tileId} mirror={false} contain />
      <figcaption className="tile-label">
        <span className="tile-name">{tile.local ? 'You are sharing your screen' : `${ownerName}'s screen`}</span>
      </figcaption>
    </figure>
  );
}
