import { useLayoutEffect, useMemo, useRef, useState } from 'react';
import { gridShape, MAX_GRID_TILES } from '../lib/grid-layout';
import { orderedRoster, useRosterStore } from '../state/roster-store';
import { useSessionStore } from '../state/session-store';
import { cameraTilesByAttendee, contentOwner, stageContentTile, useTilesStore } from '../state/tiles-store';
import { ContentTile, ParticipantTile } from './VideoTile';

const GRID_GAP_PX = 10;

function useSize<T extends HTMLElement>(): [React.RefObject<T | null>, { width: number; height: number }] {
  const ref = useRef<T>(null);
  const [size, setSize] = useState({ width: 1280, height: 720 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setSize({ width: entry.contentRect.width, height: entry.contentRect.height });
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, size];
}

/** The stage: a grid of participants, or a content share with a filmstrip beside it. */
export function VideoGrid() {
  const attendees = useRosterStore((s) => s.attendees);
  const tiles = useTilesStore((s) => s.tiles);
  const selfId = useSessionStore((s) => s.identity?.selfAttendeeId);
  const [ref, size] = useSize<HTMLDivElement>();

  const people = useMemo(() => orderedRoster(attendees, selfId), [attendees, selfId]);
  const cameras = useMemo(() => cameraTilesByAttendee(tiles), [tiles]);
  const content = useMemo(() => stageContentTile(tiles), [tiles]);
  // People with video first, so the 17 visible places go to cameras.
  const visible = useMemo(() => {
    const self = people.filter((p) => p.attendeeId === selfId);
    const others = people.filter((p) => p.attendeeId !== selfId);
    const withVideo = others.filter((p) => cameras.has(p.attendeeId));
    const without = others.filter((p) => !cameras.has(p.attendeeId));
    return [...self, ...withVideo, ...without].slice(0, MAX_GRID_TILES);
  }, [people, cameras, selfId]);
  const hidden = people.length - visible.length;

  if (content) {
    const owner = attendees[contentOwner(content)]?.name ?? 'Someone';
    return (
      <div className="stage with-content" ref={ref}>
        <div className="stage-main">
          <ContentTile tile={content} ownerName={owner} />
        </div>
        <div className="filmstrip" aria-label="Participants">
          {visible.map((p) => (
            <ParticipantTile key={p.attendeeId} entry={p} tile={cameras.get(p.attendeeId)} self={p.attendeeId === selfId} />
          ))}
        </div>
      </div>
    );
  }

  // Tiles keep 16:9 and the grid is centred, so video is not cropped into odd shapes.
  const { columns, rows, tileWidth } = gridShape(visible.length, size.width, size.height, 16 / 9, GRID_GAP_PX);
  const w = Math.floor(tileWidth);
  const h = Math.floor((tileWidth * 9) / 16);
  return (
    <div className="stage" ref={ref}>
      <div className="grid" style={{ gridTemplateColumns: `repeat(${columns}, ${w}px)`, gridTemplateRows: `repeat(${rows}, ${h}px)` }} data-testid="video-grid" data-columns={columns}>
        {visible.map((p) => (
          <ParticipantTile key={p.attendeeId} entry={p} tile={cameras.get(p.attendeeId)} self={p.attendeeId === selfId} />
        ))}
      </div>
      {hidden > 0 && <p className="more-people">+{hidden} more in the participant list</p>}
    </div>
  );
}
