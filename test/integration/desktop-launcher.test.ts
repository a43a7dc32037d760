import { spawn, spawnSync } from 'node:child_process';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeReachFailure, electronDownloadUrl } from '../../src-main/electron/launcher/electron-binary.js';
import { makeTempDir } from '../helpers/server.js';

/**
 * `npm start` when Electron's binary is missing and cannot be downloaded: one
 * clear message (what failed, the host it tried, how to fix it, and the browser
 * alternative), never a stack trace. Electron's own ELECTRON_OVERRIDE_DIST_PATH
 * makes the binary "missing" even on a machine that has one.
 */

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function launch(env: NodeJS.ProcessEnv, prefix: string[] = []): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const command = [...prefix, process.execPath, '--import', 'tsx', 'src-main/electron/launcher/start-desktop.ts', '--extra-arg'];
    const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

function expectClearMessage(err: string, host: string, reason: RegExp): void {
  expect(err).toMatch(/^Chorus could not start the desktop app: Electron \d+\.\d+\.\d+ is not installed, and downloading it failed\./);
  expect(err).toContain(`Tried to download: `);
  expect(err).toContain(host);
  expect(err).toMatch(reason);
  for (const fix of ['HTTPS_PROXY=', 'ELECTRON_MIRROR=', 'ELECTRON_OVERRIDE_DIST_PATH=', '`npm run server`']) expect(err).toContain(fix);
  // One message, not Electron's installer output or a stack trace.
  expect(err).not.toMatch(/\n\s+at |TypeError|npx install-electron --no/);
}

const isRoot = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;

describe('npm start without an Electron binary', () => {
  it('a mirror that refuses the connection: says which host and why, and how to fix it', async () => {
    const dir = await makeTempDir('chorus-no-electron-');
    dirs.push(dir);
    // A port that was just free: nothing listens there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { code, err } = await launch({ ELECTRON_OVERRIDE_DIST_PATH: join(dir, 'absent'), ELECTRON_MIRROR: `http://127.0.0.1:${port}/mirror/`, electron_config_cache: dir });
    expect(code).toBe(1);
    expectClearMessage(err, `http://127.0.0.1:${port}/mirror/v`, new RegExp(`What failed: 127\\.0\\.0\\.1:${port} refused the connection \\(ECONNREFUSED\\)`));
  }, 60_000);

  it.runIf(isRoot)('on a machine with no network at all (its own network namespace): the default host cannot be resolved', async () => {
    const dir = await makeTempDir('chorus-no-electron-');
    dirs.push(dir);
    const ns = `chorus-offline-${process.pid}`;
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    try {
      const { code, err } = await launch({ ELECTRON_OVERRIDE_DIST_PATH: join(dir, 'absent'), ELECTRON_MIRROR: '', electron_config_cache: dir }, ['ip', 'netns', 'exec', ns]);
      expect(code).toBe(1);
      expectClearMessage(err, 'https://github.com/electron/electron/releases/download/v', /What failed: github\.com (could not be resolved|is unreachable)/);
    } finally {
      spawnSync('ip', ['netns', 'delete', ns]);
    }
  }, 60_000);

  it('with a binary present, runs it on the app directory with the arguments given', async () => {
    const dir = await makeTempDir('chorus-electron-');
    dirs.push(dir);
    // A stand-in executable where Electron's binary would be: this machine cannot download the real one.
    const binary = join(dir, process.platform === 'win32' ? 'electron.exe' : 'electron');
    await writeFile(binary, '#!/bin/sh\necho "electron-stand-in $*"\nexit 3\n');
    await chmod(binary, 0o755);
    const { code, out } = await launch({ ELECTRON_OVERRIDE_DIST_PATH: dir });
    expect(out.trim()).toBe('electron-stand-in . --extra-arg');
    expect(code).toBe(3);
  }, 30_000);
});

describe('the download URL and failure descriptions', () => {
  it('follows ELECTRON_MIRROR and ELECTRON_CUSTOM_DIR as @electron/get does', () => {
    expect(electronDownloadUrl('45.4.1', {}, 'linux', 'x64')).toBe('https://github.com/electron/electron/releases/download/v45.4.1/electron-v45.4.1-linux-x64.zip');
    expect(electronDownloadUrl('45.4.1', { ELECTRON_MIRROR: 'https://npmmirror.com/mirrors/electron', ELECTRON_CUSTOM_DIR: '{{ version }}' }, 'darwin', 'arm64'))
      .toBe('https://npmmirror.com/mirrors/electron/45.4.1/electron-v45.4.1-darwin-arm64.zip');
  });

  it('names the host and the failure', () => {
    const url = 'https://github.com/electron/electron/releases/download/v1/x.zip';
    expect(describeReachFailure(url, { status: 404 })).toBe('github.com answered HTTP 404 for that file');
    expect(describeReachFailure(url, { error: Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } }) })).toMatch(/^github\.com could not be resolved \(ENOTFOUND\)/);
    expect(describeReachFailure(url, { error: Object.assign(new Error('timeout'), { name: 'TimeoutError' }) })).toMatch(/did not answer in time/);
  });
});
