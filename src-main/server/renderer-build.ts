import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * `npm run server` from a source checkout serves the meeting app from
 * dist/renderer. So that a fresh clone works after `npm install` alone, the CLI
 * builds it (Vite, about two seconds) when it is missing or older than what it
 * is built from. A production install without Vite serves what it has.
 */

/** What the renderer build reads, relative to the checkout: a newer file here means a stale build. */
export const RENDERER_SOURCES = ['src-renderer', 'src-main/shared', 'vite.config.ts', 'package-lock.json', 'tsconfig.renderer.json'];

export type RendererState =
  | { kind: 'fresh' }
  | { kind: 'stale'; reason: string }
  | { kind: 'not-a-checkout' };

async function newestMtime(path: string): Promise<{ mtimeMs: number; path: string } | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return undefined;
  if (!info.isDirectory()) return { mtimeMs: info.mtimeMs, path };
  let newest: { mtimeMs: number; path: string } | undefined;
  for (const entry of await readdir(path)) {
    const found = await newestMtime(join(path, entry));
    if (found && (!newest || found.mtimeMs > newest.mtimeMs)) newest = found;
  }
  return newest;
}

export async function rendererState(checkout: string, outDir: string): Promise<RendererState> {
  if (!existsSync(join(checkout, 'src-renderer')) || !existsSync(join(checkout, 'vite.config.ts'))) return { kind: 'not-a-checkout' };
  const built = await stat(join(outDir, 'index.html')).catch(() => undefined);
  if (!built) return { kind: 'stale', reason: `${outDir} has no build yet` };
  let newest: { mtimeMs: number; path: string } | undefined;
  for (const source of RENDERER_SOURCES) {
    const found = await newestMtime(join(checkout, source));
    if (found && (!newest || found.mtimeMs > newest.mtimeMs)) newest = found;
  }
  if (newest && newest.mtimeMs > built.mtimeMs) return { kind: 'stale', reason: `${newest.path} changed after the last build` };
  return { kind: 'fresh' };
}

/** Runs `vite build` into `outDir`; rejects with Vite's output when it fails. */
export async function buildRenderer(checkout: string, outDir: string): Promise<void> {
  let viteBin: string;
  try {
    viteBin = join(createRequire(join(checkout, 'package.json')).resolve('vite/package.json'), '..', 'bin', 'vite.js');
  } catch {
    throw new Error('Vite is not installed here (a production install?): run `npm install`, then `npm run build:renderer`');
  }
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [viteBin, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: checkout, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`Building the meeting app failed (vite exited with ${code}):\n${output.join('').trim()}`);
}

/** Builds the renderer when it is missing or stale; says what it did through `log`. */
export async function ensureRendererBuilt(checkout: string, outDir: string, log: (line: string) => void): Promise<RendererState> {
  const state = await rendererState(checkout, outDir);
  if (state.kind !== 'stale') return state;
  log(`Building the meeting app into ${outDir} (${state.reason})…`);
  const started = performance.now();
  await buildRenderer(checkout, outDir);
  log(`Built the meeting app in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return state;
}
