import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KeyValueOperation, WriteOptions } from '../key-value-store.js';
import { packWriteBatch } from './packed-write-batch.js';
import type { WriteFailure, WriteReply, WriteRequest, WriteWorkerData } from './rocksdb-write-worker.js';
import { type CoalescedRequest, WriteCoalescer } from './write-coalescer.js';

/**
 * Writes waiting for the write thread, the one in flight included. A write beyond it is rejected
 * at once, unapplied; one GroupCommitWriter keeps at most one write in flight.
 */
export const workerWriteQueueBatchesMax = 1024;
/**
 * What one round trip to the write thread carries at most: the writes queued while the previous
 * one was in flight, gathered into one RocksDB batch and one sync (see WriteCoalescerBounds).
 */
export const workerWriteCoalescedBatchesMax = 256;
export const workerWriteCoalescedBytesMax = 4 * 1024 * 1024;

/**
 * The main-thread side of the write thread: a WriteCoalescer whose requests go to the thread, and
 * whose answers come back from it. The thread is unreferenced while idle, so a store left open
 * does not keep the process alive, and referenced while a write is in flight, so none is cut short.
 */
export class RocksDbWorkerWriter {
  readonly #worker: Worker;
  readonly #coalescer: WriteCoalescer;
  #nextId = 0;
  #inFlightId: number | undefined;
  #closing: Promise<void> | undefined;
  #failure: Error | undefined;
  #drained: (() => void) | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.#coalescer = new WriteCoalescer((request) => this.#post(request), {
      writesMax: workerWriteCoalescedBatchesMax,
      bytesMax: workerWriteCoalescedBytesMax,
    });
    worker.on('message', (reply: WriteReply) => {
      if (reply.kind === 'written') this.#onWritten(reply.id, reply.error);
    });
    worker.on('error', (error) => this.#fail(new Error(`the RocksDB write thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', this.#onExit);
    worker.unref();
  }

  readonly #onExit = (code: number): void => this.#fail(new Error(`the RocksDB write thread exited (code ${code})`));

  /** Starts the thread and waits until it is attached to the database behind `handle`. */
  static async start(handle: bigint, syncBarrierColumn: string): Promise<RocksDbWorkerWriter> {
    const entry = writeWorkerEntry();
    const workerData: WriteWorkerData = { handle, syncBarrierColumn };
    const worker = new Worker(entry.script, { workerData, eval: entry.eval });
    try {
      await untilReady(worker);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    return new RocksDbWorkerWriter(worker);
  }

  write(operations: readonly KeyValueOperation[], options: WriteOptions): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closing !== undefined) return Promise.reject(new Error('the RocksDB store is closed'));
    if (operations.length === 0 && !options.sync) return Promise.resolve();
    if (this.#coalescer.pendingCount >= workerWriteQueueBatchesMax) {
      return Promise.reject(new Error(`the RocksDB write queue is full (${workerWriteQueueBatchesMax} writes waiting)`));
    }
    return this.#coalescer.write({ batch: packWriteBatch(operations), sync: options.sync });
  }

  /** Waits for every accepted write to be answered, then terminates the thread. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#coalescer.idle) await new Promise<void>((resolveDrained) => (this.#drained = resolveDrained));
      this.#worker.off('exit', this.#onExit);
      await this.#worker.terminate();
    })();
    return this.#closing;
  }

  #post(request: CoalescedRequest): void {
    const id = this.#nextId++;
    this.#inFlightId = id;
    this.#worker.ref();
    this.#worker.postMessage({ id, ...request } satisfies WriteRequest, request.writes.flatMap((write) => [write.packed, ...write.values]));
  }

  #onWritten(id: number, failure: WriteFailure | undefined): void {
    if (this.#inFlightId === undefined) return;
    assert.equal(id, this.#inFlightId, `the write thread answered request ${id}, but ${this.#inFlightId} is in flight`);
    this.#inFlightId = undefined;
    this.#coalescer.answered(failure === undefined ? undefined : failureError(failure));
    if (!this.#coalescer.idle) return;
    this.#worker.unref();
    this.#drained?.();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#inFlightId = undefined;
    this.#coalescer.failAll(error);
    this.#drained?.();
  }
}

/** Resolves once the thread says it is attached; rejects if it fails or exits first. */
async function untilReady(worker: Worker): Promise<void> {
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
  } finally {
    // Only ours: Worker keeps listeners of its own (they ref its port while 'message' has some).
    if (listeners.message !== undefined) worker.off('message', listeners.message);
    if (listeners.error !== undefined) worker.off('error', listeners.error);
    if (listeners.exit !== undefined) worker.off('exit', listeners.exit);
  }
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

function failureError(failure: WriteFailure): Error {
  const error = new Error(failure.message, failure.causeMessage === undefined ? undefined : { cause: new Error(failure.causeMessage) });
  error.name = failure.name;
  if (failure.code !== undefined) Object.assign(error, { code: failure.code });
  return error;
}
