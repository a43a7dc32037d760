import { describe, expect, it } from 'vitest';
import { MeetingLifecycle, type MeetingEndReason } from '../../src-main/server/control-plane/meeting-lifecycle.js';
import { ManualClock } from '../helpers/manual-clock.js';


const TIMEOUTS = { noJoinMs: 5 * 60_000, emptyMs: 5 * 60_000, maxDurationMs: 24 * 3600_000 };

function setup() {
  const clock = new ManualClock();
  const expired: [string, MeetingEndReason, number][] = [];
  const lifecycle = new MeetingLifecycle(TIMEOUTS, clock, (id, reason) => expired.push([id, reason, clock.now()]));
  return { clock, expired, lifecycle };
}

describe('MeetingLifecycle', () => {
  it('expires an unjoined meeting exactly at the no-join timeout', () => {
    const { clock, expired, lifecycle } = setup();
    lifecycle.track('m', 0);
    clock.advance(5 * 60_000 - 1);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toEqual([['m', 'no-attendee-joined', 5 * 60_000]]);
    expect(clock.pending).toBe(0);
  });

  it('counts the empty timeout from the last departure', () => {
    const { clock, expired, lifecycle } = setup();
    lifecycle.track('m', 0);
    clock.advance(60_000);
    lifecycle.joined('m', 'a');
    lifecycle.joined('m', 'b');
    clock.advance(60 * 60_000);
    lifecycle.left('m', 'a');
    clock.advance(10 * 60_000);
    expect(expired).toEqual([]);
    lifecycle.left('m', 'b');
    const leftAt = clock.now();
    clock.advance(5 * 60_000);
    expect(expired).toEqual([['m', 'all-attendees-left', leftAt + 5 * 60_000]]);
  });

  it('ignores a departure of someone who was never present', () => {
    const { clock, expired, lifecycle } = setup();
    lifecycle.track('m', 0);
    lifecycle.joined('m', 'a');
    lifecycle.left('m', 'ghost');
    clock.advance(60 * 60_000);
    expect(expired).toEqual([]);
    expect(lifecycle.presentCount('m')).toBe(1);
  });

  it('ends a busy meeting at 24 hours', () => {
    const { clock, expired, lifecycle } = setup();
    lifecycle.track('m', 0);
    lifecycle.joined('m', 'a');
    clock.advance(24 * 3600_000);
    expect(expired).toEqual([['m', 'max-duration', 24 * 3600_000]]);
  });

  it('never reports a forgotten meeting and close() clears every timer', () => {
    const { clock, expired, lifecycle } = setup();
    lifecycle.track('a', 0);
    lifecycle.track('b', 0);
    lifecycle.forget('a');
    lifecycle.close();
    expect(clock.pending).toBe(0);
    clock.advance(48 * 3600_000);
    expect(expired).toEqual([]);
  });
});
