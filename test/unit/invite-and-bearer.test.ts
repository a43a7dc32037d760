import { describe, expect, it } from 'vitest';
import { deriveBearerToken, verifyBearerToken } from '../../src-main/server/auth/bearer-token.js';
import { formatInviteLink, normaliseFingerprint, parseInviteLink } from '../../src-main/shared/invite-link.js';

const FP = Array.from({ length: 32 }, (_, i) => (i * 7 + 3).toString(16).padStart(2, '0').toUpperCase()).join(':');
const credentials = { accessKeyId: 'CHORUSABCDEFGHIJKLMN', secretAccessKey: 'secret-one' };

describe('invite links', () => {
  it('round-trips both spellings', () => {
    const invite = { serverUrl: 'https://192.168.1.20:8443', meetingCode: 'abc-defg-hij', fingerprint: FP };
    for (const kind of ['web', 'desktop'] as const) {
      expect(parseInviteLink(formatInviteLink(invite, kind))).toEqual({ ok: true, invite });
    }
    expect(formatInviteLink(invite, 'web')).toBe(`https://192.168.1.20:8443/join/abc-defg-hij?fp=${FP}`);
  });

  it('accepts a link without a fingerprint and normalises a lower-case one', () => {
    expect(parseInviteLink('http://127.0.0.1:8080/join/abc-defg-hij')).toEqual({ ok: true, invite: { serverUrl: 'http://127.0.0.1:8080', meetingCode: 'abc-defg-hij' } });
    const lower = FP.toLowerCase().replace(/:/g, '');
    expect(normaliseFingerprint(lower)).toBe(FP);
  });

  it('rejects bad links with a reason, never throwing', () => {
    for (const bad of ['', 'hello', 'ftp://x/join/abc-defg-hij', 'https://x/join/ABC', 'chorus://host?code=abc-defg-hij&server=https://x',
      'chorus://join?code=abc-defg-hij', 'chorus://join?server=javascript:alert(1)&code=abc-defg-hij', `https://x/join/abc-defg-hij?fp=12:34`]) {
      const result = parseInviteLink(bad);
      expect(result.ok, bad).toBe(false);
      if (!result.ok) expect(result.error.length).toBeGreaterThan(5);
    }
  });
});

describe('bearer tokens derived from the API credentials', () => {
  it('verifies the derived token and refuses others precisely', () => {
    const token = deriveBearerToken(credentials);
    expect(verifyBearerToken({ authorization: `Bearer ${token}` }, credentials)).toEqual({ ok: true });
    expect(verifyBearerToken({}, credentials)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyBearerToken({ authorization: `Basic abc` }, credentials)).toEqual({ ok: false, reason: 'malformed' });
    const other = deriveBearerToken({ ...credentials, secretAccessKey: 'secret-two' });
    expect(other).not.toBe(token);
    expect(verifyBearerToken({ authorization: `Bearer ${other}` }, credentials)).toEqual({ ok: false, reason: 'wrong-token' });
    expect(token).not.toContain(credentials.secretAccessKey);
  });
});
