import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describeReachFailure, electronDownloadUrl, electronMissingMessage, findElectron } from './electron-binary.js';

/**
 * `npm start` after the build: runs the desktop app in Electron. When Electron's
 * binary is missing, it runs Electron's own installer once; if that download
 * fails, it finds out why (a single probe of the same URL) and prints one clear
 * message instead of a stack trace, then exits with 1.
 */

const PROBE_TIMEOUT_MS = 10_000;

async function probe(url: string): Promise<string> {
  try {
    const res = await fetch(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    // A redirect (GitHub sends one to its file host) or a 200 means the host is reachable.
    if (res.status < 400) return `the host was reachable but the download did not complete (HTTP ${res.status} on a second try); run \`npx install-electron\` to see why`;
    return describeReachFailure(url, { status: res.status });
  } catch (error) {
    return describeReachFailure(url, { error });
  }
}

async function main(): Promise<void> {
  let install = findElectron();
  if (!install.installed) {
    console.log(`Electron ${install.version} is not installed yet; downloading it once…`);
    const result = spawnSync(process.execPath, [join(install.packageDir, 'install.js')], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    install = findElectron();
    if (result.status !== 0 || !install.installed) {
      const url = electronDownloadUrl(install.version);
      console.error(electronMissingMessage(install, url, await probe(url)));
      process.exit(1);
    }
  }
  const child = spawn(install.binary, ['.', ...process.argv.slice(2)], { stdio: 'inherit', windowsHide: false });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    console.error(`Chorus could not start ${install.binary}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

void main();
