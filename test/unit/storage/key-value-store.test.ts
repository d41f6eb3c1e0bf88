// One contract suite for both KeyValueStore engines (RocksDB in a temporary directory, memory),
// then what only one of them promises: the memory engine's power-loss model and RocksDB's errors.
// A fast-check model test drives random put / del / batch / range / get sequences on both engines
// against a plain Map.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyRange, KeyValueOperation, KeyValueStore } from '../../../src/storage/key-value-store.js';
import { MemoryKeyValueStore } from '../../../src/storage/memory/memory-key-value-store.js';
import { openRocksDbKeyValueStore } from '../../../src/storage/rocksdb/rocksdb-key-value-store.js';
import { handOverValueBytesMin } from '../../../src/storage/rocksdb/packed-write-batch.js';
import { workerWriteQueueBatchesMax } from '../../../src/storage/rocksdb/rocksdb-worker-writer.js';

interface OpenedEngine {
  readonly store: KeyValueStore;
  /** The store after a restart that keeps every synced write; the old one is unusable. */
  reopen(): Promise<OpenedEngine>;
  dispose(): Promise<void>;
}

interface EngineKind {
  readonly name: 'memory' | 'rocksdb' | 'rocksdb (write thread: worker)';
  open(): Promise<OpenedEngine>;
}

function memoryEngine(store: MemoryKeyValueStore): OpenedEngine {
  return { store, reopen: () => Promise.resolve(memoryEngine(store.crash())), dispose: () => store.close() };
}

async function rocksDbEngine(directory: string, writeThread: 'main' | 'worker'): Promise<OpenedEngine> {
  const store = await openRocksDbKeyValueStore(directory, { writeThread });
  return {
    store,
    reopen: async () => {
      await store.close();
      return rocksDbEngine(directory, writeThread);
    },
    dispose: async () => {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

const engineKinds: readonly EngineKind[] = [
  { name: 'memory', open: () => Promise.resolve(memoryEngine(new MemoryKeyValueStore())) },
  { name: 'rocksdb', open: async () => rocksDbEngine(await mkdtemp(join(tmpdir(), 'tributary-kv-test-')), 'main') },
  { name: 'rocksdb (write thread: worker)', open: async () => rocksDbEngine(await mkdtemp(join(tmpdir(), 'tributary-kv-test-')), 'worker') },
];

const unclosedChildScript = fileURLToPath(new URL('../../support/storage-unclosed-child.ts', import.meta.url));
/** Far above the child's start-up (tsx compiling, the write thread starting) on a loaded machine. */
const unclosedChildTimeoutMs = 20_000;

const bytes = (...values: number[]) => Uint8Array.from(values);
const text = (value: string) => new TextEncoder().encode(value);
const put = (key: Uint8Array, value: Uint8Array): KeyValueOperation => ({ type: 'put', key, value });
const del = (key: Uint8Array): KeyValueOperation => ({ type: 'del', key });
const everything = { gte: bytes(), lt: bytes(0xff, 0xff, 0xff, 0xff) } as const;
const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');

async function keysIn(store: KeyValueStore, range: KeyRange): Promise<string[]> {
  const keys: string[] = [];
  for await (const [key] of store.range(range)) keys.push(hex(key));
  return keys;
}

async function entriesIn(store: KeyValueStore, range: KeyRange = everything): Promise<Array<[string, string]>> {
  const entries: Array<[string, string]> = [];
  for await (const [key, value] of store.range(range)) entries.push([hex(key), hex(value)]);
  return entries;
}

describe.each(engineKinds.map((kind) => [kind.name, kind] as const))('KeyValueStore contract on %s', (_name, kind) => {
  let opened: OpenedEngine | undefined;
  const open = async () => (opened = await kind.open());
  const reopen = async (engine: OpenedEngine) => (opened = await engine.reopen());
  afterEach(async () => {
    await opened?.dispose();
    opened = undefined;
  });

  it('gets what was put, nothing after a del, the latest of two puts', async () => {
    const { store } = await open();
    expect(await store.get(text('a'))).toBeUndefined();
    await store.write([put(text('a'), text('one'))], { sync: false });
    expect(await store.get(text('a'))).toEqual(text('one'));
    await store.write([put(text('a'), text('two'))], { sync: true });
    expect(await store.get(text('a'))).toEqual(text('two'));
    await store.write([del(text('a'))], { sync: true });
    expect(await store.get(text('a'))).toBeUndefined();
  });

  it('keeps empty keys and empty values apart from absent ones', async () => {
    const { store } = await open();
    await store.write([put(bytes(), bytes()), put(bytes(0), bytes())], { sync: true });
    expect(await store.get(bytes())).toEqual(bytes());
    expect(await store.get(bytes(0))).toEqual(bytes());
    expect(await keysIn(store, everything)).toEqual(['', '00']);
  });

  it('hands out copies and keeps its own copies of what it was given', async () => {
    const { store } = await open();
    const key = text('k');
    const value = bytes(1, 2, 3);
    await store.write([put(key, value)], { sync: true });
    value[0] = 9;
    key[0] = 0;
    const read = await store.get(text('k'));
    expect(read).toEqual(bytes(1, 2, 3));
    read?.fill(7);
    for await (const [rangeKey, rangeValue] of store.range(everything)) {
      rangeKey.fill(0);
      rangeValue.fill(0);
    }
    expect(await entriesIn(store)).toEqual([['6b', '010203']]);
  });

  it('stores a large value handed over intact beside copied ones, in one atomic write', async () => {
    const { store } = await open();
    const large = new Uint8Array(handOverValueBytesMin + 3).map((_, index) => index % 251);
    const expected = Buffer.from(large).toString('hex');
    await store.write([{ type: 'put', key: text('a'), value: large, handOver: true }, put(text('b'), bytes(4, 5))], { sync: true });
    expect(Buffer.from((await store.get(text('a'))) ?? []).toString('hex')).toBe(expected);
    expect(await store.get(text('b'))).toEqual(bytes(4, 5));
  });

  describe('range', () => {
    // Bytewise order: a prefix sorts before its extensions, 0xff after everything below it.
    const keys = [bytes(2), bytes(1, 2, 3), bytes(0xff), bytes(1), bytes(0), bytes(1, 0), bytes(0xfe, 0xff)];
    const sorted = ['00', '01', '0100', '010203', '02', 'feff', 'ff'];
    const fill = async (store: KeyValueStore) => store.write(keys.map((key) => put(key, key)), { sync: true });

    it('yields keys in bytewise order, values with them', async () => {
      const { store } = await open();
      await fill(store);
      expect(await keysIn(store, everything)).toEqual(sorted);
      expect((await entriesIn(store)).every(([key, value]) => key === value)).toBe(true);
    });

    it('includes gte and excludes lt', async () => {
      const { store } = await open();
      await fill(store);
      expect(await keysIn(store, { gte: bytes(1), lt: bytes(2) })).toEqual(['01', '0100', '010203']);
      expect(await keysIn(store, { gte: bytes(1, 0), lt: bytes(0xfe, 0xff) })).toEqual(['0100', '010203', '02']);
      expect(await keysIn(store, { gte: bytes(0, 5), lt: bytes(1, 1) })).toEqual(['01', '0100']);
    });

    it('runs backwards with reverse, within the same bounds', async () => {
      const { store } = await open();
      await fill(store);
      expect(await keysIn(store, { ...everything, reverse: true })).toEqual([...sorted].reverse());
      expect(await keysIn(store, { gte: bytes(1), lt: bytes(2), reverse: true })).toEqual(['010203', '0100', '01']);
    });

    it('stops at limit, from whichever end it starts', async () => {
      const { store } = await open();
      await fill(store);
      expect(await keysIn(store, { ...everything, limit: 2 })).toEqual(['00', '01']);
      expect(await keysIn(store, { ...everything, limit: 2, reverse: true })).toEqual(['ff', 'feff']);
      expect(await keysIn(store, { ...everything, limit: 0 })).toEqual([]);
      expect(await keysIn(store, { ...everything, limit: 100 })).toEqual(sorted);
    });

    it('is empty when gte is not below lt, and refuses a bad limit', async () => {
      const { store } = await open();
      await fill(store);
      expect(await keysIn(store, { gte: bytes(2), lt: bytes(2) })).toEqual([]);
      expect(await keysIn(store, { gte: bytes(2), lt: bytes(1) })).toEqual([]);
      await expect(keysIn(store, { ...everything, limit: -1 })).rejects.toThrow(/limit must be a non-negative integer, got -1/);
      await expect(keysIn(store, { ...everything, limit: 1.5 })).rejects.toThrow(/got 1.5/);
    });

    it('crosses chunk boundaries and can be left early', async () => {
      const { store } = await open();
      const many = Array.from({ length: 1_000 }, (_, index) => bytes(index >> 8, index & 0xff));
      await store.write(many.map((key) => put(key, key)), { sync: true });
      const forward = await keysIn(store, everything);
      expect(forward).toEqual(many.map(hex));
      expect(await keysIn(store, { ...everything, reverse: true, limit: 600 })).toEqual(many.map(hex).reverse().slice(0, 600));
      for await (const [key] of store.range(everything)) {
        if (key[1] === 3) break;
      }
      expect(await store.get(bytes(0, 3))).toEqual(bytes(0, 3));
    });
  });

  it('applies a batch in order: the last operation on a key wins', async () => {
    const { store } = await open();
    await store.write([put(text('a'), text('1')), put(text('a'), text('2')), put(text('b'), text('1')), del(text('b')), del(text('c')), put(text('c'), text('3'))], {
      sync: true,
    });
    expect(await entriesIn(store)).toEqual([
      [hex(text('a')), hex(text('2'))],
      [hex(text('c')), hex(text('3'))],
    ]);
  });

  it('applies writes in call order even before their promises settle', async () => {
    const { store } = await open();
    const first = store.write([put(text('k'), text('first'))], { sync: true });
    const second = store.write([put(text('k'), text('second'))], { sync: false });
    await Promise.all([first, second]);
    expect(await store.get(text('k'))).toEqual(text('second'));
  });

  it('keeps synced writes across a restart', async () => {
    const engine = await open();
    await engine.store.write([put(text('a'), text('1')), put(text('b'), text('2'))], { sync: true });
    await engine.store.write([del(text('a')), put(text('c'), text('3'))], { sync: true });
    const { store } = await reopen(engine);
    expect(await entriesIn(store)).toEqual([
      [hex(text('b')), hex(text('2'))],
      [hex(text('c')), hex(text('3'))],
    ]);
  });

  it('keeps an unsynced write once a later empty synced write covers it', async () => {
    const engine = await open();
    await engine.store.write([put(text('a'), text('1'))], { sync: false });
    await engine.store.write([], { sync: true });
    const { store } = await reopen(engine);
    expect(await entriesIn(store)).toEqual([[hex(text('a')), hex(text('1'))]]);
  });
});

describe('MemoryKeyValueStore crash', () => {
  const batchOf = (index: number) => [put(bytes(index), bytes(index)), put(bytes(0xf0), bytes(index)), del(bytes(index - 1))];

  it('drops every unsynced write by default and keeps the synced ones', async () => {
    const store = new MemoryKeyValueStore();
    await store.write([put(text('synced'), text('1'))], { sync: true });
    await store.write([put(text('lost'), text('2')), put(text('synced'), text('changed'))], { sync: false });
    expect(store.unsyncedBatchCount).toBe(1);
    const survivor = store.crash();
    expect(await entriesIn(survivor)).toEqual([[hex(text('synced')), hex(text('1'))]]);
    expect(survivor.unsyncedBatchCount).toBe(0);
  });

  it('makes everything before a synced write durable with it', async () => {
    const store = new MemoryKeyValueStore();
    await store.write([put(text('a'), text('1'))], { sync: false });
    await store.write([put(text('b'), text('2'))], { sync: false });
    await store.write([put(text('c'), text('3'))], { sync: true });
    expect(store.unsyncedBatchCount).toBe(0);
    expect(await keysIn(store.crash(), everything)).toEqual(['61', '62', '63']);
  });

  it('keeps exactly the prefix of unsynced batches the chooser picks, each whole', async () => {
    const batches = [1, 2, 3, 4, 5].map(batchOf);
    for (let kept = 0; kept <= batches.length; kept++) {
      const store = new MemoryKeyValueStore();
      const expected = new MemoryKeyValueStore();
      await store.write([put(bytes(0), bytes(0))], { sync: true });
      await expected.write([put(bytes(0), bytes(0))], { sync: true });
      for (const batch of batches) await store.write(batch, { sync: false });
      for (const batch of batches.slice(0, kept)) await expected.write(batch, { sync: true });
      let offered = -1;
      const survivor = store.crash((unsyncedBatchCount) => {
        offered = unsyncedBatchCount;
        return kept;
      });
      expect(offered).toBe(batches.length);
      expect(await entriesIn(survivor)).toEqual(await entriesIn(expected));
    }
  });

  it('refuses a chooser outside 0..unsynced and every call on the crashed store', async () => {
    const store = new MemoryKeyValueStore();
    await store.write([put(bytes(1), bytes(1))], { sync: false });
    expect(() => store.crash(() => 2)).toThrow('a crash keeps 0 to 1 unsynced batches, the chooser said 2');
    store.crash();
    await expect(store.get(bytes(1))).rejects.toThrow('memory key-value store is crashed');
    await expect(store.write([], { sync: true })).rejects.toThrow('crashed');
    expect(() => store.crash()).toThrow('crashed');
  });

  it('lets the oldest unsynced batch reach the disk past unsyncedBatchesMax', async () => {
    const store = new MemoryKeyValueStore({ unsyncedBatchesMax: 2 });
    for (const index of [1, 2, 3]) await store.write([put(bytes(index), bytes(index))], { sync: false });
    expect(store.unsyncedBatchCount).toBe(2);
    expect(await keysIn(store.crash(), everything)).toEqual(['01']);
  });

  it('never tears a batch, for any sync pattern and kept prefix (model)', async () => {
    const scenario = fc.record({
      batches: fc.array(fc.record({ operations: fc.array(operationArbitrary, { maxLength: 5 }), sync: fc.boolean() }), { maxLength: 12 }),
      keepFraction: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ batches, keepFraction }) => {
        const store = new MemoryKeyValueStore();
        for (const batch of batches) await store.write(batch.operations, { sync: batch.sync });
        const lastSynced = batches.findLastIndex((batch) => batch.sync);
        const unsynced = batches.slice(lastSynced + 1).filter((batch) => batch.operations.length > 0);
        const kept = Math.floor(keepFraction * (unsynced.length + 1));
        const survivor = store.crash(() => kept);
        const model = new Map<string, Uint8Array>();
        for (const batch of [...batches.slice(0, lastSynced + 1), ...unsynced.slice(0, kept)]) applyToModel(model, batch.operations);
        expect(await entriesIn(survivor)).toEqual(modelEntries(model, everything));
      }),
      { numRuns: 200 },
    );
  });
});

describe('openRocksDbKeyValueStore', () => {
  let directory: string;
  afterEach(async () => rm(directory, { recursive: true, force: true }));

  it('creates a missing directory, nested', async () => {
    directory = await mkdtemp(join(tmpdir(), 'tributary-kv-open-'));
    const store = await openRocksDbKeyValueStore(join(directory, 'a', 'b'));
    await store.write([put(bytes(1), bytes(2))], { sync: true });
    await store.close();
  });

  it('names the directory and the holder when the database is locked', async () => {
    directory = await mkdtemp(join(tmpdir(), 'tributary-kv-open-'));
    const store = await openRocksDbKeyValueStore(directory);
    try {
      const failure = openRocksDbKeyValueStore(directory);
      await expect(failure).rejects.toThrow(`cannot open the RocksDB database in "${directory}"`);
      await expect(failure).rejects.toThrow(/another process .* holds this database/);
    } finally {
      await store.close();
    }
  });

  it('names the directory when it is missing and may not be created, or is a file', async () => {
    directory = await mkdtemp(join(tmpdir(), 'tributary-kv-open-'));
    const missing = join(directory, 'missing');
    await expect(openRocksDbKeyValueStore(missing, { createIfMissing: false })).rejects.toThrow(`cannot open the RocksDB database in "${missing}"`);
    const file = join(directory, 'file');
    await writeFile(file, 'not a directory');
    await expect(openRocksDbKeyValueStore(file)).rejects.toThrow(`cannot create the RocksDB directory "${file}"`);
  });

  it('with a write thread, rejects a write past the queue bound and keeps the ones before it', async () => {
    directory = await mkdtemp(join(tmpdir(), 'tributary-kv-open-'));
    const store = await openRocksDbKeyValueStore(directory, { writeThread: 'worker' });
    const accepted = Array.from({ length: workerWriteQueueBatchesMax }, (_, index) =>
      store.write([put(text(`k${index}`), bytes(1))], { sync: false }),
    );
    await expect(store.write([put(text('over'), bytes(1))], { sync: false })).rejects.toThrow(/write queue is full/);
    const closed = store.close();
    await Promise.all(accepted);
    await closed;
    const reopened = await openRocksDbKeyValueStore(directory);
    expect(await keysIn(reopened, everything)).toHaveLength(workerWriteQueueBatchesMax);
    await reopened.close();
  });

  it('with a write thread, lets the process exit when a store is left open and idle', async () => {
    directory = await mkdtemp(join(tmpdir(), 'tributary-kv-open-'));
    const child = spawn(process.execPath, ['--import', 'tsx', unclosedChildScript, directory], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), unclosedChildTimeoutMs);
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    clearTimeout(timer);
    expect({ code, signal, output: output.trim() }).toEqual({ code: 0, signal: null, output: 'written' });
    const reopened = await openRocksDbKeyValueStore(directory);
    expect(await reopened.get(bytes(1))).toEqual(bytes(2));
    await reopened.close();
  }, 30_000);

  it.each(['main', 'worker'] as const)('names the directory when a write fails (write thread: %s)', async (writeThread) => {
    directory = await mkdtemp(join(tmpdir(), 'tributary-kv-open-'));
    const store = await openRocksDbKeyValueStore(directory, { writeThread });
    await store.close();
    await expect(store.write([put(bytes(1), bytes(2))], { sync: true })).rejects.toThrow(`cannot write to the RocksDB database in "${directory}": `);
  });

  it('keeps its sync barriers out of the keyspace', async () => {
    directory = await mkdtemp(join(tmpdir(), 'tributary-kv-open-'));
    const store = await openRocksDbKeyValueStore(directory);
    await store.write([], { sync: true });
    expect(await entriesIn(store)).toEqual([]);
    expect(await store.get(bytes())).toBeUndefined();
    await store.close();
  });
});

// The model test: a small key alphabet so operations collide, ranges with random bounds.
const keyArbitrary = fc.uint8Array({ minLength: 0, maxLength: 2, max: 3 });
const operationArbitrary: fc.Arbitrary<KeyValueOperation> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key: keyArbitrary, value: fc.uint8Array({ maxLength: 4 }) }),
  fc.record({ type: fc.constant('del' as const), key: keyArbitrary }),
);
const commandArbitrary = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('write' as const), operations: fc.array(operationArbitrary, { maxLength: 6 }), sync: fc.boolean() }) },
  fc.record({ kind: fc.constant('get' as const), key: keyArbitrary }),
  fc.record({
    kind: fc.constant('range' as const),
    gte: keyArbitrary,
    lt: keyArbitrary,
    reverse: fc.boolean(),
    limit: fc.option(fc.nat({ max: 8 }), { nil: undefined }),
  }),
);

function applyToModel(model: Map<string, Uint8Array>, operations: readonly KeyValueOperation[]): void {
  for (const operation of operations) {
    if (operation.type === 'put') model.set(hex(operation.key), Uint8Array.from(operation.value));
    else model.delete(hex(operation.key));
  }
}

function modelEntries(model: ReadonlyMap<string, Uint8Array>, range: KeyRange): Array<[string, string]> {
  const inRange = (key: string) => Buffer.compare(Buffer.from(key, 'hex'), range.gte) >= 0 && Buffer.compare(Buffer.from(key, 'hex'), range.lt) < 0;
  const keys = [...model.keys()].filter(inRange).sort((left, right) => Buffer.compare(Buffer.from(left, 'hex'), Buffer.from(right, 'hex')));
  if (range.reverse === true) keys.reverse();
  return keys.slice(0, range.limit ?? keys.length).map((key) => [key, hex(model.get(key) ?? bytes())]);
}

const modelRunsByEngine: Readonly<Record<EngineKind['name'], number>> = { memory: 300, rocksdb: 40, 'rocksdb (write thread: worker)': 20 };

describe.each(engineKinds.map((kind) => [kind.name, kind] as const))('KeyValueStore model test on %s', (_name, kind) => {
  it('agrees with a Map on random put / del / batch / get / range sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArbitrary, { maxLength: 25 }), async (commands) => {
        const engine = await kind.open();
        try {
          const model = new Map<string, Uint8Array>();
          for (const command of commands) {
            if (command.kind === 'write') {
              await engine.store.write(command.operations, { sync: command.sync });
              applyToModel(model, command.operations);
            } else if (command.kind === 'get') {
              const value = await engine.store.get(command.key);
              expect(value === undefined ? undefined : hex(value)).toEqual(model.has(hex(command.key)) ? hex(model.get(hex(command.key)) ?? bytes()) : undefined);
            } else {
              expect(await entriesIn(engine.store, command)).toEqual(modelEntries(model, command));
            }
          }
          expect(await entriesIn(engine.store)).toEqual(modelEntries(model, everything));
        } finally {
          await engine.dispose();
        }
      }),
      // Each RocksDB run opens a database; with a write thread it also starts a worker (about 0.5 s
      // under load, tsx compiling in the thread), so that engine gets fewer runs and more time.
      { numRuns: modelRunsByEngine[kind.name] },
    );
  }, 60_000);
});
