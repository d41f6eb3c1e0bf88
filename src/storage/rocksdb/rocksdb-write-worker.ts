/*
 * The write thread of a RocksDB store opened with `writeThread: 'worker'`: it attaches to the
 * database the main thread opened (through `db.handle`, never opening or closing it itself) and
 * applies each request it is sent as ONE RocksDB write batch, one request after another in
 * arrival order, answering with the request id and the engine error if any. A request carries
 * every caller's write the main thread gathered while the previous request was in flight, so one
 * DB::Write (and one fsync) covers them all; it blocks this thread instead of the main one.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { type PackedWriteBatch, type UnpackedOperation, unpackWriteBatch } from './packed-write-batch.js';

/** What the main thread sends: the packed writes of several callers, applied as one batch. */
export interface WriteRequest {
  readonly id: number;
  /** One packed write batch per caller, in call order. */
  readonly writes: readonly PackedWriteBatch[];
  /** Synced if any covered caller asked; an empty synced request writes a sync barrier. */
  readonly sync: boolean;
}

/** The error of a failed batch, rebuilt on the main thread (structured clone drops `code`). */
export interface WriteFailure {
  readonly name: string;
  readonly message: string;
  readonly code?: unknown;
  readonly causeMessage?: string;
}

export type WriteReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'open-failed'; readonly error: WriteFailure }
  | { readonly kind: 'written'; readonly id: number; readonly error?: WriteFailure };

export interface WriteWorkerData {
  readonly handle: bigint;
  readonly syncBarrierColumn: string;
}

interface AttachedRocksLevel {
  readonly columns: Readonly<Record<string, unknown>>;
  open(options: { readonly createIfMissing: boolean }): Promise<void>;
  batch(operations: ReadonlyArray<UnpackedOperation | { type: 'del'; key: Uint8Array; column: unknown }>, options: { readonly sync: boolean }): Promise<void>;
}

type AttachedRocksLevelConstructor = new (handle: bigint, options: { readonly keyEncoding: 'buffer'; readonly valueEncoding: 'buffer' }) => AttachedRocksLevel;

export function toWriteFailure(error: unknown): WriteFailure {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(error.cause instanceof Error ? { causeMessage: error.cause.message } : {}),
  };
}

function run(): void {
  const port = parentPort;
  if (port === null) throw new Error('rocksdb-write-worker must run in a worker thread');
  const data = workerData as WriteWorkerData;
  const { RocksLevel } = createRequire(import.meta.url)('@nxtedition/rocksdb') as { RocksLevel: AttachedRocksLevelConstructor };
  let barrierColumn: unknown;
  let db: AttachedRocksLevel;
  // Requests arriving while the attach is under way wait behind it, in order.
  let tail: Promise<void> = (async () => {
    db = new RocksLevel(data.handle, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    // The database is already open: this only fetches its column families.
    await db.open({ createIfMissing: false });
    barrierColumn = db.columns[data.syncBarrierColumn];
    if (barrierColumn === undefined) throw new Error(`column family "${data.syncBarrierColumn}" did not open`);
  })().then(
    () => port.postMessage({ kind: 'ready' } satisfies WriteReply),
    (error: unknown) => {
      port.postMessage({ kind: 'open-failed', error: toWriteFailure(error) } satisfies WriteReply);
      throw error;
    },
  );
  const apply = async (request: WriteRequest): Promise<void> => {
    const operations = request.writes.flatMap(unpackWriteBatch);
    // RocksDB skips the WAL (and its fsync) for an empty batch; the barrier tombstone makes it sync.
    const batch = operations.length === 0 ? [{ type: 'del' as const, key: new Uint8Array(0), column: barrierColumn }] : operations;
    await db.batch(batch, { sync: request.sync });
  };
  port.on('message', (request: WriteRequest) => {
    tail = tail.then(async () => {
      try {
        await apply(request);
        port.postMessage({ kind: 'written', id: request.id } satisfies WriteReply);
      } catch (error) {
        port.postMessage({ kind: 'written', id: request.id, error: toWriteFailure(error) } satisfies WriteReply);
      }
    });
  });
}

run();
