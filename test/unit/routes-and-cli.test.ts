import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src-main/server/cli-args.js';
import { matchRoute } from '../../src-main/server/control-plane/routes.js';
import { createLogger, redact } from '../../src-main/server/logger.js';
import { derivePublicBaseUrl } from '../../src-main/server/runtime/network.js';

const M = '11111111-2222-4333-8444-555555555555';
const A = '66666666-7777-4888-9999-000000000000';

describe('matchRoute mirrors the service REST bindings', () => {
  it.each([
    ['POST', '/meetings', null, 'CreateMeeting'],
    ['POST', '/meetings', 'create-attendees', 'CreateMeetingWithAttendees'],
    ['GET', `/meetings/${M}`, null, 'GetMeeting'],
    ['DELETE', `/meetings/${M}`, null, 'DeleteMeeting'],
    ['POST', `/meetings/${M}/attendees`, null, 'CreateAttendee'],
    ['POST', `/meetings/${M}/attendees`, 'batch-create', 'BatchCreateAttendee'],
    ['GET', `/meetings/${M}/attendees`, null, 'ListAttendees'],
    ['GET', `/meetings/${M}/attendees/${A}`, null, 'GetAttendee'],
    ['DELETE', `/meetings/${M}/attendees/${A}`, null, 'DeleteAttendee'],
    ['PUT', `/meetings/${M}/attendees/${A}/capabilities`, null, 'UpdateAttendeeCapabilities'],
    ['PUT', `/meetings/${M}/attendees/capabilities`, 'batch-update-except', 'BatchUpdateAttendeeCapabilitiesExcept'],
  ])('%s %s ?operation=%s is %s', (method, path, op, operation) => {
    expect(matchRoute(method, path, op)).toMatchObject({ kind: 'operation', operation });
  });

  it('captures path parameters', () => {
    expect(matchRoute('GET', `/meetings/${M}/attendees/${A}`, null)).toEqual({ kind: 'operation', operation: 'GetAttendee', meetingId: M, attendeeId: A });
  });

  it('distinguishes unknown paths, wrong methods and unknown operations', () => {
    expect(matchRoute('GET', '/meetingz', null)).toEqual({ kind: 'not-found' });
    expect(matchRoute('PATCH', `/meetings/${M}`, null)).toEqual({ kind: 'method-not-allowed', allowed: ['GET', 'DELETE'] });
    expect(matchRoute('POST', '/meetings', 'nope')).toEqual({ kind: 'unknown-operation', operation: 'nope' });
    expect(matchRoute('GET', '/meetings/%E0%A4%A', null)).toEqual({ kind: 'not-found' });
  });
});

describe('parseCliArgs', () => {
  it('has safe defaults', () => {
    const { config, logLevel, help } = parseCliArgs([], { HOME: '/home/x' });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, tls: false, maxActiveMeetings: 100 });
    expect(config.lifecycle).toEqual({ noJoinMs: 300_000, emptyMs: 300_000, maxDurationMs: 86_400_000 });
    expect(logLevel).toBe('info');
    expect(help).toBe(false);
  });

  it('reads every option in both --flag value and --flag=value forms', () => {
    const { config } = parseCliArgs([
      '--host', '0.0.0.0', '--port=0', '--tls', '--public-url', 'https://h:1', '--data-dir', '/d',
      '--max-meetings', '3', '--no-join-timeout', '10', '--empty-timeout=20', '--max-duration', '30', '--max-egress-mbps', '25',
    ], {});
    expect(config).toMatchObject({ host: '0.0.0.0', port: 0, tls: true, publicUrl: 'https://h:1', dataDir: '/d', maxActiveMeetings: 3, maxEgressMbps: 25 });
    expect(config.lifecycle).toEqual({ noJoinMs: 10_000, emptyMs: 20_000, maxDurationMs: 30_000 });
  });

  it('takes the data directory from CHORUS_DATA_DIR', () => {
    expect(parseCliArgs([], { CHORUS_DATA_DIR: '/srv/chorus' }).config.dataDir).toBe('/srv/chorus');
  });

  it.each([
    [['--port', '70000'], /--port must be an integer/],
    [['--port'], /--port needs a value/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--public-url', 'ftp://x'], /http:\/\/ or https:\/\//],
    [['--log-level', 'loud'], /--log-level/],
    [['--max-meetings', '0'], /--max-meetings/],
    [['--max-egress-mbps', '-1'], /--max-egress-mbps/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCliArgs(argv as string[], {})).toThrow(message);
  });
});

describe('logging', () => {
  it('writes one JSON object per line and redacts credential-like fields', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line), level: 'info' }).child({ meetingId: 'm1' });
    logger.debug('hidden', {});
    logger.info('joined', { attendeeId: 'a1', joinToken: 'SECRET1', Authorization: 'SECRET2', error: new Error('boom') });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'info', event: 'joined', meetingId: 'm1', attendeeId: 'a1', joinToken: '[redacted]', Authorization: '[redacted]' });
    expect(record.error).toEqual({ name: 'Error', message: 'boom' });
    expect(lines[0]).not.toContain('SECRET');
    expect(redact({ secretAccessKey: 'x', passcode: 'y' })).toEqual({ secretAccessKey: '[redacted]', passcode: '[redacted]' });
  });
});

describe('derivePublicBaseUrl', () => {
  it('prefers --public-url, brackets IPv6, and picks the scheme from TLS', () => {
    expect(derivePublicBaseUrl({ host: '127.0.0.1', port: 80, tls: false, publicUrl: 'https://a.b/' })).toBe('https://a.b');
    expect(derivePublicBaseUrl({ host: '::1', port: 9, tls: true })).toBe('https://[::1]:9');
    expect(derivePublicBaseUrl({ host: '127.0.0.1', port: 9, tls: false })).toBe('http://127.0.0.1:9');
    expect(derivePublicBaseUrl({ host: '0.0.0.0', port: 9, tls: true })).toMatch(/^https:\/\/\d+\.\d+\.\d+\.\d+:9$/);
  });
});
