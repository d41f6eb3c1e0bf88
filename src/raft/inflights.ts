import assert from 'node:assert/strict';

/**
 * The append messages in flight to one follower, as the last index each carried (etcd's
 * Inflights). Bounded by `capacity` (inflightMessagesMax): when full, the leader waits for
 * acknowledgements before sending more, so a slow follower cannot make it buffer without limit.
 */
export class Inflights {
  readonly capacity: number;
  private lastIndices: number[] = [];

  constructor(capacity: number) {
    assert.ok(Number.isSafeInteger(capacity) && capacity > 0, `inflight capacity must be positive, got ${capacity}`);
    this.capacity = capacity;
  }

  get count(): number {
    return this.lastIndices.length;
  }

  full(): boolean {
    return this.lastIndices.length >= this.capacity;
  }

  add(lastIndex: number): void {
    assert.ok(!this.full(), 'cannot add to a full inflight window');
    const previous = this.lastIndices.at(-1);
    assert.ok(previous === undefined || lastIndex > previous, `inflight indices must increase (${previous} then ${lastIndex})`);
    this.lastIndices.push(lastIndex);
  }

  /** Frees every message whose entries are all acknowledged by a match up to `index`. */
  freeLessOrEqual(index: number): void {
    let freed = 0;
    while (freed < this.lastIndices.length && (this.lastIndices[freed] ?? Infinity) <= index) freed++;
    if (freed > 0) this.lastIndices.splice(0, freed);
  }

  /** Frees the oldest message: a heartbeat answer shows the link works even if that one was lost. */
  freeFirstOne(): void {
    this.lastIndices.shift();
  }

  reset(): void {
    this.lastIndices = [];
  }
}
