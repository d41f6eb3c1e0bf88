import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { TributaryError } from '../../errors/index.js';
import type { KeyRange, KeyValueOperation, KeyValueStore, WriteOptions } from '../key-value-store.js';
import { RocksDbWorkerWriter } from './rocksdb-worker-writer.js';

/*
 * The KeyValueStore of a node: one RocksDB database per data directory. Everything lives in the
 * default column family; a second, empty family exists only as the target of sync barriers (see
 * `write`). Writes run by default on a worker thread attached to the same database, because the
 * binding calls DB::Write (and its fsync) synchronously on whichever thread writes; with
 * `writeThread: 'main'` they run on the JS thread. Reads and iteration run on the libuv pool.
 */

/** The part of @nxtedition/rocksdb (abstract-level 1.x, shipped without types) that we use. */
interface RocksLevelBatchOperation {
  readonly type: 'put' | 'del';
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
  readonly column?: unknown;
}

interface RocksLevelIterator {
  nextv(size: number): Promise<Array<[Uint8Array, Uint8Array]>>;
  close(): Promise<void>;
}

interface RocksLevel {
  readonly handle: bigint;
  readonly columns: Readonly<Record<string, unknown>>;
  open(options: { readonly createIfMissing: boolean; readonly columns: Readonly<Record<string, object>> }): Promise<void>;
  batch(operations: readonly RocksLevelBatchOperation[], options: { readonly sync: boolean }): Promise<void>;
  iterator(options: { gte: Uint8Array; reverse: boolean; limit: number } & ({ lt: Uint8Array } | { lte: Uint8Array })): RocksLevelIterator;
  close(): Promise<void>;
}

type RocksLevelConstructor = new (
  location: string,
  options: { readonly keyEncoding: 'buffer'; readonly valueEncoding: 'buffer' },
) => RocksLevel;

const { RocksLevel } = createRequire(import.meta.url)('@nxtedition/rocksdb') as { RocksLevel: RocksLevelConstructor };

/** The column family that only ever receives sync-barrier tombstones. */
const syncBarrierColumn = 'tributary-sync-barrier';
const syncBarrierKey = new Uint8Array(0);
/** Entries fetched per native call while iterating a range: bounds memory, amortises the call. */
const rangeChunkEntriesMax = 256;

export type WriteThread = 'main' | 'worker';

/**
 * The worker: measured side by side (docs/STORAGE.md, "Write thread"), it halves the event-loop
 * delay p99 and frees the ~90% of the main thread a synced writer spends inside DB::Write, which
 * the Raft host and the gRPC servers sharing the loop need more than the throughput the worker's
 * thread hop costs (little with fsync, most with `durability: none` and one writer).
 */
export const writeThreadDefault: WriteThread = 'worker';

export interface RocksDbKeyValueStoreOptions {
  /** Create the directory and an empty database when missing (default true). */
  readonly createIfMissing?: boolean;
  /**
   * Where `write` runs DB::Write (and its fsync): on a worker thread sharing the database
   * ('worker'), which keeps synced writes off the event loop and coalesces the writes queued
   * meanwhile into one batch, or on the JS thread ('main'). `writeThreadDefault` when omitted.
   */
  readonly writeThread?: WriteThread;
}

/** Opens (creating if allowed) the RocksDB database in `directory`; one process may hold it. */
export async function openRocksDbKeyValueStore(directory: string, options: RocksDbKeyValueStoreOptions = {}): Promise<KeyValueStore> {
  const location = resolve(directory);
  const createIfMissing = options.createIfMissing ?? true;
  if (createIfMissing) await createDirectory(location);
  const db = new RocksLevel(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  try {
    // The library's own mkdir path never calls back on failure, so createIfMissing is ours above.
    await db.open({ createIfMissing, columns: { default: {}, [syncBarrierColumn]: {} } });
  } catch (error) {
    throw openError(location, error);
  }
  if ((options.writeThread ?? writeThreadDefault) === 'main') return new RocksDbKeyValueStore(db, location, undefined);
  try {
    return new RocksDbKeyValueStore(db, location, await RocksDbWorkerWriter.start(db.handle, syncBarrierColumn));
  } catch (error) {
    await db.close();
    throw new Error(`cannot start the RocksDB write thread for "${location}": ${messageOf(error)}`, { cause: error });
  }
}

async function createDirectory(location: string): Promise<void> {
  try {
    await mkdir(location, { recursive: true });
  } catch (error) {
    throw new Error(`cannot create the RocksDB directory "${location}": ${messageOf(error)}`, { cause: error });
  }
}

/** A damaged database (a table file or MANIFEST failing its checksum) is CORRUPT_RECORD, never opened. */
function openError(location: string, error: unknown): Error {
  const reason = statusOf(error);
  const prefix = `cannot open the RocksDB database in "${location}": ${reason}`;
  if (isCorruption(error)) return new TributaryError('CORRUPT_RECORD', `${prefix}; ${damagedAdvice}`, { cause: error });
  const hint = /\bLOCK\b/.test(reason)
    ? '; another process (or another store in this process) holds this database: stop it or use another data directory'
    : '';
  return new Error(`${prefix}${hint}`, { cause: error });
}

const damagedAdvice = "the database is damaged: restore this node's data from its replicas or a backup, never edit it by hand";

/** A failed read or iteration: corruption is CORRUPT_RECORD; either way the directory is named. */
function readError(location: string, error: unknown): Error {
  const message = `cannot read the RocksDB database in "${location}": ${statusOf(error)}`;
  if (isCorruption(error)) return new TributaryError('CORRUPT_RECORD', `${message}; ${damagedAdvice}`, { cause: error });
  return new Error(message, { cause: error });
}

function writeError(location: string, error: unknown): Error {
  return new Error(`cannot write to the RocksDB database in "${location}": ${statusOf(error)}`, { cause: error });
}

/** abstract-level wraps the RocksDB status of an open in `cause`; that is the message worth showing. */
function statusOf(error: unknown): string {
  return error instanceof Error && error.cause instanceof Error ? error.cause.message : messageOf(error);
}

/** RocksDB reports a failed block, WAL or MANIFEST checksum as a `Corruption:` status. */
function isCorruption(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'LEVEL_CORRUPTION' || /\bCorruption:/.test(statusOf(error));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class RocksDbKeyValueStore implements KeyValueStore {
  readonly location: string;
  readonly #directory: string;
  readonly #db: RocksLevel;
  readonly #barrierColumn: unknown;
  readonly #worker: RocksDbWorkerWriter | undefined;

  constructor(db: RocksLevel, directory: string, worker: RocksDbWorkerWriter | undefined) {
    this.#db = db;
    this.#directory = directory;
    this.location = `RocksDB database "${directory}"`;
    this.#worker = worker;
    this.#barrierColumn = db.columns[syncBarrierColumn];
    if (this.#barrierColumn === undefined) throw new Error(`column family "${syncBarrierColumn}" did not open`);
  }

  /**
   * A one-entry iteration, not the binding's getMany: on a damaged table block getMany throws the
   * Corruption error as an uncaught exception and never settles its promise (12.2.12), which would
   * crash the node instead of naming the damage; iterators reject as they should.
   */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const iterator = this.#db.iterator({ gte: key, lte: key, reverse: false, limit: 1 });
    try {
      for await (const [, value] of readChunks(iterator, this.#directory)) return value;
      return undefined;
    } finally {
      await iterator.close();
    }
  }

  async *range(range: KeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    const limit = range.limit ?? Infinity;
    if (!(limit === Infinity || (Number.isSafeInteger(limit) && limit >= 0))) {
      throw new RangeError(`range limit must be a non-negative integer, got ${limit}`);
    }
    if (limit === 0 || Buffer.compare(range.gte, range.lt) >= 0) return;
    const iterator = this.#db.iterator({
      gte: range.gte,
      lt: range.lt,
      reverse: range.reverse ?? false,
      limit: limit === Infinity ? -1 : limit,
    });
    try {
      yield* readChunks(iterator, this.#directory);
    } finally {
      await iterator.close();
    }
  }

  async write(operations: readonly KeyValueOperation[], options: WriteOptions): Promise<void> {
    try {
      if (this.#worker !== undefined) await this.#worker.write(operations, options);
      else await this.#writeHere(operations, options);
    } catch (error) {
      throw writeError(this.#directory, error);
    }
  }

  async close(): Promise<void> {
    // The write thread goes first: the database must outlive every batch it is applying.
    await this.#worker?.close();
    await this.#db.close();
  }

  async #writeHere(operations: readonly KeyValueOperation[], options: WriteOptions): Promise<void> {
    // RocksDB skips the WAL (and its fsync) for an empty batch; a tombstone in the barrier family
    // makes an empty synced write still fsync everything written before it, as the contract says.
    const batch = operations.length === 0 && options.sync ? [this.#syncBarrier()] : operations.map(toRocksLevel);
    if (batch.length === 0) return;
    await this.#db.batch(batch, { sync: options.sync });
  }

  #syncBarrier(): RocksLevelBatchOperation {
    return { type: 'del', key: syncBarrierKey, column: this.#barrierColumn };
  }
}

async function* readChunks(iterator: RocksLevelIterator, directory: string): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
  for (;;) {
    let entries: Array<[Uint8Array, Uint8Array]>;
    try {
      entries = await iterator.nextv(rangeChunkEntriesMax);
    } catch (error) {
      throw readError(directory, error);
    }
    if (entries.length === 0) return;
    // Copies, because the entries of a chunk are views into one shared native buffer.
    for (const [key, value] of entries) yield [new Uint8Array(key), new Uint8Array(value)] as const;
  }
}

function toRocksLevel(operation: KeyValueOperation): RocksLevelBatchOperation {
  return operation.type === 'put'
    ? { type: 'put', key: operation.key, value: operation.value }
    : { type: 'del', key: operation.key };
}
