import { afterEach, describe, expect, it } from 'vitest';
import { advertiseChorus, CHORUS_TXT_VERSION, serverFromService, ServerBrowser, serviceTxt, type Advertisement } from '../../src-main/electron/server-host/mdns.js';
import type { DiscoveredServer } from '../../src-main/shared/desktop-api.js';
import { eventually } from '../helpers/eventually.js';

const FP = Array.from({ length: 32 }, (_, i) => ((i * 13) & 0xff).toString(16).padStart(2, '0').toUpperCase()).join(':');

describe('mDNS record mapping', () => {
  it('puts the fingerprint and format version in TXT', () => {
    expect(serviceTxt(FP)).toEqual({ fp: FP, v: CHORUS_TXT_VERSION });
  });

  it('maps an announced service to a joinable https URL with a validated fingerprint', () => {
    expect(serverFromService({ name: 'Room 4', port: 8443, addresses: ['fe80::1', '169.254.3.3', '192.168.1.20'], txt: { fp: FP.toLowerCase(), v: '1' } })).toEqual({
      name: 'Room 4',
      serverUrl: 'https://192.168.1.20:8443',
      fingerprint: FP,
    });
    // No usable address in the records: the packet's sender is the server.
    expect(serverFromService({ name: 'R', port: 8443, addresses: [], referer: { address: '10.0.0.9' }, txt: {} })).toEqual({ name: 'R', serverUrl: 'https://10.0.0.9:8443' });
    // A forged or future-format fingerprint is not passed on as something to pin.
    expect(serverFromService({ name: 'R', port: 8443, addresses: ['10.0.0.9'], txt: { fp: 'not-a-fingerprint', v: '1' } })).not.toHaveProperty('fingerprint');
    expect(serverFromService({ name: 'R', port: 8443, addresses: ['10.0.0.9'], txt: { fp: FP, v: '2' } })).not.toHaveProperty('fingerprint');
    expect(serverFromService({ name: 'R', port: 0, addresses: ['10.0.0.9'] })).toBeUndefined();
    expect(serverFromService({ name: 'R', port: 8443, addresses: ['fe80::1'] })).toBeUndefined();
  });
});

describe('mDNS on this machine (real multicast on UDP 5353)', () => {
  const cleanup: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  it('a browser finds an advertised server with its fingerprint, and loses it on goodbye', async () => {
    const name = `chorus-test-${process.pid}-${Date.now() % 100000}`;
    const errors: Error[] = [];
    const browser = new ServerBrowser((e) => errors.push(e));
    cleanup.push(() => browser.close());
    const seen: DiscoveredServer[][] = [];
    browser.on('servers', (list) => seen.push(list));
    const advertisement: Advertisement = advertiseChorus({ name, port: 48443, fingerprint: FP, onError: (e) => errors.push(e) });
    cleanup.push(() => advertisement.stop());

    const found = await eventually(() => {
      const match = browser.list().find((s) => s.name === name);
      expect(match).toBeDefined();
      return match!;
    }, 10_000, 100);
    expect(found.fingerprint).toBe(FP);
    expect(found.serverUrl).toMatch(/^https:\/\/\d+\.\d+\.\d+\.\d+:48443$/);
    expect(seen.some((list) => list.some((s) => s.name === name))).toBe(true);

    await advertisement.stop();
    await eventually(() => expect(browser.list().find((s) => s.name === name)).toBeUndefined(), 10_000, 100);
    expect(errors).toEqual([]);
  });
});
