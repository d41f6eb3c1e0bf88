import assert from 'node:assert/strict';
import type { NodeConfig } from '../config/index.js';
import { TributaryError } from '../errors/index.js';
import type { KeyValueOperation, KeyValueStore } from './key-value-store.js';
import type { StorageWriter } from './storage-writer.js';

/*
 * Group commit: the writes of many concurrent callers (the Raft host, every partition) go to the
 * engine as ONE atomic batch, synced once, so one fsync acknowledges all of them. While a flush is
 * in progress new callers queue for the next one, so batches grow with load by themselves. Each
 * caller's promise settles only after the write (and sync) that covers its operations.
 *
 * Fail-stop: after a flush fails, no later flush is ever written. Callers pipeline their writes
 * (a partition appends offset 11 before offset 10 is acknowledged), so writing later batches after
 * a lost one would leave holes on disk; and after a failed fsync the page cache can no longer be
 * trusted (PostgreSQL's "fsyncgate"). Every queued and later caller is rejected instead.
 */

export type Durability = NodeConfig['durability'];

export interface GroupCommitWriterOptions {
  /** `fsync`: each flush is a synced write; `none`: acknowledged once applied, a crash may lose it. */
  readonly durability: Durability;
  /** Bytes one flush may carry; a single caller's larger write goes alone. */
  readonly batchBytesMax?: number;
  /** How long an idle writer waits for company after the first caller; 0 flushes on the next turn. */
  readonly lingerMs?: number;
  /** Bytes queued for the next flush; callers beyond it wait their turn to be queued (backpressure). */
  readonly pendingBytesMax?: number;
}

/**
 * A flush of 1 MiB with fsync takes 8 to 22 ms on the development machine (bench/storage-engine.ts);
 * with RocksDB's main-thread writer that is how long it blocks the event loop, so batchBytesMax
 * bounds the stall. pendingBytesMax keeps sixteen flushes' worth queued at most.
 */
export const groupCommitDefaults = {
  batchBytesMax: 1024 * 1024,
  lingerMs: 0,
  pendingBytesMax: 16 * 1024 * 1024,
} as const;

/** A linger beyond this would hold every acknowledgement longer than any disk takes to sync. */
const lingerMsMax = 1_000;
/**
 * Counted per operation besides its key and value (RocksDB spends a tag and two varint lengths on
 * each record), so that floods of empty keys still meet the byte bounds.
 */
const operationOverheadBytes = 8;

interface PendingWrite {
  readonly operations: readonly KeyValueOperation[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class GroupCommitWriter implements StorageWriter {
  /** What an acknowledgement means: the node's `durability` setting, as the writer was built. */
  readonly durability: Durability;
  readonly #store: KeyValueStore;
  readonly #sync: boolean;
  readonly #batchBytesMax: number;
  readonly #lingerMs: number;
  readonly #pendingBytesMax: number;
  /** Admitted, oldest first, waiting for a flush; `#queuedBytes` is their total. */
  #queued: PendingWrite[] = [];
  #queuedBytes = 0;
  /**
   * Callers beyond pendingBytesMax, oldest first. Not bounded here: each holds its own operations
   * and awaits them, and the request limits upstream bound how many callers there are.
   */
  #waiting: PendingWrite[] = [];
  #flushing = false;
  #cancelScheduledFlush: (() => void) | undefined;
  #failure: Error | undefined;
  #closing = false;
  #idleWaiters: Array<() => void> = [];

  constructor(store: KeyValueStore, options: GroupCommitWriterOptions) {
    this.#store = store;
    this.durability = options.durability;
    this.#sync = options.durability === 'fsync';
    this.#batchBytesMax = checkedInteger('batchBytesMax', options.batchBytesMax ?? groupCommitDefaults.batchBytesMax, 1, Number.MAX_SAFE_INTEGER);
    this.#lingerMs = checkedInteger('lingerMs', options.lingerMs ?? groupCommitDefaults.lingerMs, 0, lingerMsMax);
    this.#pendingBytesMax = checkedInteger('pendingBytesMax', options.pendingBytesMax ?? groupCommitDefaults.pendingBytesMax, 1, Number.MAX_SAFE_INTEGER);
  }

  /**
   * Resolves once `operations` are applied atomically, in call order with every other caller's,
   * and (with fsync) durable. `operations` must not change until then. An empty list is a barrier:
   * it resolves once everything written before it is durable.
   */
  write(operations: readonly KeyValueOperation[]): Promise<void> {
    const refusal = this.#refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return new Promise((resolve, reject) => {
      const pending: PendingWrite = { operations, bytes: operationsBytes(operations), resolve, reject };
      // Keep call order: nobody overtakes a caller already waiting for room.
      if (this.#waiting.length === 0 && this.#hasRoomFor(pending.bytes)) this.#enqueue(pending);
      else this.#waiting.push(pending);
    });
  }

  /** Flushes everything accepted so far, then refuses new writes. */
  close(): Promise<void> {
    this.#closing = true;
    if (this.#isIdle()) return Promise.resolve();
    // A lingering flush goes now; a running one schedules the next itself when it ends.
    if (this.#cancelScheduledFlush !== undefined) this.#rescheduleNow();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #refusal(): Error | undefined {
    if (this.#failure !== undefined) {
      return new TributaryError('NOT_AVAILABLE', `storage writes stopped after a failed write (${this.#failure.message}); restart the node`, {
        cause: this.#failure,
        retriable: false,
      });
    }
    if (this.#closing) return new TributaryError('SHUTTING_DOWN', 'the storage writer is closed');
    return undefined;
  }

  #hasRoomFor(bytes: number): boolean {
    // An empty queue takes any caller, so a write larger than the bound still gets through alone.
    return this.#queued.length === 0 || this.#queuedBytes + bytes <= this.#pendingBytesMax;
  }

  #enqueue(pending: PendingWrite): void {
    this.#queued.push(pending);
    this.#queuedBytes += pending.bytes;
    if (this.#flushing) return;
    if (this.#cancelScheduledFlush === undefined) this.#scheduleFlush();
    else if (this.#queuedBytes >= this.#batchBytesMax) this.#rescheduleNow();
  }

  /** A full batch need not linger longer. */
  #rescheduleNow(): void {
    this.#cancelScheduledFlush?.();
    this.#cancelScheduledFlush = undefined;
    this.#scheduleFlush(0);
  }

  /**
   * Lingers only when the writer was idle: under load the previous flush was the gathering window.
   * Even a zero delay waits for the next turn, so callers just acknowledged can write again and
   * join this flush.
   */
  #scheduleFlush(delayMs = this.#closing ? 0 : this.#lingerMs): void {
    assert.equal(this.#cancelScheduledFlush, undefined, 'a flush is already scheduled');
    const flush = () => {
      this.#cancelScheduledFlush = undefined;
      void this.#flush();
    };
    if (delayMs === 0) {
      const immediate = setImmediate(flush);
      this.#cancelScheduledFlush = () => clearImmediate(immediate);
    } else {
      const timeout = setTimeout(flush, delayMs);
      this.#cancelScheduledFlush = () => clearTimeout(timeout);
    }
  }

  async #flush(): Promise<void> {
    assert.ok(!this.#flushing && this.#queued.length > 0, 'flush needs an idle writer and queued writes');
    this.#flushing = true;
    const batch = this.#takeBatch();
    this.#admitWaiting();
    try {
      await this.#store.write(batch.flatMap((pending) => pending.operations), { sync: this.#sync });
      for (const pending of batch) pending.resolve();
    } catch (error) {
      this.#fail(batch, error instanceof Error ? error : new Error(String(error)));
    }
    this.#flushing = false;
    if (this.#queued.length > 0) this.#scheduleFlush(0);
    else if (this.#isIdle()) this.#notifyIdle();
  }

  /** The oldest queued writes up to batchBytesMax, at least one. */
  #takeBatch(): PendingWrite[] {
    let bytes = 0;
    let count = 0;
    for (const pending of this.#queued) {
      if (count > 0 && bytes + pending.bytes > this.#batchBytesMax) break;
      bytes += pending.bytes;
      count++;
    }
    this.#queuedBytes -= bytes;
    return this.#queued.splice(0, count);
  }

  #admitWaiting(): void {
    while (this.#waiting[0] !== undefined && this.#hasRoomFor(this.#waiting[0].bytes)) {
      const pending = this.#waiting.shift();
      if (pending === undefined) break;
      this.#queued.push(pending);
      this.#queuedBytes += pending.bytes;
    }
  }

  /** The failed flush's callers get the engine's error; everyone after them gets the refusal. */
  #fail(batch: readonly PendingWrite[], error: Error): void {
    this.#failure = error;
    for (const pending of batch) pending.reject(error);
    const refusal = this.#refusal() ?? error;
    for (const pending of [...this.#queued, ...this.#waiting]) pending.reject(refusal);
    this.#queued = [];
    this.#queuedBytes = 0;
    this.#waiting = [];
  }

  #isIdle(): boolean {
    return !this.#flushing && this.#queued.length === 0 && this.#waiting.length === 0;
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function operationsBytes(operations: readonly KeyValueOperation[]): number {
  let bytes = 0;
  for (const operation of operations) {
    bytes += operationOverheadBytes + operation.key.byteLength + (operation.type === 'put' ? operation.value.byteLength : 0);
  }
  return bytes;
}

function checkedInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
