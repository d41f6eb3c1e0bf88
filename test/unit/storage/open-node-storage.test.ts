// openNodeStorage: a node's config (dataDir, durability) reaches the database and the writer every
// store writes through, the stores work over them, and closing releases the database.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { openNodeStorage, storageDirectoryName } from '../../../src/storage/open-node-storage.js';
import { openRocksDbKeyValueStore } from '../../../src/storage/rocksdb/rocksdb-key-value-store.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tributary-node-storage-'));
});
afterEach(async () => rm(dataDir, { recursive: true, force: true }));

function nodeConfig(env: Record<string, string> = {}) {
  return loadConfig({ env, overrides: { nodeId: 1, dataDir } });
}

describe('openNodeStorage', () => {
  it('takes durability from the config: fsync by default, none when the config says so', async () => {
    const byDefault = await openNodeStorage(nodeConfig());
    expect(byDefault.writer.durability).toBe('fsync');
    await byDefault.close();
    const unsynced = await openNodeStorage(nodeConfig({ TRIB_DURABILITY: 'none' }));
    expect(unsynced.writer.durability).toBe('none');
    await unsynced.close();
  });

  it('keeps the database in <dataDir>/storage, and what the stores wrote across a reopen', async () => {
    const storage = await openNodeStorage(nodeConfig());
    expect(storage.directory).toBe(join(dataDir, storageDirectoryName));
    expect(storage.engine.location).toBe(`RocksDB database "${join(dataDir, storageDirectoryName)}"`);
    await storage.hardState.save({ term: 4, vote: 2, commit: 9 });
    await storage.raftLog.append([{ index: 1, term: 4, type: 'normal', data: Uint8Array.of(7) }]);
    const log = await storage.openPartitionLog({ topic: 'orders', partition: 0 });
    await log.append({ recordCount: 2, partitionLeaderEpoch: 1, firstTimestampMs: 5, maxTimestampMs: 6, payload: Uint8Array.of(1, 2) });
    await storage.close();
    const reopened = await openNodeStorage(nodeConfig());
    expect(await reopened.hardState.load()).toEqual({ term: 4, vote: 2, commit: 9 });
    expect(reopened.raftLog.lastIndex()).toBe(1);
    expect((await reopened.openPartitionLog({ topic: 'orders', partition: 0 })).logEndOffset()).toBe(2);
    await reopened.close();
  });

  it('releases the database on close, so another store can open it', async () => {
    const storage = await openNodeStorage(nodeConfig(), { writeThread: 'worker' });
    await storage.close();
    const engine = await openRocksDbKeyValueStore(join(dataDir, storageDirectoryName));
    await engine.close();
  });
});
