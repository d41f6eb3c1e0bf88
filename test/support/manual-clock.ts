import assert from 'node:assert/strict';
import type { Clock } from '../../src/actors/clock.js';

interface PendingTimer {
  readonly dueMs: number;
  /** Order of scheduling: timers due at the same time fire in the order they were set. */
  readonly sequence: number;
  readonly callback: () => void;
}

/**
 * A Clock that moves only when a test says so. `advance(ms)` fires the timers that fall due in
 * that span one at a time, in due order, with `nowMs()` at each timer's due time, and lets pending
 * promise callbacks run after each one: code that awaits a promise before setting its next timer
 * sees the same sequence of events as under the wall clock, without a test ever sleeping.
 */
export class ManualClock implements Clock {
  private currentMs: number;
  private sequenceNext = 0;
  private readonly timers = new Map<number, PendingTimer>();

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  setTimer(delayMs: number, callback: () => void): () => void {
    assert(Number.isFinite(delayMs), `a timer needs a finite delay, got ${delayMs}`);
    const sequence = this.sequenceNext++;
    this.timers.set(sequence, { dueMs: this.currentMs + Math.max(0, delayMs), sequence, callback });
    return () => {
      this.timers.delete(sequence);
    };
  }

  /** Timers set and not yet fired or cancelled. */
  pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due by then (including ones set on the way). */
  async advance(ms: number): Promise<void> {
    assert(ms >= 0, `time moves forward only, got ${ms} ms`);
    const targetMs = this.currentMs + ms;
    await settle();
    for (let timer = this.nextDue(targetMs); timer !== undefined; timer = this.nextDue(targetMs)) {
      this.timers.delete(timer.sequence);
      this.currentMs = timer.dueMs;
      timer.callback();
      await settle();
    }
    this.currentMs = targetMs;
  }

  private nextDue(limitMs: number): PendingTimer | undefined {
    let earliest: PendingTimer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.dueMs > limitMs) continue;
      if (earliest === undefined || timer.dueMs < earliest.dueMs || (timer.dueMs === earliest.dueMs && timer.sequence < earliest.sequence)) earliest = timer;
    }
    return earliest;
  }
}

/**
 * Lets every promise callback that is ready run: the microtask queue drains completely before the
 * next macrotask, so one setImmediate turn is enough (no time passes on any clock).
 */
export async function settle(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}
