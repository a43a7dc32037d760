import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureRendererBuilt, rendererState } from '../../src-main/server/renderer-build.js';
import { makeTempDir, startTestServer } from '../helpers/server.js';

/** `npm run server` builds the meeting app when dist/renderer is missing or older than its sources. */

const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await makeTempDir('chorus-renderer-');
  dirs.push(dir);
  return dir;
}

describe('building the meeting app for the server', () => {
  it('tells a missing, stale and fresh build apart by the newest source file', async () => {
    const checkout = await tempDir();
    const out = join(checkout, 'dist', 'renderer');
    expect(await rendererState(checkout, out)).toEqual({ kind: 'not-a-checkout' });

    await mkdir(join(checkout, 'src-renderer', 'src'), { recursive: true });
    await writeFile(join(checkout, 'vite.config.ts'), '');
    await writeFile(join(checkout, 'src-renderer', 'src', 'main.tsx'), '');
    expect(await rendererState(checkout, out)).toMatchObject({ kind: 'stale', reason: expect.stringContaining('has no build yet') });

    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'index.html'), '');
    // A second in the past: file times come from the kernel's coarse clock, which can trail Date.now().
    const built = new Date(Date.now() - 1000);
    await utimes(join(out, 'index.html'), built, built);
    const earlier = new Date(built.getTime() - 60_000);
    for (const file of ['vite.config.ts', 'src-renderer/src/main.tsx']) await utimes(join(checkout, file), earlier, earlier);
    expect(await rendererState(checkout, out)).toEqual({ kind: 'fresh' });

    // An edit anywhere below src-renderer (or the shared contracts) makes it stale again.
    await mkdir(join(checkout, 'src-main', 'shared'), { recursive: true });
    await writeFile(join(checkout, 'src-main', 'shared', 'contract.ts'), '');
    expect(await rendererState(checkout, out)).toMatchObject({ kind: 'stale', reason: expect.stringContaining(join('src-main', 'shared', 'contract.ts')) });
  });

  it('builds a missing renderer with Vite, which the server then serves, and leaves a fresh one alone', async () => {
    const out = join(await tempDir(), 'renderer');
    const lines: string[] = [];
    expect((await ensureRendererBuilt(CHECKOUT, out, (l) => lines.push(l))).kind).toBe('stale');
    expect(lines[0]).toMatch(/^Building the meeting app into .* \(.* has no build yet\)/);
    expect(lines[1]).toMatch(/^Built the meeting app in \d+\.\d s$/);

    const t = await startTestServer({ rendererDir: out });
    try {
      const page = await fetch(`${t.server.url}/join/abc-defg-hij`);
      expect(page.status).toBe(200);
      const html = await page.text();
      const script = /<script type="module" crossorigin src="([^"]+)"/.exec(html)?.[1];
      expect(script).toMatch(/^\/assets\/.*\.js$/);
      expect((await fetch(`${t.server.url}${script}`)).status).toBe(200);
    } finally {
      await t.close();
    }

    lines.length = 0;
    expect(await ensureRendererBuilt(CHECKOUT, out, (l) => lines.push(l))).toEqual({ kind: 'fresh' });
    expect(lines).toEqual([]);
  }, 60_000);
});
