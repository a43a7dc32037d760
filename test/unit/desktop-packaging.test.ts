import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * electron-builder.yml, loaded and schema-checked by electron-builder's own code
 * (app-builder-lib, which `npm run dist` runs), so a misspelt key fails here and
 * not on a release machine. Building the installers themselves needs each OS.
 */
const require = createRequire(import.meta.url);

interface BuilderConfig {
  appId?: string;
  productName?: string;
  asarUnpack?: string[];
  files?: Array<string | { filter?: string[] }>;
  electronFuses?: Record<string, boolean>;
  protocols?: Array<{ name: string; schemes: string[] }>;
  mac?: { target?: Array<{ target: string; arch: string[] }>; extendInfo?: Record<string, unknown>; hardenedRuntime?: boolean; entitlements?: string; icon?: string };
  win?: { target?: string[]; icon?: string };
  linux?: { target?: string[]; icon?: string; mimeTypes?: string[] };
}

async function loadBuilderConfig(): Promise<BuilderConfig> {
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
    getConfig(dir: string, path: string | null, options: null): Promise<BuilderConfig>;
    validateConfiguration(config: BuilderConfig, logger: unknown): Promise<void>;
  };
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  const config = await getConfig(process.cwd(), 'electron-builder.yml', null);
  await validateConfiguration(config, new DebugLogger(false));
  return config;
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('electron-builder.yml', () => {
  it('passes electron-builder 26 schema validation, and the validator does catch a wrong key', async () => {
    const config = await loadBuilderConfig();
    expect(config.appId).toBe('dev.chorus.app');
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as { validateConfiguration(c: unknown, l: unknown): Promise<void> };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration({ ...config, electronFuses: { ...config.electronFuses, runAsNod: false } }, new DebugLogger(false))).rejects.toThrow(/electronFuses/);
  });

  it('targets dmg (x64 + arm64), nsis, AppImage and deb', async () => {
    const config = await loadBuilderConfig();
    expect(config.mac?.target).toEqual([{ target: 'dmg', arch: ['x64', 'arm64'] }]);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
  });

  it('sets the fuses, unpacks native modules, packs the built app and registers chorus://', async () => {
    const config = await loadBuilderConfig();
    expect(config.electronFuses).toMatchObject({ runAsNode: false, onlyLoadAppFromAsar: true, enableEmbeddedAsarIntegrityValidation: true, enableNodeOptionsEnvironmentVariable: false, grantFileProtocolExtraPrivileges: false });
    expect(config.asarUnpack).toContain('**/*.node');
    expect(JSON.stringify(config.files)).toContain('dist/**');
    expect(config.protocols).toEqual([{ name: 'Chorus meeting link', schemes: ['chorus'] }]);
    expect(config.linux?.mimeTypes).toContain('x-scheme-handler/chorus');
  });

  it('declares the macOS usage texts and the hardened-runtime entitlements for camera and microphone', async () => {
    const config = await loadBuilderConfig();
    const info = config.mac?.extendInfo ?? {};
    for (const key of ['NSCameraUsageDescription', 'NSMicrophoneUsageDescription', 'NSScreenCaptureUsageDescription', 'NSAudioCaptureUsageDescription', 'NSLocalNetworkUsageDescription']) {
      expect(typeof info[key] === 'string' && (info[key] as string).length > 20, key).toBe(true);
    }
    expect(info.NSBonjourServices).toEqual(['_chorus._tcp']);
    expect(config.mac?.hardenedRuntime).toBe(true);
    const entitlements = await readFile(config.mac!.entitlements!, 'utf8');
    for (const key of ['com.apple.security.device.camera', 'com.apple.security.device.audio-input', 'com.apple.security.cs.allow-jit']) expect(entitlements).toContain(`<key>${key}</key>`);
  });

  it('uses real icons: a 1024 px app icon and tray icons, rendered from assets/*.svg', async () => {
    const config = await loadBuilderConfig();
    for (const icon of [config.mac?.icon, config.win?.icon, config.linux?.icon]) expect(icon).toBe('assets/icon.png');
    expect(pngSize(await readFile('assets/icon.png'))).toEqual({ width: 1024, height: 1024 });
    expect(pngSize(await readFile('assets/trayTemplate.png'))).toEqual({ width: 16, height: 16 });
    expect(pngSize(await readFile('assets/trayTemplate@2x.png'))).toEqual({ width: 32, height: 32 });
    expect(pngSize(await readFile('assets/tray.png'))).toEqual({ width: 32, height: 32 });
  });

  it('build:electron bundles the utility-process entry next to main.js, where hosting.ts looks for it', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { main: string; scripts: Record<string, string> };
    expect(pkg.main).toBe('dist/electron/main.js');
    expect(pkg.scripts['build:electron']).toContain('server-host=src-main/electron/server-host/entry.ts');
    expect(pkg.scripts['build:electron']).toContain('--outdir=dist/electron');
    expect(await readFile('src-main/electron/hosting.ts', 'utf8')).toContain("join(import.meta.dirname, 'server-host.js')");
  });
});
