import { readFile } from 'node:fs/promises';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  APP_ORIGIN,
  CONTENT_SECURITY_POLICY,
  externalUrlToOpen,
  isNavigationAllowed,
  isPermissionGranted,
  resolveAppAsset,
} from '../../src-main/electron/security-policy.js';

describe('desktop security policy', () => {
  it('grants media and display capture to our origin only', () => {
    expect(isPermissionGranted('media', `${APP_ORIGIN}/index.html`)).toBe(true);
    expect(isPermissionGranted('display-capture', `${APP_ORIGIN}/`)).toBe(true);
    expect(isPermissionGranted('media', 'https://evil.example/')).toBe(false);
    expect(isPermissionGranted('media', 'app://other/index.html')).toBe(false);
    expect(isPermissionGranted('geolocation', `${APP_ORIGIN}/`)).toBe(false);
    expect(isPermissionGranted('notifications', `${APP_ORIGIN}/`)).toBe(false);
    expect(isPermissionGranted('media', undefined)).toBe(false);
    expect(isPermissionGranted('media', 'not a url')).toBe(false);
  });

  it('never navigates, and opens only http(s) links externally', () => {
    expect(isNavigationAllowed(`${APP_ORIGIN}/other.html`)).toBe(false);
    expect(isNavigationAllowed('https://example.com')).toBe(false);
    expect(externalUrlToOpen('https://example.com/help')).toBe('https://example.com/help');
    expect(externalUrlToOpen('file:///etc/passwd')).toBeUndefined();
    expect(externalUrlToOpen('javascript:alert(1)')).toBeUndefined();
    expect(externalUrlToOpen('smb://share/x')).toBeUndefined();
  });

  it('serves renderer assets and refuses anything that escapes the build directory', () => {
    expect(resolveAppAsset(`${APP_ORIGIN}/`)).toEqual({ relativePath: 'index.html', mimeType: 'text/html; charset=utf-8' });
    expect(resolveAppAsset(`${APP_ORIGIN}/assets/index-1.js`)).toEqual({ relativePath: 'assets/index-1.js', mimeType: 'text/javascript; charset=utf-8' });
    // The URL parser folds encoded dot segments at the root, so this stays inside the build directory.
    expect(resolveAppAsset(`${APP_ORIGIN}/%2e%2e/%2e%2e/etc/passwd`)?.relativePath).toBe('etc/passwd');
    expect(resolveAppAsset(`${APP_ORIGIN}/assets/%2E%2E%2F%2E%2E%2Fsecret`)).toBeUndefined();
    expect(resolveAppAsset(`${APP_ORIGIN}/assets/..%5c..%5csecret`)).toBeUndefined();
    expect(resolveAppAsset(`${APP_ORIGIN}/a%00b.js`)).toBeUndefined();
    expect(resolveAppAsset('app://elsewhere/index.html')).toBeUndefined();
    expect(resolveAppAsset('file:///index.html')).toBeUndefined();
  });

  it('has a CSP that forbids inline and remote scripts', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
  });
});

describe('the built preload script', () => {
  it('exposes exactly one named API and never ipcRenderer itself', async () => {
    // Electron cannot run here, so its two preload modules are stood in for; the script is the real build output.
    const source = await readFile('dist/preload/preload.cjs', 'utf8');
    const exposed: Record<string, unknown> = {};
    const invoked: unknown[][] = [];
    const ipcRenderer = { invoke: (...args: unknown[]) => (invoked.push(args), Promise.resolve('9.9.9')) };
    const electron = { contextBridge: { exposeInMainWorld: (key: string, value: unknown) => (exposed[key] = value) }, ipcRenderer };
    runInNewContext(source, {
      require: (name: string) => {
        if (name !== 'electron') throw new Error(`preload may not require ${name}`);
        return electron;
      },
      exports: {},
      module: { exports: {} },
    });
    expect(Object.keys(exposed)).toEqual(['chorusDesktop']);
    const api = exposed.chorusDesktop as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual(['appVersion', 'kind']);
    for (const value of Object.values(api)) expect(value).not.toBe(ipcRenderer);
    expect(await (api.appVersion as () => Promise<string>)()).toBe('9.9.9');
    expect(invoked).toEqual([['app:version']]);
  });
});
