import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A durable FIFO of serialized events for one webhook target: one file per
 * event, named by a sequence number, removed once delivered. The body is stored
 * exactly as it will be POSTed, so a retry after a restart sends the same bytes
 * under the same id and signature.
 *
 * Appends are synchronous (write to a temporary name, then rename): by the time
 * the code that caused an event moves on, the event is on disk, and a crash
 * leaves either the whole file or none. There is no fsync: the outbox survives
 * the process dying, not the machine losing power.
 */
export interface OutboxEntry {
  readonly seq: number;
  readonly body: string;
}

const ENTRY = /^(\d{16})\.json$/;

export class EventOutbox {
  private readonly pending: number[] = [];
  private nextSeq = 0;
  private dropped = 0;

  /** Opens (creating if need be) the outbox in `dir`, picking up what an earlier run left undelivered. */
  constructor(
    readonly dir: string,
    private readonly maxPending = 100_000,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const seqs: number[] = [];
    for (const name of readdirSync(dir)) {
      const match = ENTRY.exec(name);
      if (match) seqs.push(Number(match[1]));
      else if (name.endsWith('.tmp')) unlinkSync(join(dir, name)); // an append cut short by a crash
    }
    seqs.sort((a, b) => a - b);
    this.pending.push(...seqs);
    this.nextSeq = (seqs.at(-1) ?? -1) + 1;
  }

  get size(): number {
    return this.pending.length;
  }

  /** Events dropped because the outbox was full, since it was opened. */
  get droppedCount(): number {
    return this.dropped;
  }

  append(body: string): void {
    const seq = this.nextSeq++;
    const path = this.path(seq);
    writeFileSync(`${path}.tmp`, body, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    this.pending.push(seq);
    // A receiver gone for good must not fill the disk: past the cap the oldest event goes.
    while (this.pending.length > this.maxPending) {
      this.remove(this.pending.shift()!);
      this.dropped++;
    }
  }

  /** The oldest undelivered entry. */
  peek(): OutboxEntry | undefined {
    while (this.pending.length > 0) {
      const seq = this.pending[0]!;
      try {
        return { seq, body: readFileSync(this.path(seq), 'utf8') };
      } catch {
        // Removed behind our back: nothing to deliver.
        this.pending.shift();
      }
    }
    return undefined;
  }

  /** Marks `seq` delivered. */
  ack(seq: number): void {
    const at = this.pending.indexOf(seq);
    if (at < 0) return;
    this.pending.splice(at, 1);
    this.remove(seq);
  }

  private remove(seq: number): void {
    try {
      unlinkSync(this.path(seq));
    } catch {
      // already gone
    }
  }

  private path(seq: number): string {
    return join(this.dir, `${String(seq).padStart(16, '0')}.json`);
  }
}
