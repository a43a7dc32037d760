import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src-main/client/app-join.js';
import { parseLoadArgs } from '../../src-main/client/load-args.js';
import { runLoad } from '../../src-main/client/load-run.js';
import { formatInviteLink } from '../../src-main/shared/invite-link.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** `npm run load`: headless attendees join a real meeting through its invite link. */

let plain: TestServer;
let tls: TestServer;

beforeAll(async () => {
  [plain, tls] = await Promise.all([
    startTestServer({ iceHost: '127.0.0.1' }),
    startTestServer({ iceHost: '127.0.0.1', tls: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([plain?.close(), tls?.close()]);
});

describe('the load tool', () => {
  it('joins attendees through a passcode-protected invite link; everyone hears the speaker and sees both cameras', async () => {
    const created = await plain.server.appMeetings.create({ name: 'Load check', passcode: 'sesame42' });
    const invite = formatInviteLink({ serverUrl: plain.server.url, meetingCode: created.meetingCode });
    const report = await runLoad({
      target: await resolveTarget(invite, 'sesame42'),
      attendees: 4, video: 2, speakers: 1, receive: 16, seconds: 3, videoPacketsPerSecond: 30,
    });
    expect(report.failedJoins).toEqual([]);
    expect(report.joined).toBe(4);
    expect(report.hearingAudio).toBe(4);
    expect(report.seeingVideo).toBe(4);
    // Publishers see one camera each, the other two see both: 6 streams of 30 packets a second.
    expect(report.expectedVideoPacketsPerSecond).toBe(180);
    // Much of it arrives: the load generator is itself a process on the same 2 cores, so its count drops with
    // the machine's load (119 a second with one core kept busy by another process), while a broken path
    // delivers none; that each attendee sees video is checked above.
    expect(report.videoPacketsPerSecond).toBeGreaterThan(0.5 * 180);
    expect(report.closed).toEqual([]);
  }, 60_000);

  it('reports a wrong passcode as a failed join with the server\'s error', async () => {
    const created = await plain.server.appMeetings.create({ name: 'Locked', passcode: 'sesame42' });
    const invite = formatInviteLink({ serverUrl: plain.server.url, meetingCode: created.meetingCode });
    const report = await runLoad({ target: await resolveTarget(invite, 'wrong-one'), attendees: 1, video: 0, speakers: 0, receive: 0, seconds: 1, videoPacketsPerSecond: 30 });
    expect(report.joined).toBe(0);
    expect(report.failedJoins[0]).toMatch(/403 ForbiddenException The passcode is not correct/);
  }, 30_000);

  it('pins a self-signed server by the link\'s fingerprint, and refuses one that does not match', async () => {
    const created = await tls.server.appMeetings.create({ name: 'Over TLS' });
    const fingerprint = tls.server.tls!.fingerprint256;
    const good = formatInviteLink({ serverUrl: tls.server.url, meetingCode: created.meetingCode, fingerprint });
    const report = await runLoad({ target: await resolveTarget(good), attendees: 2, video: 1, speakers: 1, receive: 1, seconds: 1, videoPacketsPerSecond: 30 });
    expect([report.joined, report.seeingVideo, report.hearingAudio]).toEqual([2, 1, 2]);

    const wrong = formatInviteLink({ serverUrl: tls.server.url, meetingCode: created.meetingCode, fingerprint: fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00') });
    await expect(resolveTarget(wrong)).rejects.toThrow(/presents certificate .* not .* from the link: refusing to connect/);
    await expect(resolveTarget(formatInviteLink({ serverUrl: tls.server.url, meetingCode: created.meetingCode }))).rejects.toThrow(/needs the server's certificate fingerprint/);
  }, 60_000);

  it('validates its options', () => {
    expect(parseLoadArgs(['--help'])).toBe('help');
    expect(() => parseLoadArgs([])).toThrow(/--url is required/);
    expect(() => parseLoadArgs(['--url', 'x', '--attendees', '0'])).toThrow(/--attendees must be a whole number from 1 to 250/);
    expect(() => parseLoadArgs(['--url', 'x', '--bogus', '1'])).toThrow(/Unknown option --bogus/);
    expect(parseLoadArgs(['--url', 'x', '--attendees', '3', '--video', '9'])).toMatchObject({ attendees: 3, video: 3 });
  });

  it('runs as `npm run load` and prints what the attendees received', async () => {
    const created = await plain.server.appMeetings.create({ name: 'From the command line' });
    const link = `${plain.server.url}/join/${created.meetingCode}#host=${created.hostKey}`;
    const child = spawn('npm', ['run', '--silent', 'load', '--', '--url', link, '--attendees', '2', '--video', '1', '--seconds', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(out).toMatch(/joined: 2; join time p50 \d+ ms/);
    expect(out).toMatch(/2 of 2 received audio .* 1 received video/);
    expect(code).toBe(0);
  }, 60_000);
});
