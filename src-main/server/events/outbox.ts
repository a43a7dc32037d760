import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A durable FIFO of serialized events for one webhook target.
 *
 * Events are appended as lines (`<seq>\t<body>`) to segment files named by the
 * sequence number of their first event; a fixed-width cursor file holds the
 * last delivered sequence number. Both are written with plain write() calls on
 * open descriptors: a few microseconds each, where creating a file per event
 * cost close to a millisecond of event-loop time on the development machine.
 *
 * Appends are synchronous: by the time the code that caused an event moves on,
 * the event is in the file. A crash can cut the last line short; that line is
 * ignored on reopening (its event had not been acknowledged to anyone). The
 * cursor is written after each acknowledgement, so after a crash at most the
 * event in flight is delivered again, with the same bytes. There is no fsync:
 * the outbox survives the process dying, not the machine losing power.
 *
 * The body is stored exactly as it will be POSTed, so a retry after a restart
 * sends the same bytes under the same id.
 */
export interface OutboxEntry {
  readonly seq: number;
  readonly body: string;
}

const SEGMENT = /^(\d{16})\.log$/;
const CURSOR_FILE = 'delivered';
const CURSOR_WIDTH = 16;
/** Events per segment file before a new one is started. */
const SEGMENT_EVENTS = 1000;

const pad = (n: number): string => String(n).padStart(CURSOR_WIDTH, '0');

export class EventOutbox {
  private readonly pending: OutboxEntry[] = [];
  /** First sequence number of each segment file still on disk, ascending. */
  private readonly segments: number[] = [];
  private nextSeq = 0;
  private delivered = -1;
  private dropped = 0;
  private segmentFd: number | undefined;
  private segmentEvents = 0;
  private readonly cursorFd: number;
  private closed = false;

  /** Opens (creating if need be) the outbox in `dir`, picking up what an earlier run left undelivered. */
  constructor(
    readonly dir: string,
    private readonly maxPending = 100_000,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const cursorPath = join(dir, CURSOR_FILE);
    if (existsSync(cursorPath)) {
      const text = readFileSync(cursorPath, 'utf8').trim();
      if (/^\d+$/.test(text)) this.delivered = Number(text);
    }
    this.cursorFd = openSync(cursorPath, existsSync(cursorPath) ? 'r+' : 'w', 0o600);

    const firsts = readdirSync(dir).flatMap((name) => {
      const match = SEGMENT.exec(name);
      return match ? [Number(match[1])] : [];
    }).sort((a, b) => a - b);
    let maxSeq = this.delivered;
    for (const first of firsts) {
      this.segments.push(first);
      for (const line of readFileSync(this.segmentPath(first), 'utf8').split('\n')) {
        const tab = line.indexOf('\t');
        if (tab <= 0) continue;
        const seq = Number(line.slice(0, tab));
        const body = line.slice(tab + 1);
        if (!Number.isSafeInteger(seq)) continue;
        // Never reuse a number, even that of a line a crash cut short.
        maxSeq = Math.max(maxSeq, seq);
        // A line cut short is not valid JSON; its event never left this process.
        if (seq > this.delivered && isJson(body)) this.pending.push({ seq, body });
      }
    }
    this.pending.sort((a, b) => a.seq - b.seq);
    this.nextSeq = maxSeq + 1;
    this.removeDeliveredSegments();
  }

  get size(): number {
    return this.pending.length;
  }

  /** Events dropped because the outbox was full, since it was opened. */
  get droppedCount(): number {
    return this.dropped;
  }

  append(body: string): void {
    if (this.closed) throw new Error('outbox closed');
    if (body.includes('\n')) throw new Error('an outbox body must be a single line');
    const seq = this.nextSeq++;
    if (this.segmentFd === undefined || this.segmentEvents >= SEGMENT_EVENTS) this.startSegment(seq);
    writeSync(this.segmentFd!, `${seq}\t${body}\n`);
    this.segmentEvents++;
    this.pending.push({ seq, body });
    // A receiver gone for good must not fill the disk: past the cap the oldest event goes.
    while (this.pending.length > this.maxPending) {
      this.markDelivered(this.pending.shift()!.seq);
      this.dropped++;
    }
  }

  /** The oldest undelivered entry. */
  peek(): OutboxEntry | undefined {
    return this.pending[0];
  }

  /** Marks the oldest entry, `seq`, delivered. Delivery is in order, so anything else is ignored. */
  ack(seq: number): void {
    if (this.pending[0]?.seq !== seq) return;
    this.pending.shift();
    this.markDelivered(seq);
  }

  /** Releases the files. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.segmentFd !== undefined) closeSync(this.segmentFd);
    closeSync(this.cursorFd);
  }

  private markDelivered(seq: number): void {
    this.delivered = seq;
    if (!this.closed) writeSync(this.cursorFd, pad(seq), 0);
    this.removeDeliveredSegments();
  }

  /** Deletes every segment but the one being written whose events have all been delivered. */
  private removeDeliveredSegments(): void {
    const oldestPending = this.pending[0]?.seq ?? this.nextSeq;
    while (this.segments.length > 1 && this.segments[1]! <= oldestPending) {
      try {
        unlinkSync(this.segmentPath(this.segments.shift()!));
      } catch {
        // already gone
      }
    }
  }

  /** A new segment for every run and every SEGMENT_EVENTS events: never appends after a line a crash may have cut short. */
  private startSegment(firstSeq: number): void {
    if (this.segmentFd !== undefined) closeSync(this.segmentFd);
    this.segmentFd = openSync(this.segmentPath(firstSeq), 'a', 0o600);
    this.segmentEvents = 0;
    this.segments.push(firstSeq);
  }

  private segmentPath(first: number): string {
    return join(this.dir, `${pad(first)}.log`);
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
