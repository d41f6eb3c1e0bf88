import { afterEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/storage/crc32c.js';
import { openSnapshotStore } from '../../../src/storage/key-value-snapshot-store.js';
import type { KeyValueStore } from '../../../src/storage/key-value-store.js';
import type { SnapshotStore, StoredSnapshot } from '../../../src/storage/snapshot-store.js';
import { keyPrefixes, snapshotChunkKey } from '../../../src/storage/storage-keys.js';
import { type EngineHandle, engineKinds, failureOf, flipStoredByte } from '../../support/storage-engines.js';

const membership = { voters: [1, 2, 3], learners: [4] };
/** Small stored chunks, so a few bytes already span several of them. */
const chunkBytes = 4;

function metadataAt(index: number): { index: number; term: number; membership: typeof membership } {
  return { index, term: 2, membership };
}

async function writeSnapshot(store: SnapshotStore, index: number, parts: readonly string[]): Promise<void> {
  const sink = await store.create(metadataAt(index));
  for (const part of parts) await sink.write(new TextEncoder().encode(part));
  await sink.commit();
}

async function readAll(snapshot: StoredSnapshot): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of snapshot.chunks()) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function storedChunkCount(engine: KeyValueStore): Promise<number> {
  let count = 0;
  const range = { gte: Uint8Array.of(keyPrefixes.snapshotChunk), lt: Uint8Array.of(keyPrefixes.snapshotChunk + 1) };
  for await (const _entry of engine.range(range)) count += 1;
  return count;
}

describe.each(engineKinds)('SnapshotStore on $name', (kind) => {
  let handle: EngineHandle;

  afterEach(async () => {
    await handle.dispose();
  });

  async function openStore(): Promise<SnapshotStore> {
    handle = await kind.open();
    return openSnapshotStore(handle.engine, handle.writer, { chunkBytes });
  }

  it('stores a snapshot in chunks and streams it back with its size and checksum', async () => {
    const store = await openStore();
    const sink = await store.create(metadataAt(7));
    await sink.write(new TextEncoder().encode('hello '));
    await sink.write(new TextEncoder().encode('snapshot'));
    const metadata = await sink.commit();
    const expected = { ...metadataAt(7), sizeBytes: 14, crc32c: crc32c(new TextEncoder().encode('hello snapshot')) };
    expect(metadata).toEqual(expected);
    expect(await store.list()).toEqual([expected]);
    const opened = await store.open(7);
    expect(opened.metadata).toEqual(expected);
    expect(await readAll(opened)).toBe('hello snapshot');
    expect(await storedChunkCount(handle.engine)).toBe(4);
  });

  it('never lists a half-written snapshot, and drops its chunks on the next open', async () => {
    const store = await openStore();
    await writeSnapshot(store, 3, ['done']);
    const sink = await store.create(metadataAt(9));
    await sink.write(new TextEncoder().encode('half written'));
    expect((await store.list()).map((metadata) => metadata.index)).toEqual([3]);
    handle = await handle.reopen();
    const reopened = await openSnapshotStore(handle.engine, handle.writer, { chunkBytes });
    expect((await reopened.list()).map((metadata) => metadata.index)).toEqual([3]);
    expect(await storedChunkCount(handle.engine)).toBe(1);
    await writeSnapshot(reopened, 9, ['again']);
    expect(await readAll(await reopened.open(9))).toBe('again');
  });

  it('discards an aborted snapshot', async () => {
    const store = await openStore();
    const sink = await store.create(metadataAt(5));
    await sink.write(new TextEncoder().encode('abandoned data'));
    await sink.abort();
    expect([await store.list(), await storedChunkCount(handle.engine)]).toEqual([[], 0]);
    await expect(sink.write(new Uint8Array(1))).rejects.toThrow('cannot write to the snapshot at index 5: it is already committed or aborted');
  });

  it('refuses a second snapshot at one index and names the stored ones when opening a missing one', async () => {
    const store = await openStore();
    await writeSnapshot(store, 4, ['a']);
    await writeSnapshot(store, 8, ['b']);
    expect(await failureOf(() => store.create(metadataAt(4)))).toBe(
      'INVALID_REQUEST: a snapshot at index 4 already exists; prune it or write a later one',
    );
    await store.create(metadataAt(12));
    await expect(store.create(metadataAt(12))).rejects.toMatchObject({ message: 'a snapshot at index 12 is already being written' });
    await expect(store.open(6)).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: 'no snapshot at index 6; stored snapshots are at [8, 4]' });
  });

  it('prunes all but the newest snapshots', async () => {
    const store = await openStore();
    for (const index of [2, 10, 6]) await writeSnapshot(store, index, [`snapshot ${index}`]);
    expect(await store.prune(2)).toBe(1);
    expect((await store.list()).map((metadata) => metadata.index)).toEqual([10, 6]);
    expect(await store.prune(2)).toBe(0);
    expect(await storedChunkCount(handle.engine)).toBe(6);
    await expect(store.prune(0)).rejects.toThrow('retainCount must be an integer of at least 1, got 0');
  });

  it('reports a corrupted chunk as CORRUPT_RECORD naming the snapshot and chunk', async () => {
    const store = await openStore();
    await writeSnapshot(store, 7, ['0123456789']);
    await flipStoredByte(handle.engine, snapshotChunkKey(7, 1), 9);
    const opened = await store.open(7);
    expect(await failureOf(() => readAll(opened))).toMatch(/^CORRUPT_RECORD: snapshot at index 7 chunk 1 in [^:]+: stored CRC-32C/);
  });

  it('reports a missing chunk as CORRUPT_RECORD', async () => {
    const store = await openStore();
    await writeSnapshot(store, 7, ['0123456789']);
    await handle.engine.write([{ type: 'del', key: snapshotChunkKey(7, 2) }], { sync: true });
    const opened = await store.open(7);
    expect(await failureOf(() => readAll(opened))).toMatch(
      /^CORRUPT_RECORD: snapshot at index 7 in [^:]+: read 2 chunks, 8 bytes, CRC-32C \d+; the metadata says 3, 10, \d+/,
    );
  });
});
