// Both KeyValueStore engines behind one handle, so every store test runs on each: memory (where a
// reopen is a simulated power loss) and RocksDB in a temporary directory (where a reopen is close
// and open again, on the main-thread writer). Writers are a plain adapter writing with sync: true,
// as GroupCommitWriter would for one caller.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TributaryError } from '../../src/errors/index.js';
import type { KeyValueOperation, KeyValueStore } from '../../src/storage/key-value-store.js';
import { MemoryKeyValueStore } from '../../src/storage/memory/memory-key-value-store.js';
import { openRocksDbKeyValueStore } from '../../src/storage/rocksdb/rocksdb-key-value-store.js';
import type { StorageWriter } from '../../src/storage/storage-writer.js';

export interface EngineHandle {
  readonly engine: KeyValueStore;
  readonly writer: StorageWriter;
  /** The engine as it is after a restart: every synced write kept. The old handle is unusable. */
  reopen(): Promise<EngineHandle>;
  /** Closes the engine and removes what it stored. */
  dispose(): Promise<void>;
}

export interface EngineKind {
  readonly name: 'memory' | 'rocksdb';
  open(): Promise<EngineHandle>;
}

export function syncedWriter(engine: KeyValueStore): StorageWriter {
  return { write: (operations: readonly KeyValueOperation[]) => engine.write(operations, { sync: true }) };
}

function memoryHandle(engine: MemoryKeyValueStore): EngineHandle {
  return {
    engine,
    writer: syncedWriter(engine),
    reopen: () => Promise.resolve(memoryHandle(engine.crash())),
    dispose: () => engine.close(),
  };
}

async function rocksDbHandle(directory: string): Promise<EngineHandle> {
  // The main-thread writer, not the default worker: stores see the same KeyValueStore contract on
  // both (key-value-store.test.ts runs it on each), and model tests reopen the engine hundreds of
  // times, where starting a worker under tsx (about 0.5 s on a loaded machine) would dominate.
  const engine = await openRocksDbKeyValueStore(directory, { writeThread: 'main' });
  return {
    engine,
    writer: syncedWriter(engine),
    reopen: async () => {
      await engine.close();
      return rocksDbHandle(directory);
    },
    dispose: async () => {
      await engine.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export const engineKinds: readonly EngineKind[] = [
  { name: 'memory', open: () => Promise.resolve(memoryHandle(new MemoryKeyValueStore())) },
  { name: 'rocksdb', open: async () => rocksDbHandle(await mkdtemp(join(tmpdir(), 'tributary-storage-test-'))) },
];

/** Replaces the stored value at `key` with a copy whose byte at `position` is flipped, as bit rot would. */
export async function flipStoredByte(engine: KeyValueStore, key: Uint8Array, position: number): Promise<void> {
  const stored = await engine.get(key);
  if (stored === undefined) throw new Error('no stored value to corrupt');
  const corrupted = Uint8Array.from(stored);
  corrupted[position % corrupted.length] = (corrupted[position % corrupted.length] ?? 0) ^ 0xff;
  await engine.write([{ type: 'put', key, value: corrupted }], { sync: true });
}

/** The code and message of the TributaryError `action` rejects with, to match in one expect. */
export async function failureOf(action: () => Promise<unknown>): Promise<string> {
  const error = await rejectionOf(action);
  if (!(error instanceof TributaryError)) throw error;
  return `${error.code}: ${error.message}`;
}

/** Runs `action` and returns what it threw; fails when it did not throw. */
export async function rejectionOf(action: () => Promise<unknown>): Promise<Error> {
  try {
    await action();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}
