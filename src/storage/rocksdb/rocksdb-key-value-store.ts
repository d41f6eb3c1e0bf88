import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { KeyRange, KeyValueOperation, KeyValueStore, WriteOptions } from '../key-value-store.js';

/*
 * The KeyValueStore of a node: one RocksDB database per data directory. Everything lives in the
 * default column family; a second, empty family exists only as the target of sync barriers (see
 * `write`). Writes run on the JS thread (the binding calls DB::Write synchronously), reads and
 * iteration run on the libuv pool.
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
  readonly columns: Readonly<Record<string, unknown>>;
  open(options: { readonly createIfMissing: boolean; readonly columns: Readonly<Record<string, object>> }): Promise<void>;
  getMany(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>>;
  batch(operations: readonly RocksLevelBatchOperation[], options: { readonly sync: boolean }): Promise<void>;
  iterator(options: { gte: Uint8Array; lt: Uint8Array; reverse: boolean; limit: number }): RocksLevelIterator;
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

export interface RocksDbKeyValueStoreOptions {
  /** Create the directory and an empty database when missing (default true). */
  readonly createIfMissing?: boolean;
}

/** Opens (creating if allowed) the RocksDB database in `directory`; one process may hold it. */
export async function openRocksDbKeyValueStore(
  directory: string,
  options: RocksDbKeyValueStoreOptions = {},
): Promise<KeyValueStore> {
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
  return new RocksDbKeyValueStore(db);
}

async function createDirectory(location: string): Promise<void> {
  try {
    await mkdir(location, { recursive: true });
  } catch (error) {
    throw new Error(`cannot create the RocksDB directory "${location}": ${messageOf(error)}`, { cause: error });
  }
}

function openError(location: string, error: unknown): Error {
  // abstract-level wraps the RocksDB status in `cause`; that is the message worth showing.
  const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : messageOf(error);
  const hint = /\bLOCK\b/.test(reason)
    ? '; another process (or another store in this process) holds this database: stop it or use another data directory'
    : '';
  return new Error(`cannot open the RocksDB database in "${location}": ${reason}${hint}`, { cause: error });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class RocksDbKeyValueStore implements KeyValueStore {
  readonly #db: RocksLevel;
  readonly #barrierColumn: unknown;

  constructor(db: RocksLevel) {
    this.#db = db;
    this.#barrierColumn = db.columns[syncBarrierColumn];
    if (this.#barrierColumn === undefined) throw new Error(`column family "${syncBarrierColumn}" did not open`);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const [value] = await this.#db.getMany([key]);
    // The binding hands out views into one shared result buffer; callers get their own bytes.
    return value === undefined ? undefined : new Uint8Array(value);
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
      yield* readChunks(iterator);
    } finally {
      await iterator.close();
    }
  }

  async write(operations: readonly KeyValueOperation[], options: WriteOptions): Promise<void> {
    // RocksDB skips the WAL (and its fsync) for an empty batch; a tombstone in the barrier family
    // makes an empty synced write still fsync everything written before it, as the contract says.
    const batch = operations.length === 0 && options.sync ? [this.#syncBarrier()] : operations.map(toRocksLevel);
    if (batch.length === 0) return;
    await this.#db.batch(batch, { sync: options.sync });
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  #syncBarrier(): RocksLevelBatchOperation {
    return { type: 'del', key: syncBarrierKey, column: this.#barrierColumn };
  }
}

async function* readChunks(iterator: RocksLevelIterator): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
  for (;;) {
    const entries = await iterator.nextv(rangeChunkEntriesMax);
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
