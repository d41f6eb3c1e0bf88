// Damage on disk in a real RocksDB directory, and the errors it must give: a value whose bytes
// changed fails its CRC-32C, a damaged table file fails RocksDB's block checksum, a damaged
// MANIFEST fails the open. Every error is CORRUPT_RECORD naming the database directory and, when a
// read hits it, the partition and offset or the Raft index; no bytes of a damaged record come back.
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import type { Entry } from '../../../src/raft/raft-types.js';
import { GroupCommitWriter } from '../../../src/storage/group-commit-writer.js';
import { openPartitionLog } from '../../../src/storage/key-value-partition-log.js';
import { openRaftLogStore } from '../../../src/storage/key-value-raft-log-store.js';
import type { KeyValueStore } from '../../../src/storage/key-value-store.js';
import { openRocksDbKeyValueStore } from '../../../src/storage/rocksdb/rocksdb-key-value-store.js';
import { partitionBatchKey } from '../../../src/storage/storage-keys.js';
import type { StoredBatch } from '../../../src/storage/stored-batch.js';
import { flipStoredByte, rejectionOf } from '../../support/storage-engines.js';

const partition = { topic: 'orders', partition: 3 };
/** Random, so RocksDB cannot compress it: the bytes appear in the table file as they were written. */
const payloadBytes = 16 * 1024;
const batchCount = 48;
const damagedOffset = 40;

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tributary-corruption-'));
});
afterEach(async () => rm(directory, { recursive: true, force: true }));

/** Opens the store in `directory`, runs `action` with it and a writer, closes both. */
async function withStore<T>(action: (engine: KeyValueStore, writer: GroupCommitWriter) => Promise<T>): Promise<T> {
  const engine = await openRocksDbKeyValueStore(directory);
  const writer = new GroupCommitWriter(engine, { durability: 'fsync' });
  try {
    return await action(engine, writer);
  } finally {
    await writer.close();
    await engine.close();
  }
}

function batchOf(payload: Uint8Array): StoredBatch {
  return { recordCount: 1, partitionLeaderEpoch: 1, firstTimestampMs: 0, maxTimestampMs: 0, payload };
}

/**
 * Stores `payloads` and moves them from the WAL into a table file: reopening replays the WAL into
 * a flushed table, so after the second close the bytes live in an `.sst` file.
 */
async function storeInTableFile(write: (engine: KeyValueStore, writer: GroupCommitWriter) => Promise<void>): Promise<void> {
  await withStore(write);
  await withStore(() => Promise.resolve());
}

/** Flips one byte in the middle of `needle` wherever it is stored in a table file of `directory`. */
async function flipInTableFile(needle: Uint8Array): Promise<string> {
  for (const name of await readdir(directory)) {
    if (!name.endsWith('.sst')) continue;
    const at = (await readFile(join(directory, name))).indexOf(needle);
    if (at < 0) continue;
    const file = await open(join(directory, name), 'r+');
    try {
      const position = at + Math.floor(needle.byteLength / 2);
      const [byte] = (await file.read(Buffer.alloc(1), 0, 1, position)).buffer;
      await file.write(Buffer.from([(byte ?? 0) ^ 0xff]), 0, 1, position);
    } finally {
      await file.close();
    }
    return name;
  }
  throw new Error(`no table file in ${directory} holds the bytes to damage`);
}

function expectCorruptRecord(error: Error, ...named: readonly string[]): void {
  expect(error).toBeInstanceOf(TributaryError);
  expect(error).toMatchObject({ code: 'CORRUPT_RECORD' });
  expect(error.message).toContain(`"${directory}"`);
  for (const name of named) expect(error.message).toContain(name);
}

describe('corruption on disk, partition log', () => {
  it('a stored value whose bytes changed fails its checksum, naming the directory, partition and offset', async () => {
    await withStore(async (engine, writer) => {
      const log = await openPartitionLog(engine, writer, partition);
      for (let offset = 0; offset < 4; offset++) await log.append(batchOf(randomBytes(64)));
      await flipStoredByte(engine, partitionBatchKey(partition, 2), 40);
    });
    await withStore(async (engine, writer) => {
      const log = await openPartitionLog(engine, writer, partition);
      const error = await rejectionOf(() => log.read(2, 1_000_000));
      expectCorruptRecord(error, `partition "orders-3" offset 2 in RocksDB database "${directory}": stored CRC-32C`);
      expect(error.message).toContain('the record is not returned');
      expect((await log.read(3, 1_000_000)).map((batch) => batch.baseOffset)).toEqual([3]);
    });
  });

  it('a damaged table file fails the read with RocksDB\'s error as cause, naming the directory, partition and offset', async () => {
    const payloads = Array.from({ length: batchCount }, () => randomBytes(payloadBytes));
    await storeInTableFile(async (engine, writer) => {
      const log = await openPartitionLog(engine, writer, partition);
      for (const payload of payloads) await log.append(batchOf(payload));
    });
    await flipInTableFile(payloads[damagedOffset] as Uint8Array);
    await withStore(async (engine, writer) => {
      const log = await openPartitionLog(engine, writer, partition);
      expect(log.logEndOffset()).toBe(batchCount);
      const error = await rejectionOf(() => log.read(damagedOffset, payloadBytes));
      expectCorruptRecord(error, `partition "orders-3" offset ${damagedOffset}: cannot read the RocksDB database in "${directory}": Corruption:`);
      expect(error.cause).toBeInstanceOf(TributaryError);
      expect((error.cause as Error).cause).toBeInstanceOf(Error);
      expect(error.message).not.toContain(Buffer.from(payloads[damagedOffset] as Uint8Array).toString('hex').slice(0, 16));
      const [intact] = await log.read(damagedOffset - 1, payloadBytes);
      expect(Buffer.from(intact?.payload ?? []).equals(payloads[damagedOffset - 1] as Uint8Array)).toBe(true);
    });
  });
});

describe('corruption on disk, raft log', () => {
  const entryAt = (index: number, data: Uint8Array): Entry => ({ index, term: 1, type: 'normal', data });

  it('a damaged table file fails term() and entries() naming the directory and the raft index', async () => {
    const data = Array.from({ length: batchCount }, () => randomBytes(payloadBytes));
    await storeInTableFile(async (engine, writer) => {
      const log = await openRaftLogStore(engine, writer);
      await log.append(data.map((bytes, position) => entryAt(position + 1, bytes)));
    });
    const damagedIndex = damagedOffset + 1;
    await flipInTableFile(data[damagedOffset] as Uint8Array);
    await withStore(async (engine, writer) => {
      const log = await openRaftLogStore(engine, writer);
      expectCorruptRecord(await rejectionOf(() => log.term(damagedIndex)), `raft log index ${damagedIndex}: cannot read the RocksDB database in "${directory}"`);
      const error = await rejectionOf(() => log.entries(damagedIndex, damagedIndex + 1, 1_000_000));
      expectCorruptRecord(error, `raft log index ${damagedIndex}: cannot read the RocksDB database in "${directory}": Corruption:`, 'restore this node');
      expect(await log.term(damagedIndex - 1)).toBe(1);
    });
  });
});

describe('corruption on disk, opening', () => {
  it('a damaged MANIFEST fails the open with CORRUPT_RECORD naming the directory, never opening', async () => {
    await storeInTableFile(async (engine, writer) => {
      const log = await openPartitionLog(engine, writer, partition);
      await log.append(batchOf(randomBytes(64)));
    });
    const manifest = (await readdir(directory)).find((name) => name.startsWith('MANIFEST-'));
    if (manifest === undefined) throw new Error(`no MANIFEST in ${directory}`);
    const bytes = await readFile(join(directory, manifest));
    const file = await open(join(directory, manifest), 'r+');
    try {
      // Every record of the MANIFEST gets a flipped byte, so none of them can be replayed.
      for (let position = 16; position < bytes.byteLength; position += 64) await file.write(Buffer.from([(bytes[position] ?? 0) ^ 0xff]), 0, 1, position);
    } finally {
      await file.close();
    }
    const error = await rejectionOf(() => openRocksDbKeyValueStore(directory));
    expectCorruptRecord(error, `cannot open the RocksDB database in "${directory}": Corruption:`, 'restore this node');
  });
});
