import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { startChorusServer } from '../../src-main/server/chorus-server.js';
import { InMemoryMeetingStore } from '../../src-main/server/control-plane/meeting-store.js';
import { createLogger } from '../../src-main/server/logger.js';
import { eventually } from '../helpers/eventually.js';
import { makeTempDir, TEST_CREDENTIALS } from '../helpers/server.js';

/** A store whose meeting list (read while restoring meetings after a restart) waits until released. */
class SlowRestoreStore extends InMemoryMeetingStore {
  release!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  override async listMeetings(): ReturnType<InMemoryMeetingStore['listMeetings']> {
    await this.gate;
    return super.listMeetings();
  }
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

it('answers 503 with Retry-After while it restores meetings, and serves once every part is built', async () => {
  const dataDir = await makeTempDir();
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const store = new SlowRestoreStore();
  const starting = startChorusServer(
    { host: '127.0.0.1', port, dataDir },
    { store, logger: createLogger({ level: 'error', write: () => undefined }), env: { CHORUS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, CHORUS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey } },
  );
  cleanups.push(async () => {
    store.release();
    await (await starting).close();
  });
  const early = await eventually(() => fetch(`http://127.0.0.1:${port}/health`), 10_000, 100);
  expect(early.status).toBe(503);
  expect(early.headers.get('retry-after')).toBe('1');
  expect(await early.json()).toMatchObject({ Code: 'ServiceUnavailableException' });

  store.release();
  const server = await starting;
  const ready = await fetch(`${server.url}/health`);
  expect(ready.status).toBe(200);
});
