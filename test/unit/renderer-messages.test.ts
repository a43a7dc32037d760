import { MeetingSessionStatusCode } from 'amazon-chime-sdk-js';
import { describe, expect, it } from 'vitest';
import { qrMatrix } from '../../src-renderer/src/lib/qr';
import { endReasonFor, STATUS } from '../../src-renderer/src/meeting/end-reasons';
import { decodeChat, decodeReaction, encodeChat, encodeReaction, HOST_CONTROL_TOPIC, isHostMute, MAX_DATA_MESSAGE_BYTES, SendBudget } from '../../src-renderer/src/meeting/messages';
import { HOST_CONTROL_TOPIC as SERVER_HOST_CONTROL_TOPIC } from '../../src-main/server/app-api/live-control';
import { inviteServerUrl } from '../../src-renderer/src/components/InviteDialog';

describe('chat and reaction messages', () => {
  it('round-trip and refuse what Chime would refuse (over 2 KB) or what is malformed', () => {
    const ok = encodeChat('id-1', '  héllo 👋  ');
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(decodeChat(ok.bytes)).toEqual({ id: 'id-1', text: 'héllo 👋' });
    expect(encodeChat('id', '   ')).toEqual({ ok: false, reason: 'The message is empty' });
    const big = encodeChat('id', '€'.repeat(700));
    expect(big.ok).toBe(false);
    if (!big.ok) expect(big.reason).toMatch(/at most 2048 bytes/);
    // The largest message that fits is accepted: the limit is bytes, not characters.
    const overhead = new TextEncoder().encode(JSON.stringify({ v: 1, id: 'id', text: '' })).length;
    expect(encodeChat('id', 'a'.repeat(MAX_DATA_MESSAGE_BYTES - overhead)).ok).toBe(true);
    expect(encodeChat('id', 'a'.repeat(MAX_DATA_MESSAGE_BYTES - overhead + 1)).ok).toBe(false);
    const enc = new TextEncoder();
    for (const bad of ['', 'null', '[]', '{"v":2,"id":"a","text":"b"}', '{"v":1,"id":"","text":"b"}', '{"v":1,"id":"a"}', '\xff\xfe']) {
      expect(decodeChat(enc.encode(bad)), bad).toBeUndefined();
    }
    expect(decodeChat(new Uint8Array([0xff, 0xfe, 0x00]))).toBeUndefined();
    expect(decodeReaction(encodeReaction('🎉'))).toBe('🎉');
    expect(decodeReaction(encodeReaction('<script>'))).toBeUndefined();
  });

  it('recognises the server’s host-mute notice on the topic the server uses', () => {
    expect(HOST_CONTROL_TOPIC).toBe(SERVER_HOST_CONTROL_TOPIC);
    const enc = new TextEncoder();
    expect(isHostMute(enc.encode('{"v":1,"action":"mute"}'))).toBe(true);
    expect(isHostMute(enc.encode('{"v":1,"action":"remove"}'))).toBe(false);
    expect(isHostMute(enc.encode('mute'))).toBe(false);
  });

  it('budgets sends per window', () => {
    const budget = new SendBudget(2, 1000);
    expect([budget.take(0), budget.take(10), budget.take(20)]).toEqual([true, true, false]);
    expect(budget.take(1000)).toBe(true);
  });
});

describe('end reasons', () => {
  it('use the SDK’s own status codes', () => {
    for (const [name, value] of Object.entries(STATUS)) expect(MeetingSessionStatusCode[name as keyof typeof MeetingSessionStatusCode], name).toBe(value);
    expect(endReasonFor(MeetingSessionStatusCode.Left)).toBe('left');
    expect(endReasonFor(MeetingSessionStatusCode.MeetingEnded)).toBe('ended');
    expect(endReasonFor(MeetingSessionStatusCode.AudioAttendeeRemoved)).toBe('removed');
    expect(endReasonFor(MeetingSessionStatusCode.AudioJoinedFromAnotherDevice)).toBe('elsewhere');
    expect(endReasonFor(MeetingSessionStatusCode.SignalingChannelClosedUnexpectedly)).toBe('connection-lost');
  });
});

describe('invite QR code', () => {
  it('is a valid QR symbol: (4v+17) square with the three finder patterns', () => {
    const m = qrMatrix('https://192.168.1.20:8443/join/abc-defg-hij?fp=' + 'AB:'.repeat(31) + 'AB');
    const n = m.length;
    expect((n - 17) % 4).toBe(0);
    for (const row of m) expect(row).toHaveLength(n);
    const finder = (r0: number, c0: number) => {
      for (let r = 0; r < 7; r++) {
        for (let c = 0; c < 7; c++) {
          const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
          expect(m[r0 + r]![c0 + c], `${r0 + r},${c0 + c}`).toBe(ring !== 2);
        }
      }
    };
    finder(0, 0);
    finder(0, n - 7);
    finder(n - 7, 0);
    // Different text, different code.
    expect(JSON.stringify(qrMatrix('a'))).not.toBe(JSON.stringify(qrMatrix('b')));
  });

  it('invites with the LAN address, not loopback', () => {
    expect(inviteServerUrl({ serverUrl: 'http://127.0.0.1:8080' }, { name: 's', version: '1', webHosting: false, urls: ['https://127.0.0.1:8443', 'https://192.168.1.20:8443'] })).toBe('https://192.168.1.20:8443');
    expect(inviteServerUrl({ serverUrl: 'http://127.0.0.1:8080' }, undefined)).toBe('http://127.0.0.1:8080');
  });
});
