import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KeyRange, KeyValueOperation, KeyValueStore, WriteOptions } from '../key-value-store.js';
import type { WriteFailure, WriteReply, WriteRequest, WriteWorkerData } from './rocksdb-write-worker.js';

/*
 * The KeyValueStore of a node: one RocksDB database per data directory. Everything lives in the
 * default column family; a second, empty family exists only as the target of sync barriers (see
 * `write`). Writes run on the JS thread by default (the binding calls DB::Write synchronously), or
 * with `writeThread: 'worker'` on a worker thread attached to the same database; reads and
 * iteration run on the libuv pool either way.
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
/**
 * With `writeThread: 'worker'`, batches sent to the write thread and not yet answered. A write
 * beyond it is rejected at once, unapplied; one GroupCommitWriter keeps at most one in flight.
 */
export const workerWriteQueueBatchesMax = 1024;

export interface RocksDbKeyValueStoreOptions {
  /** Create the directory and an empty database when missing (default true). */
  readonly createIfMissing?: boolean;
  /**
   * Where `write` runs DB::Write (and its fsync): on the JS thread ('main', the default), or on a
   * worker thread sharing the database ('worker'), which keeps synced writes off the event loop.
   */
  readonly writeThread?: 'main' | 'worker';
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
  if ((options.writeThread ?? 'main') === 'main') return new RocksDbKeyValueStore(db, undefined);
  try {
    return new RocksDbKeyValueStore(db, await WorkerWriter.start(db.handle));
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
  readonly #worker: WorkerWriter | undefined;

  constructor(db: RocksLevel, worker: WorkerWriter | undefined) {
    this.#db = db;
    this.#worker = worker;
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
    if (this.#worker !== undefined) return this.#worker.write(operations, options);
    // RocksDB skips the WAL (and its fsync) for an empty batch; a tombstone in the barrier family
    // makes an empty synced write still fsync everything written before it, as the contract says.
    const batch = operations.length === 0 && options.sync ? [this.#syncBarrier()] : operations.map(toRocksLevel);
    if (batch.length === 0) return;
    await this.#db.batch(batch, { sync: options.sync });
  }

  async close(): Promise<void> {
    // The write thread goes first: the database must outlive every batch it is applying.
    await this.#worker?.close();
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

/**
 * The worker to start: the compiled entry beside this module (dist), else the TypeScript one
 * (src, under tsx or vitest), loaded by a small bootstrap that registers tsx in the worker first.
 */
function writeWorkerEntry(): { readonly script: URL | string; readonly eval: boolean } {
  const compiled = new URL('./rocksdb-write-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return { script: compiled, eval: false };
  const source = new URL('./rocksdb-write-worker.ts', import.meta.url).href;
  // The ESM build of tsx/esm/api (require.resolve would pick the CommonJS one).
  const tsxApi = new URL('dist/esm/api/index.mjs', pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json'))).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return { script: bootstrap, eval: true };
}

/**
 * The main-thread side of the write thread: sends each batch in call order (the worker applies
 * them in arrival order, one at a time) and settles each call with the worker's answer.
 */
class WorkerWriter {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(): void; reject(error: Error): void }>();
  #nextId = 0;
  #closing: Promise<void> | undefined;
  #failure: Error | undefined;
  #drained: (() => void) | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: WriteReply) => {
      if (reply.kind === 'written') this.#settle(reply.id, reply.error);
    });
    worker.on('error', (error) => this.#fail(new Error(`the RocksDB write thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', this.#onExit);
  }

  readonly #onExit = (code: number): void => this.#fail(new Error(`the RocksDB write thread exited (code ${code})`));

  static async start(handle: bigint): Promise<WorkerWriter> {
    const entry = writeWorkerEntry();
    const workerData: WriteWorkerData = { handle, syncBarrierColumn };
    const worker = new Worker(entry.script, { workerData, eval: entry.eval });
    const listeners: { message?: (reply: WriteReply) => void; error?: (error: Error) => void; exit?: (code: number) => void } = {};
    try {
      await new Promise<void>((resolveReady, rejectReady) => {
        listeners.message = (reply) => {
          if (reply.kind === 'ready') resolveReady();
          else rejectReady(reply.kind === 'open-failed' ? failureError(reply.error) : new Error(`unexpected first reply "${reply.kind}"`));
        };
        listeners.error = rejectReady;
        listeners.exit = (code) => rejectReady(new Error(`the write thread exited (code ${code}) before it was ready`));
        worker.once('message', listeners.message).once('error', listeners.error).once('exit', listeners.exit);
      });
    } catch (error) {
      await worker.terminate();
      throw error;
    } finally {
      // Only ours: Worker keeps listeners of its own (they ref its port while 'message' has some).
      if (listeners.message !== undefined) worker.off('message', listeners.message);
      if (listeners.error !== undefined) worker.off('error', listeners.error);
      if (listeners.exit !== undefined) worker.off('exit', listeners.exit);
    }
    return new WorkerWriter(worker);
  }

  write(operations: readonly KeyValueOperation[], options: WriteOptions): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closing !== undefined) return Promise.reject(new Error('the RocksDB store is closed'));
    const syncBarrier = operations.length === 0 && options.sync;
    if (operations.length === 0 && !syncBarrier) return Promise.resolve();
    if (this.#pending.size >= workerWriteQueueBatchesMax) {
      return Promise.reject(new Error(`the RocksDB write queue is full (${workerWriteQueueBatchesMax} batches in flight)`));
    }
    const id = this.#nextId++;
    const request: WriteRequest = { id, operations: syncBarrier ? [] : operations.map(toRocksLevel), syncBarrier, sync: options.sync };
    // postMessage copies the keys and values now, so later changes by the caller cannot leak in.
    this.#worker.postMessage(request);
    return new Promise<void>((resolveWrite, rejectWrite) => this.#pending.set(id, { resolve: resolveWrite, reject: rejectWrite }));
  }

  /** Waits for every batch sent to be answered, then terminates the thread. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#pending.size > 0) await new Promise<void>((resolveDrained) => (this.#drained = resolveDrained));
      this.#worker.off('exit', this.#onExit);
      await this.#worker.terminate();
    })();
    return this.#closing;
  }

  #settle(id: number, failure: WriteFailure | undefined): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (failure === undefined) pending.resolve();
    else pending.reject(failureError(failure));
    if (this.#pending.size === 0) this.#drained?.();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#drained?.();
  }
}

function failureError(failure: WriteFailure): Error {
  const error = new Error(failure.message, failure.causeMessage === undefined ? undefined : { cause: new Error(failure.causeMessage) });
  error.name = failure.name;
  if (failure.code !== undefined) Object.assign(error, { code: failure.code });
  return error;
}
