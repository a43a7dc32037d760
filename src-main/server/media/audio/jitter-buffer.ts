import { seqDelta } from '../rtp/rtp.js';

/**
 * A per-attendee playout buffer for 20 ms audio frames keyed by RTP sequence
 * number. It reorders, drops duplicates and late packets, reports gaps as losses
 * (so the decoder can conceal them), and resynchronises on wild jumps such as a
 * new SSRC or a reset encoder. It never throws and never blocks the mixer.
 */

export type PushResult = 'accepted' | 'duplicate' | 'late' | 'resync' | 'overflow';
export type PopResult<T> = { kind: 'frame'; payload: T; sequenceNumber: number } | { kind: 'loss'; sequenceNumber: number } | { kind: 'empty' };

export interface JitterBufferOptions {
  /** Frames buffered before playout starts (and after an underrun). */
  targetDepth?: number;
  /** Frames held at most; older ones are dropped beyond it. */
  capacity?: number;
  /** A sequence jump larger than this restarts the buffer on the new numbering. */
  resyncThreshold?: number;
  /** Frames over the target depth tolerated before latency control trims the backlog. */
  maxExcess?: number;
  /** Consecutive ticks the backlog may stay over `maxExcess` before it is trimmed. */
  trimAfterTicks?: number;
}

export class JitterBuffer<T> {
  private readonly slots = new Map<number, T>();
  private next: number | undefined;
  private playing = false;
  private readonly targetDepth: number;
  private readonly capacity: number;
  private readonly resyncThreshold: number;
  private readonly maxExcess: number;
  private readonly trimAfterTicks: number;
  private ticksOverTarget = 0;
  /** Frames dropped to keep the delay bounded, since creation. */
  trimmedFrames = 0;

  constructor(options: JitterBufferOptions = {}) {
    this.targetDepth = options.targetDepth ?? 2;
    this.capacity = options.capacity ?? 50;
    this.resyncThreshold = options.resyncThreshold ?? 500;
    this.maxExcess = options.maxExcess ?? 2;
    this.trimAfterTicks = options.trimAfterTicks ?? 25;
  }

  get depth(): number {
    return this.slots.size;
  }

  push(sequenceNumber: number, payload: T): PushResult {
    const seq = sequenceNumber & 0xffff;
    if (this.next === undefined) {
      this.next = seq;
    } else {
      const delta = seqDelta(this.next, seq);
      if (Math.abs(delta) > this.resyncThreshold) {
        this.reset();
        this.next = seq;
        this.slots.set(seq, payload);
        return 'resync';
      }
      if (delta < 0) {
        // A packet from before playout started can still move the start back.
        if (!this.playing && -delta <= this.capacity) this.next = seq;
        else return 'late';
      }
    }
    if (this.slots.has(seq)) return 'duplicate';
    this.slots.set(seq, payload);
    let overflowed = false;
    // Too far behind: skip playout ahead until what is held fits the capacity again.
    while (this.slots.size > this.capacity && this.next !== undefined) {
      this.slots.delete(this.next);
      this.next = (this.next + 1) & 0xffff;
      overflowed = true;
    }
    return overflowed ? 'overflow' : 'accepted';
  }

  /** The frame for the next 20 ms tick: a packet, a loss to conceal, or nothing (not started or underrun). */
  pop(): PopResult<T> {
    if (this.next === undefined) return { kind: 'empty' };
    if (!this.playing) {
      if (this.slots.size < this.targetDepth) return { kind: 'empty' };
      this.playing = true;
    }
    if (this.slots.size === 0) {
      // Underrun: the speaker stopped (or DTX). Rebuffer rather than inventing losses.
      this.playing = false;
      return { kind: 'empty' };
    }
    this.controlLatency();
    const seq = this.next;
    this.next = (seq + 1) & 0xffff;
    const payload = this.slots.get(seq);
    if (payload === undefined) return { kind: 'loss', sequenceNumber: seq };
    this.slots.delete(seq);
    return { kind: 'frame', payload, sequenceNumber: seq };
  }

  /**
   * Sender and mixer both run at 50 frames a second, so a backlog left by a
   * burst (a sender catching up after a stall) never drains by itself and would
   * delay that voice for good. Once the backlog has stayed over the target for
   * a while, the oldest frames are dropped: one short glitch instead of
   * permanent delay.
   */
  private controlLatency(): void {
    if (this.slots.size <= this.targetDepth + this.maxExcess) {
      this.ticksOverTarget = 0;
      return;
    }
    if (++this.ticksOverTarget < this.trimAfterTicks) return;
    this.ticksOverTarget = 0;
    while (this.slots.size > this.targetDepth && this.next !== undefined) {
      if (this.slots.delete(this.next)) this.trimmedFrames++;
      this.next = (this.next + 1) & 0xffff;
    }
  }

  reset(): void {
    this.ticksOverTarget = 0;
    this.slots.clear();
    this.next = undefined;
    this.playing = false;
  }
}
