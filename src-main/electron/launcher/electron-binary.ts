import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Where `npm start` finds Electron's binary, and what to tell the user when it
 * is missing and cannot be downloaded. This runs in plain Node before Electron
 * exists, so it must never import 'electron' (whose index.js starts a download).
 */

export interface ElectronInstall {
  version: string;
  packageDir: string;
  /** The executable `npm start` runs. */
  binary: string;
  installed: boolean;
}

const EXECUTABLE: Partial<Record<NodeJS.Platform, string>> = {
  darwin: 'Electron.app/Contents/MacOS/Electron',
  linux: 'electron',
  freebsd: 'electron',
  openbsd: 'electron',
  win32: 'electron.exe',
};

/** Mirrors node_modules/electron/index.js: path.txt, or ELECTRON_OVERRIDE_DIST_PATH. */
export function findElectron(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): ElectronInstall {
  const packageJson = createRequire(import.meta.url).resolve('electron/package.json');
  const packageDir = dirname(packageJson);
  const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  const pathTxt = join(packageDir, 'path.txt');
  const executable = existsSync(pathTxt) ? readFileSync(pathTxt, 'utf8') : EXECUTABLE[platform] ?? 'electron';
  const binary = env.ELECTRON_OVERRIDE_DIST_PATH ? join(env.ELECTRON_OVERRIDE_DIST_PATH, executable) : join(packageDir, 'dist', executable);
  return { version, packageDir, binary, installed: existsSync(binary) };
}

/** The URL @electron/get downloads from, per its documented variables (ELECTRON_MIRROR, ELECTRON_CUSTOM_DIR). */
export function electronDownloadUrl(version: string, env: NodeJS.ProcessEnv = process.env, platform: string = process.platform, arch: string = process.arch): string {
  const mirror = env.npm_config_electron_mirror || env.NPM_CONFIG_ELECTRON_MIRROR || env.ELECTRON_MIRROR || 'https://github.com/electron/electron/releases/download/';
  const dir = (env.npm_config_electron_custom_dir || env.ELECTRON_CUSTOM_DIR || `v${version}`).replace('{{ version }}', version);
  const base = mirror.endsWith('/') ? mirror : `${mirror}/`;
  return `${base}${dir}/electron-v${version}-${platform}-${arch}.zip`;
}

/** What went wrong reaching `url`, in a few words, from a fetch error or an HTTP status. */
export function describeReachFailure(url: string, failure: { error?: unknown; status?: number }): string {
  const host = new URL(url).host;
  if (failure.status !== undefined) return `${host} answered HTTP ${failure.status} for that file`;
  const cause = (failure.error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const code = cause?.code ?? (failure.error as { name?: string } | undefined)?.name;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${host} could not be resolved (${code}): no network or no DNS`;
    case 'ECONNREFUSED':
      return `${host} refused the connection (ECONNREFUSED)`;
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return `${host} is unreachable (${code}): no network route`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'TimeoutError':
      return `${host} did not answer in time (a firewall, or a proxy is needed)`;
    default:
      return `${host} could not be reached (${code ?? cause?.message ?? String(failure.error)})`;
  }
}

/** The one message `npm start` prints when Electron is missing and could not be downloaded. */
export function electronMissingMessage(install: ElectronInstall, url: string, reason: string): string {
  const file = url.slice(url.lastIndexOf('/') + 1);
  return [
    `Chorus could not start the desktop app: Electron ${install.version} is not installed, and downloading it failed.`,
    `  Tried to download: ${url}`,
    `  What failed: ${reason}`,
    '',
    'To fix it, any one of:',
    '  - Check the network and run `npm start` again.',
    '  - Behind a proxy: ELECTRON_GET_USE_PROXY=true HTTPS_PROXY=http://proxy.example:3128 npm start',
    `  - Use a mirror you can reach: ELECTRON_MIRROR=https://your.mirror/electron/ npm start (it must serve v${install.version}/${file})`,
    `  - Use an Electron ${install.version} you already have, unpacked: ELECTRON_OVERRIDE_DIST_PATH=/path/to/electron-dir npm start`,
    `    (or put ${file} in Electron's download cache, or point electron_config_cache at a folder that has it).`,
    '',
    'The same meeting app runs in a browser without Electron: `npm run server`, then open the URL it prints.',
  ].join('\n');
}
