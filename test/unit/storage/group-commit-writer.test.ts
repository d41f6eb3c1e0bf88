// GroupCommitWriter over a recording store (a memory store whose writes are counted and can be
// held open): concurrent callers share one write, promises settle only after the covering write,
// the byte bounds and the linger hold, a failed flush fails exactly its callers and stops the writer,
// and operations reach the store in call order.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import { GroupCommitWriter } from '../../../src/storage/group-commit-writer.js';
import type { KeyRange, KeyValueOperation, KeyValueStore, WriteOptions } from '../../../src/storage/key-value-store.js';
import { MemoryKeyValueStore } from '../../../src/storage/memory/memory-key-value-store.js';

interface RecordedWrite {
  readonly operations: readonly KeyValueOperation[];
  readonly sync: boolean;
}

/** Records every store.write; while `holding`, each write waits until `release()`. */
class RecordingStore implements KeyValueStore {
  readonly inner = new MemoryKeyValueStore();
  readonly location = this.inner.location;
  readonly writes: RecordedWrite[] = [];
  holding = false;
  /** Makes the write with this index (0-based) fail with `failure`. */
  failAt: { readonly index: number; readonly failure: Error } | undefined;
  #held: Array<() => void> = [];

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  range(range: KeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    return this.inner.range(range);
  }

  async write(operations: readonly KeyValueOperation[], options: WriteOptions): Promise<void> {
    const index = this.writes.length;
    this.writes.push({ operations, sync: options.sync });
    if (this.holding) await new Promise<void>((resolve) => this.#held.push(resolve));
    if (this.failAt?.index === index) throw this.failAt.failure;
    await this.inner.write(operations, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Lets every held write finish. */
  release(): void {
    const held = this.#held;
    this.#held = [];
    for (const resolve of held) resolve();
  }

  get heldWrites(): number {
    return this.#held.length;
  }
}

const keyOf = (index: number) => Uint8Array.of(index >> 8, index & 0xff);
const putOf = (index: number, valueBytes = 0): KeyValueOperation => ({ type: 'put', key: keyOf(index), value: new Uint8Array(valueBytes) });
/** Bytes the writer counts for putOf(index, valueBytes): 8 overhead + 2 key bytes + the value. */
const countedBytes = (valueBytes: number) => 10 + valueBytes;
const indexOf = (operation: KeyValueOperation) => ((operation.key[0] ?? 0) << 8) | (operation.key[1] ?? 0);

/** Lets setImmediate callbacks and promise continuations run until the writer has settled. */
async function nextTurns(turns = 5): Promise<void> {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** Tracks which of `promises` have settled, and how. */
function track(promises: ReadonlyArray<Promise<void>>): Array<'pending' | 'resolved' | Error> {
  const states: Array<'pending' | 'resolved' | Error> = promises.map(() => 'pending');
  promises.forEach((promise, index) => {
    promise.then(
      () => (states[index] = 'resolved'),
      (error: unknown) => (states[index] = error instanceof Error ? error : new Error(String(error))),
    );
  });
  return states;
}

describe('GroupCommitWriter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gathers concurrent callers into one synced store write, in call order', async () => {
    const store = new RecordingStore();
    const writer = new GroupCommitWriter(store, { durability: 'fsync' });
    await Promise.all(Array.from({ length: 100 }, (_, index) => writer.write([putOf(index)])));
    expect(store.writes).toHaveLength(1);
    expect(store.writes[0]?.sync).toBe(true);
    expect(store.writes[0]?.operations.map(indexOf)).toEqual(Array.from({ length: 100 }, (_, index) => index));
  });

  it('writes without sync under durability none', async () => {
    const store = new RecordingStore();
    const writer = new GroupCommitWriter(store, { durability: 'none' });
    await Promise.all([writer.write([putOf(1)]), writer.write([putOf(2)])]);
    expect(store.writes).toEqual([{ operations: [putOf(1), putOf(2)], sync: false }]);
  });

  it('settles each caller only after the write that covers it; later callers queue for the next', async () => {
    const store = new RecordingStore();
    store.holding = true;
    const writer = new GroupCommitWriter(store, { durability: 'fsync' });
    const first = [writer.write([putOf(1)]), writer.write([putOf(2)])];
    await nextTurns();
    expect(store.heldWrites).toBe(1);
    const second = [writer.write([putOf(3)]), writer.write([putOf(4)]), writer.write([putOf(5)])];
    const states = track([...first, ...second]);
    await nextTurns();
    expect(states).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    expect(store.writes).toHaveLength(1);
    store.release();
    await nextTurns();
    expect(states).toEqual(['resolved', 'resolved', 'pending', 'pending', 'pending']);
    expect(store.writes.map((write) => write.operations.map(indexOf))).toEqual([[1, 2], [3, 4, 5]]);
    store.release();
    await Promise.all(second);
    expect(await store.inner.get(keyOf(5))).toEqual(new Uint8Array(0));
  });

  it('grows batches with load: a loop of writers shares each flush', async () => {
    const store = new RecordingStore();
    const writer = new GroupCommitWriter(store, { durability: 'fsync' });
    const writersCount = 32;
    const writesPerWriter = 20;
    const loop = async (id: number) => {
      for (let sequence = 0; sequence < writesPerWriter; sequence++) await writer.write([putOf(id * writesPerWriter + sequence)]);
    };
    await Promise.all(Array.from({ length: writersCount }, (_, id) => loop(id)));
    expect(store.writes).toHaveLength(writesPerWriter);
    expect(store.writes.every((write) => write.operations.length === writersCount)).toBe(true);
  });

  it('never lets a flush exceed batchBytesMax, except a single caller larger than it, alone', async () => {
    const store = new RecordingStore();
    const batchBytesMax = 4 * countedBytes(100);
    const writer = new GroupCommitWriter(store, { durability: 'fsync', batchBytesMax });
    const sizes = [100, 100, 100, 100, 100, 1_000, 100, 100, 50, 50, 100];
    await Promise.all(sizes.map((valueBytes, index) => writer.write([putOf(index, valueBytes)])));
    const flushed = store.writes.map((write) => write.operations.map(indexOf));
    expect(flushed).toEqual([[0, 1, 2, 3], [4], [5], [6, 7, 8, 9], [10]]);
    for (const write of store.writes) {
      const bytes = write.operations.reduce((total, operation) => total + countedBytes(operation.type === 'put' ? operation.value.byteLength : 0), 0);
      expect(bytes <= batchBytesMax || write.operations.length === 1).toBe(true);
    }
  });

  it('holds callers beyond pendingBytesMax back, in order, until a flush makes room', async () => {
    const store = new RecordingStore();
    store.holding = true;
    const pendingBytesMax = 3 * countedBytes(100);
    const writer = new GroupCommitWriter(store, { durability: 'fsync', pendingBytesMax });
    const inFlight = writer.write([putOf(0, 100)]);
    await nextTurns();
    const queued = Array.from({ length: 8 }, (_, index) => writer.write([putOf(index + 1, 100)]));
    await nextTurns();
    store.holding = false;
    store.release();
    await Promise.all([inFlight, ...queued]);
    // Only pendingBytesMax worth could queue behind the held flush; the rest waited, in order.
    expect(store.writes.map((write) => write.operations.map(indexOf))).toEqual([[0], [1, 2, 3], [4, 5, 6], [7, 8]]);
  });

  it('lets a single caller larger than pendingBytesMax through when nothing else is queued', async () => {
    const store = new RecordingStore();
    const writer = new GroupCommitWriter(store, { durability: 'fsync', pendingBytesMax: 100, batchBytesMax: 100 });
    await Promise.all([writer.write([putOf(1, 500)]), writer.write([putOf(2, 500)])]);
    expect(store.writes.map((write) => write.operations.map(indexOf))).toEqual([[1], [2]]);
  });

  it('lingers lingerMs after the first caller of an idle writer, and cuts it short when the batch is full', async () => {
    vi.useFakeTimers();
    const store = new RecordingStore();
    const writer = new GroupCommitWriter(store, { durability: 'fsync', lingerMs: 10, batchBytesMax: 3 * countedBytes(0) });
    const early = writer.write([putOf(1)]);
    await vi.advanceTimersByTimeAsync(6);
    const late = writer.write([putOf(2)]);
    await vi.advanceTimersByTimeAsync(3);
    expect(store.writes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([early, late]);
    expect(store.writes.map((write) => write.operations.map(indexOf))).toEqual([[1, 2]]);
    const full = [writer.write([putOf(3)]), writer.write([putOf(4)]), writer.write([putOf(5)])];
    await vi.advanceTimersByTimeAsync(0);
    await Promise.all(full);
    expect(store.writes).toHaveLength(2);
  });

  it('rejects exactly the callers of a failed flush with its error, then refuses every later write', async () => {
    const store = new RecordingStore();
    const failure = new Error('disk on fire');
    store.failAt = { index: 1, failure };
    store.holding = true;
    const writer = new GroupCommitWriter(store, { durability: 'fsync' });
    const first = [writer.write([putOf(1)])];
    await nextTurns();
    const second = [writer.write([putOf(2)]), writer.write([putOf(3)])];
    const states = track(first);
    const secondStates = track(second);
    store.release();
    await nextTurns();
    const third = [writer.write([putOf(4)])];
    const thirdStates = track(third);
    store.release();
    await nextTurns();
    expect(states).toEqual(['resolved']);
    expect(secondStates).toEqual([failure, failure]);
    expect(store.writes).toHaveLength(2);
    const refusal = thirdStates[0];
    expect(refusal).toBeInstanceOf(TributaryError);
    expect(refusal).toMatchObject({ code: 'NOT_AVAILABLE', cause: failure, message: expect.stringContaining('disk on fire') as unknown });
    await expect(writer.write([putOf(5)])).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
    await writer.close();
    expect(await store.inner.get(keyOf(2))).toBeUndefined();
  });

  it('resolves an empty write as a barrier behind everything before it', async () => {
    const store = new RecordingStore();
    const writer = new GroupCommitWriter(store, { durability: 'fsync' });
    const states = track([writer.write([putOf(1)]), writer.write([])]);
    await nextTurns();
    expect(states).toEqual(['resolved', 'resolved']);
    expect(store.writes).toEqual([{ operations: [putOf(1)], sync: true }]);
  });

  it('keeps call order across many flushes, so the store ends as sequential writes leave it', async () => {
    const store = new RecordingStore();
    const writer = new GroupCommitWriter(store, { durability: 'fsync', batchBytesMax: 5 * countedBytes(1) });
    const expected = new MemoryKeyValueStore();
    const writes: Array<Promise<void>> = [];
    for (let index = 0; index < 200; index++) {
      const operations: KeyValueOperation[] = [{ type: 'put', key: keyOf(index % 7), value: Uint8Array.of(index & 0xff) }];
      if (index % 5 === 0) operations.push({ type: 'del', key: keyOf((index + 3) % 7) });
      writes.push(writer.write(operations));
      await expected.write(operations, { sync: true });
      if (index % 17 === 0) await nextTurns(1);
    }
    await Promise.all(writes);
    expect(store.writes.length).toBeGreaterThan(1);
    for (let key = 0; key < 7; key++) expect(await store.inner.get(keyOf(key))).toEqual(await expected.get(keyOf(key)));
  });

  it('flushes everything accepted on close, also a lingering flush, then refuses writes', async () => {
    const store = new RecordingStore();
    const writer = new GroupCommitWriter(store, { durability: 'fsync', lingerMs: 1_000 });
    const accepted = [writer.write([putOf(1)]), writer.write([putOf(2)])];
    await writer.close();
    await Promise.all(accepted);
    expect(store.writes).toHaveLength(1);
    await expect(writer.write([putOf(3)])).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    await writer.close();
  });

  it('refuses bounds outside their ranges, naming them', () => {
    const store = new RecordingStore();
    expect(() => new GroupCommitWriter(store, { durability: 'fsync', batchBytesMax: 0 })).toThrow('batchBytesMax must be an integer from 1');
    expect(() => new GroupCommitWriter(store, { durability: 'fsync', lingerMs: 5_000 })).toThrow('lingerMs must be an integer from 0 to 1000, got 5000');
    expect(() => new GroupCommitWriter(store, { durability: 'fsync', pendingBytesMax: 1.5 })).toThrow('pendingBytesMax must be an integer');
  });
});
