import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { t } from '../i18n/i18n';
import { gridShape, MAX_GRID_TILES } from '../lib/grid-layout';
import { toggleShare } from '../meeting/meeting-controller';
import { orderedRoster, useRosterStore, type RosterEntry } from '../state/roster-store';
import { useSessionStore } from '../state/session-store';
import { cameraTilesByAttendee, contentOwner, contentTiles, ownContentTile, stageContentTile, useTilesStore, type Tile } from '../state/tiles-store';
import { useUiStore } from '../state/ui-store';
import { ContentTile, OwnSharePreview, ParticipantTile } from './VideoTile';

const GRID_GAP_PX = 10;
/** A share chosen for the stage replaces the one shown once it has a frame, or after this long at the latest. */
const SWITCH_WAIT_MS = 3_000;

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

/** Self first, then people with video, so the 17 visible places go to cameras. */
function visiblePeople(people: RosterEntry[], cameras: Map<string, Tile>, selfId: string | undefined): RosterEntry[] {
  const self = people.filter((p) => p.attendeeId === selfId);
  const others = people.filter((p) => p.attendeeId !== selfId);
  return [...self, ...others.filter((p) => cameras.has(p.attendeeId)), ...others.filter((p) => !cameras.has(p.attendeeId))];
}

/** Who is large in speaker view: the pinned person, else whoever spoke last (sticky), else the first camera. */
function useSpotlight(people: RosterEntry[], cameras: Map<string, Tile>, selfId: string | undefined, pinned: string | undefined): RosterEntry | undefined {
  const last = useRef<string | undefined>(undefined);
  const speaker = people.find((p) => p.activeSpeaker && p.attendeeId !== selfId);
  if (speaker) last.current = speaker.attendeeId;
  const byId = (id: string | undefined): RosterEntry | undefined => (id ? people.find((p) => p.attendeeId === id) : undefined);
  const others = people.filter((p) => p.attendeeId !== selfId);
  return byId(pinned) ?? byId(last.current) ?? others.find((p) => cameras.has(p.attendeeId)) ?? others[0] ?? people[0];
}

/** The share on stage, switched only once the next one shows a picture (never a black stage). */
function useShownShare(desired: Tile | undefined, shares: Tile[]): number | undefined {
  const [shown, setShown] = useState<number | undefined>(desired?.tileId);
  const desiredId = desired?.tileId;
  const stillThere = shares.some((s) => s.tileId === shown);
  useEffect(() => {
    if (desiredId === shown) return;
    if (desiredId === undefined || !stillThere) {
      setShown(desiredId);
      return;
    }
    const started = performance.now();
    const timer = setInterval(() => {
      const video = document.querySelector<HTMLVideoElement>(`[data-testid="content-tile"][data-tile-id="${desiredId}"] video`);
      if ((video && video.videoWidth > 0) || performance.now() - started > SWITCH_WAIT_MS) {
        clearInterval(timer);
        setShown(desiredId);
      }
    }, 50);
    return () => clearInterval(timer);
  }, [desiredId, shown, stillThere]);
  return stillThere ? shown : desiredId;
}

function ShareTabs({ shares, shownId, names }: { shares: Tile[]; shownId: number | undefined; names: (tile: Tile) => string }) {
  const choose = useUiStore((s) => s.chooseContent);
  if (shares.length < 2) return null;
  return (
    <div className="share-tabs" role="tablist" aria-label={t.meeting.shareTabs}>
      {shares.map((tile) => (
        <button
          key={tile.tileId}
          type="button"
          role="tab"
          aria-selected={tile.tileId === shownId}
          className={`share-tab ${tile.tileId === shownId ? 'on' : ''}`}
          onClick={() => choose(tile.tileId)}
          data-testid="share-tab"
        >
          {t.meeting.screenOf(names(tile))}
        </button>
      ))}
    </div>
  );
}

/** The stage: a grid, a speaker view, or content shares with a filmstrip; the sharer's own preview above. */
export function VideoGrid() {
  const attendees = useRosterStore((s) => s.attendees);
  const tiles = useTilesStore((s) => s.tiles);
  const selfId = useSessionStore((s) => s.identity?.selfAttendeeId);
  const sharing = useSessionStore((s) => s.sharing);
  const layout = useUiStore((s) => s.layout);
  const pinned = useUiStore((s) => s.pinned);
  const chosen = useUiStore((s) => s.chosenContentTileId);
  const [ref, size] = useSize<HTMLDivElement>();

  const people = useMemo(() => orderedRoster(attendees, selfId), [attendees, selfId]);
  const cameras = useMemo(() => cameraTilesByAttendee(tiles), [tiles]);
  const shares = useMemo(() => contentTiles(tiles, selfId).filter((c) => !c.own).map((c) => c.tile), [tiles, selfId]);
  const ownShare = useMemo(() => ownContentTile(tiles, selfId), [tiles, selfId]);
  const desired = useMemo(() => stageContentTile(tiles, selfId, chosen), [tiles, selfId, chosen]);
  const shownId = useShownShare(desired, shares);
  const visible = useMemo(() => visiblePeople(people, cameras, selfId), [people, cameras, selfId]);
  const spotlight = useSpotlight(people, cameras, selfId, pinned);
  const nameOf = (tile: Tile): string => attendees[contentOwner(tile)]?.name ?? t.meeting.someone;
  const tileFor = (p: RosterEntry) => <ParticipantTile key={p.attendeeId} entry={p} tile={cameras.get(p.attendeeId)} self={p.attendeeId === selfId} />;
  const ownPreview = sharing && <OwnSharePreview tile={ownShare} onStop={() => void toggleShare()} />;
  // A second share is announced, not put on stage over the first.
  const shareIds = shares.map((s) => s.tileId).join();
  const known = useRef(new Set<number>());
  useEffect(() => {
    for (const tile of shares) {
      if (known.current.has(tile.tileId)) continue;
      if (known.current.size > 0 && shares.length > 1) useUiStore.getState().toast(t.meeting.alsoSharing(nameOf(tile)));
      known.current.add(tile.tileId);
    }
    for (const id of [...known.current]) if (!shares.some((s) => s.tileId === id)) known.current.delete(id);
  }, [shareIds]);

  if (shares.length > 0) {
    return (
      <div className="stage-column" aria-label={t.meeting.stage}>
        {ownPreview}
        <ShareTabs shares={shares} shownId={shownId} names={nameOf} />
        <div className="stage with-content" ref={ref} data-layout="content">
          <div className="stage-main">
            {/* Every share stays bound and decoding; only the chosen one is shown, so switching is instant. */}
            {shares.map((tile) => (
              <ContentTile key={tile.tileId} tile={tile} ownerName={nameOf(tile)} visible={tile.tileId === shownId} />
            ))}
          </div>
          <div className="filmstrip" aria-label={t.meeting.participants} data-testid="filmstrip">
            {visible.map(tileFor)}
          </div>
        </div>
      </div>
    );
  }

  if ((layout === 'speaker' || pinned) && spotlight && people.length > 1) {
    const rest = visible.filter((p) => p.attendeeId !== spotlight.attendeeId);
    return (
      <div className="stage-column" aria-label={t.meeting.stage}>
        {ownPreview}
        <div className="stage speaker-view" ref={ref} data-layout="speaker" data-testid="speaker-view">
          <div className="spotlight" data-testid="spotlight">
            <ParticipantTile entry={spotlight} tile={cameras.get(spotlight.attendeeId)} self={spotlight.attendeeId === selfId} large />
          </div>
          <div className="strip" aria-label={t.meeting.participants} data-testid="strip">
            {rest.map(tileFor)}
          </div>
        </div>
      </div>
    );
  }

  const shown = visible.slice(0, MAX_GRID_TILES);
  const hidden = people.length - shown.length;
  // Tiles keep 16:9 and the grid is centred, so video is not cropped into odd shapes.
  const { columns, rows, tileWidth } = gridShape(shown.length, size.width, size.height, 16 / 9, GRID_GAP_PX);
  const w = Math.floor(tileWidth);
  const h = Math.floor((tileWidth * 9) / 16);
  return (
    <div className="stage-column" aria-label={t.meeting.stage}>
      {ownPreview}
      <div className="stage" ref={ref} data-layout="grid">
        <div className="grid" style={{ gridTemplateColumns: `repeat(${columns}, ${w}px)`, gridTemplateRows: `repeat(${rows}, ${h}px)` }} data-testid="video-grid" data-columns={columns}>
          {shown.map(tileFor)}
        </div>
        {hidden > 0 && <p className="more-people">{t.meeting.morePeople(hidden)}</p>}
      </div>
    </div>
  );
}
