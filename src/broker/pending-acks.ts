import assert from 'node:assert/strict';
import { TributaryError } from '../errors/index.js';

export interface PendingAcksOptions {
  /** Kafka's name for the partition ("orders-3"), for messages. */
  readonly partition: string;
  /** acks=ALL writes that may wait at once; one more is refused with RESOURCE_EXHAUSTED. */
  readonly pendingAcksMax: number;
}

interface PendingAck<T> {
  readonly lastOffset: number;
  readonly waiter: T;
}

/**
 * acks=ALL produce requests waiting for the high watermark to pass their last offset, kept in
 * offset order. A leader appends in offset order, so `add` is almost always at the end (O(1)
 * amortized); an out-of-order one is placed by binary search. `takeSatisfied` finds the boundary by
 * binary search and takes a prefix, so thousands in flight cost O(log n) per call plus the
 * waiters released. Waiters with equal offsets keep the order they were added in.
 */
export class PendingAcks<T> {
  readonly partition: string;
  readonly pendingAcksMax: number;
  /** Sorted by lastOffset from `head` on; entries before `head` were taken. */
  private entries: PendingAck<T>[] = [];
  private head = 0;

  constructor(options: PendingAcksOptions) {
    assert.ok(Number.isSafeInteger(options.pendingAcksMax) && options.pendingAcksMax > 0, `pendingAcksMax ${options.pendingAcksMax} must be a positive integer`);
    this.partition = options.partition;
    this.pendingAcksMax = options.pendingAcksMax;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Waits for `lastOffset` to be below the high watermark; refuses beyond pendingAcksMax. */
  add(lastOffset: number, waiter: T): void {
    assert.ok(Number.isSafeInteger(lastOffset) && lastOffset >= 0, `last offset ${lastOffset} is not an offset (a safe integer from 0)`);
    if (this.size >= this.pendingAcksMax) {
      throw new TributaryError(
        'RESOURCE_EXHAUSTED',
        `partition "${this.partition}": ${this.size} acks=ALL writes already wait for replication (pendingAcksMax ${this.pendingAcksMax}); retry later`,
      );
    }
    const entry = { lastOffset, waiter };
    const last = this.entries[this.entries.length - 1];
    if (last === undefined || last.lastOffset <= lastOffset) {
      this.entries.push(entry);
    } else {
      this.entries.splice(this.firstAbove(lastOffset), 0, entry);
    }
  }

  /** Removes and returns, in offset order, the waiters whose lastOffset is below `highWatermark`. */
  takeSatisfied(highWatermark: number): T[] {
    assert.ok(Number.isSafeInteger(highWatermark) && highWatermark >= 0, `high watermark ${highWatermark} is not an offset (a safe integer from 0)`);
    const end = this.firstAbove(highWatermark - 1);
    const taken = this.entries.slice(this.head, end).map((entry) => entry.waiter);
    this.head = end;
    this.compact();
    return taken;
  }

  /** Removes and returns every waiter, in offset order (leadership lost: each gets NOT_LEADER). */
  takeAll(): T[] {
    const taken = this.entries.slice(this.head).map((entry) => entry.waiter);
    this.entries = [];
    this.head = 0;
    return taken;
  }

  /** The first position from `head` whose lastOffset is above `offset` (binary search). */
  private firstAbove(offset: number): number {
    let low = this.head;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const entry = this.entries[middle];
      assert.ok(entry !== undefined);
      if (entry.lastOffset <= offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Drops taken entries once they are half the array, so memory follows what still waits. */
  private compact(): void {
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
