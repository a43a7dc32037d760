import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { ChorusError } from '../errors.js';

/**
 * The server's durable state on disk: one LevelDB database (classic-level, whose
 * native binaries ship inside its npm package for macOS, Windows and Linux).
 *
 * Writes go through one ordered queue: a write issued while another is on disk
 * joins the next batch (group commit), so the order on disk is the order of the
 * calls even though LevelDB runs them on libuv's thread pool. LevelDB appends
 * each batch to its log before answering; a `kill -9` loses nothing answered,
 * and a batch cut short by the crash is dropped whole on reopening (its
 * checksum fails). Writes are not fsynced: the state survives the process dying,
 * not the machine losing power (as the webhook outbox).
 *
 * Callers keep their own state in memory and read the database only at startup.
 */

export const DATABASE_DIR = 'state-db';

export type WriteOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

export class DurableDatabase {
  private pending: WriteOp[] = [];
  private waiters: Waiter[] = [];
  private inFlight: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    private readonly db: ClassicLevel<string, string>,
  ) {}

  /** Opens (creating if need be) `<dataDir>/state-db`; fails clearly when another server holds it. */
  static async open(dataDir: string): Promise<DurableDatabase> {
    const dir = join(dataDir, DATABASE_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Tiny data: a handful of open table files is plenty and keeps descriptors for connections.
    const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8', maxOpenFiles: 32 });
    try {
      await db.open();
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      const locked = /lock/i.test(cause);
      throw new ChorusError(
        'STARTUP_FAILED',
        locked ? `Another Chorus server is using the data directory ${dataDir} (${dir} is locked)` : `Cannot open the state database ${dir}: ${cause}`,
        { cause: error },
      );
    }
    return new DurableDatabase(dir, db);
  }

  /** Every entry whose key starts with `prefix`, in key order. For startup. */
  async entries(prefix: string): Promise<[string, string][]> {
    // all() reads in batches: one native call per entry made restarting with 25,000 attendees take seconds.
    return this.db.iterator({ gte: prefix, lt: `${prefix}\uffff` }).all();
  }

  /** Queues `ops` after every earlier write; resolves once they are in LevelDB's log. */
  write(ops: WriteOp[]): Promise<void> {
    if (this.closing) return Promise.reject(new ChorusError('CLOSED', 'The state database is closed'));
    if (ops.length === 0) {
      // A flush: waits for what is queued behind the batch on disk too, not only for that batch.
      if (this.pending.length === 0) return this.inFlight ?? Promise.resolve();
      return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    }
    return new Promise<void>((resolve, reject) => {
      for (const op of ops) this.pending.push(op);
      this.waiters.push({ resolve, reject });
      if (!this.inFlight) this.flush();
    });
  }

  /** Waits for queued writes, then closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.inFlight) await this.inFlight.catch(() => undefined);
      await this.db.close();
    })();
    return this.closing;
  }

  private flush(): void {
    const ops = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    const done = this.db.batch(ops).then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (error: unknown) => {
        for (const w of waiters) w.reject(error);
      },
    );
    this.inFlight = done.then(() => {
      this.inFlight = undefined;
      if (this.pending.length > 0) this.flush();
    });
  }
}
