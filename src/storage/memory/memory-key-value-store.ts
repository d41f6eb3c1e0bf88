import type { KeyRange, KeyValueOperation, KeyValueStore, WriteOptions } from '../key-value-store.js';

/*
 * The KeyValueStore of unit tests and the simulator: keys kept sorted bytewise in two parallel
 * arrays searched by bisection, plus a model of power loss. Every write is applied at once; a
 * write without `sync` also leaves an undo record, so `crash()` can roll the newest unsynced
 * batches back. A synced write makes itself and everything before it durable (the undo log is
 * dropped), which is what an fsync of RocksDB's write-ahead log does.
 */

/**
 * Given how many batches were written since the last sync, how many of the oldest survive a crash:
 * an integer from 0 to `unsyncedBatchCount`. The simulator derives it from its seeded Random.
 */
export type UnsyncedPrefixChooser = (unsyncedBatchCount: number) => number;

/** The default crash: every unsynced batch is lost. */
export const dropAllUnsynced: UnsyncedPrefixChooser = () => 0;

export interface MemoryKeyValueStoreOptions {
  /**
   * Unsynced batches a crash may still lose. Past it the oldest becomes durable, as an operating
   * system writes dirty pages back within seconds; it also bounds the undo log under `durability:
   * none`, where nothing is ever synced.
   */
  readonly unsyncedBatchesMax?: number;
  /** Names the store in error messages (the simulator names each node's); `memory store` by default. */
  readonly location?: string;
}

const unsyncedBatchesMaxDefault = 10_000;
/** Entries copied out per step of a range scan; see `range` for why scans go in steps. */
const rangeChunkEntriesMax = 256;

/** How to undo one applied operation: the key and what it held before (undefined: absent). */
interface UndoRecord {
  readonly key: Uint8Array;
  readonly previous: Uint8Array | undefined;
}

export class MemoryKeyValueStore implements KeyValueStore {
  readonly location: string;
  readonly #unsyncedBatchesMax: number;
  /** Sorted bytewise; `#values[i]` belongs to `#keys[i]`. Both hold private copies only. */
  #keys: Uint8Array[] = [];
  #values: Uint8Array[] = [];
  /** One entry per unsynced batch, oldest first; each lists its undo records in applied order. */
  #unsyncedBatches: UndoRecord[][] = [];
  #state: 'open' | 'closed' | 'crashed' = 'open';

  constructor(options: MemoryKeyValueStoreOptions = {}) {
    const unsyncedBatchesMax = options.unsyncedBatchesMax ?? unsyncedBatchesMaxDefault;
    if (!Number.isSafeInteger(unsyncedBatchesMax) || unsyncedBatchesMax < 0) {
      throw new RangeError(`unsyncedBatchesMax must be a non-negative integer, got ${unsyncedBatchesMax}`);
    }
    this.#unsyncedBatchesMax = unsyncedBatchesMax;
    this.location = options.location ?? 'memory store';
  }

  /** Batches written since the last sync: what a crash may lose. */
  get unsyncedBatchCount(): number {
    return this.#unsyncedBatches.length;
  }

  /** Keys stored now, synced or not. */
  get size(): number {
    return this.#keys.length;
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return settle(() => {
      this.#assertOpen();
      const index = this.#lowerBound(key);
      const value = this.#keyAt(index, key) ? this.#values[index] : undefined;
      return value === undefined ? undefined : new Uint8Array(value);
    });
  }

  /**
   * Copies out at most rangeChunkEntriesMax entries per step and finds the next step again by key,
   * so a write between two steps can neither shift entries under the scan nor make it repeat one.
   */
  async *range(range: KeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    let remaining = checkedLimit(range.limit);
    if (remaining === 0 || Buffer.compare(range.gte, range.lt) >= 0) return;
    let after: Uint8Array | undefined;
    while (remaining > 0) {
      // Each step awaits, as RocksDB's fetch of the next chunk does: writes may land between
      // steps here too, so callers meet the same interleavings on both engines.
      await Promise.resolve();
      this.#assertOpen();
      const chunk = this.#chunk(range, after, Math.min(remaining, rangeChunkEntriesMax));
      if (chunk.length === 0) return;
      // Copied before yielding: the caller owns the yielded keys and may change them.
      after = Uint8Array.from(chunk[chunk.length - 1]?.[0] ?? []);
      remaining -= chunk.length;
      for (const entry of chunk) yield entry;
    }
  }

  /** Applied before it returns, like RocksDB's write on the JS thread, so call order is write order. */
  write(operations: readonly KeyValueOperation[], options: WriteOptions): Promise<void> {
    return settle(() => {
      this.#assertOpen();
      const undoRecords = operations.map((operation) => this.#apply(operation));
      if (options.sync) {
        this.#unsyncedBatches = [];
      } else if (undoRecords.length > 0) {
        this.#unsyncedBatches.push(undoRecords);
        // The oldest batch reaches the disk without a sync, as written-back page cache does.
        if (this.#unsyncedBatches.length > this.#unsyncedBatchesMax) this.#unsyncedBatches.shift();
      }
    });
  }

  close(): Promise<void> {
    if (this.#state === 'open') this.#state = 'closed';
    return Promise.resolve();
  }

  /**
   * The store as a restart after power loss finds it: everything synced, plus the oldest
   * `chooseKept(unsyncedBatchCount)` unsynced batches, each whole or not at all. This store is
   * dead afterwards (the process that used it is gone): every later call on it throws.
   */
  crash(chooseKept: UnsyncedPrefixChooser = dropAllUnsynced): MemoryKeyValueStore {
    this.#assertOpen();
    const unsyncedBatchCount = this.#unsyncedBatches.length;
    const kept = chooseKept(unsyncedBatchCount);
    if (!Number.isSafeInteger(kept) || kept < 0 || kept > unsyncedBatchCount) {
      throw new RangeError(`a crash keeps 0 to ${unsyncedBatchCount} unsynced batches, the chooser said ${kept}`);
    }
    const survivor = new MemoryKeyValueStore({ unsyncedBatchesMax: this.#unsyncedBatchesMax, location: this.location });
    survivor.#keys = [...this.#keys];
    survivor.#values = [...this.#values];
    for (const undoRecords of this.#unsyncedBatches.slice(kept).reverse()) survivor.#undo(undoRecords);
    this.#state = 'crashed';
    return survivor;
  }

  #chunk(range: KeyRange, after: Uint8Array | undefined, size: number): Array<readonly [Uint8Array, Uint8Array]> {
    const start = this.#lowerBound(range.gte);
    const end = this.#lowerBound(range.lt);
    const entries: Array<readonly [Uint8Array, Uint8Array]> = [];
    if (range.reverse === true) {
      const from = after === undefined ? end : Math.min(end, this.#lowerBound(after));
      for (let index = from - 1; index >= start && entries.length < size; index--) entries.push(this.#entryAt(index));
    } else {
      const from = after === undefined ? start : Math.max(start, this.#upperBound(after));
      for (let index = from; index < end && entries.length < size; index++) entries.push(this.#entryAt(index));
    }
    return entries;
  }

  #entryAt(index: number): readonly [Uint8Array, Uint8Array] {
    const key = this.#keys[index];
    const value = this.#values[index];
    if (key === undefined || value === undefined) throw new Error(`no entry at index ${index}`);
    return [new Uint8Array(key), new Uint8Array(value)];
  }

  /** Applies one operation and returns how to undo it. */
  #apply(operation: KeyValueOperation): UndoRecord {
    const key = new Uint8Array(operation.key);
    const index = this.#lowerBound(key);
    const previous = this.#keyAt(index, key) ? this.#values[index] : undefined;
    this.#set(index, key, operation.type === 'put' ? new Uint8Array(operation.value) : undefined);
    return { key, previous };
  }

  #undo(undoRecords: readonly UndoRecord[]): void {
    for (let position = undoRecords.length - 1; position >= 0; position--) {
      const record = undoRecords[position];
      if (record === undefined) continue;
      this.#set(this.#lowerBound(record.key), record.key, record.previous);
    }
  }

  /** Makes `key` hold `value` (or be absent when undefined); `index` is its lower bound. */
  #set(index: number, key: Uint8Array, value: Uint8Array | undefined): void {
    const present = this.#keyAt(index, key);
    if (value === undefined) {
      if (!present) return;
      this.#keys.splice(index, 1);
      this.#values.splice(index, 1);
    } else if (present) {
      this.#values[index] = value;
    } else {
      this.#keys.splice(index, 0, key);
      this.#values.splice(index, 0, value);
    }
  }

  #keyAt(index: number, key: Uint8Array): boolean {
    const stored = this.#keys[index];
    return stored !== undefined && Buffer.compare(stored, key) === 0;
  }

  /** The first index whose key is >= `key`. */
  #lowerBound(key: Uint8Array): number {
    return this.#bisect((stored) => Buffer.compare(stored, key) < 0);
  }

  /** The first index whose key is > `key`. */
  #upperBound(key: Uint8Array): number {
    return this.#bisect((stored) => Buffer.compare(stored, key) <= 0);
  }

  /** The first index where `before` turns false; `before` must be true on a prefix only. */
  #bisect(before: (stored: Uint8Array) => boolean): number {
    let low = 0;
    let high = this.#keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const stored = this.#keys[middle];
      if (stored !== undefined && before(stored)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new Error(`memory key-value store is ${this.#state}`);
  }
}

/** Runs `compute` now and reports its result or its throw through a promise, as I/O would. */
function settle<T>(compute: () => T): Promise<T> {
  try {
    return Promise.resolve(compute());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function checkedLimit(limit: number | undefined): number {
  if (limit === undefined) return Infinity;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`range limit must be a non-negative integer, got ${limit}`);
  }
  return limit;
}
