import { resolve } from 'node:path';
import type { NodeConfig } from '../config/index.js';
import { GroupCommitWriter } from './group-commit-writer.js';
import type { HardStateStore } from './hard-state-store.js';
import { KeyValueHardStateStore } from './key-value-hard-state-store.js';
import { claimPartition, type PartitionClaim } from './claim-partition.js';
import { openPartitionLog } from './key-value-partition-log.js';
import { openRaftLogStore } from './key-value-raft-log-store.js';
import { openSnapshotStore } from './key-value-snapshot-store.js';
import type { KeyValueStore } from './key-value-store.js';
import { KeyValueUploadSessionIndexStore } from './key-value-upload-session-index-store.js';
import type { PartitionId } from './partition-id.js';
import type { PartitionLog } from './partition-log.js';
import type { RaftLogStore } from './raft-log-store.js';
import { openRocksDbKeyValueStore, type WriteThread } from './rocksdb/rocksdb-key-value-store.js';
import type { SnapshotStore } from './snapshot-store.js';
import type { UploadSessionIndexStore } from './upload-session-index-store.js';

/** The database lives in this subdirectory of the node's `dataDir`, beside the pid file. */
export const storageDirectoryName = 'storage';

/**
 * Everything a node keeps on disk, over ONE database and ONE GroupCommitWriter, so that every
 * store's writes share the node's group commit and its `durability`. The Raft host, brokers and
 * ingest take their stores from here; partition logs open on demand as partitions are assigned.
 */
export interface NodeStorage {
  /** `<dataDir>/storage`, resolved. */
  readonly directory: string;
  readonly engine: KeyValueStore;
  readonly writer: GroupCommitWriter;
  readonly raftLog: RaftLogStore;
  readonly hardState: HardStateStore;
  readonly snapshots: SnapshotStore;
  readonly uploadSessions: UploadSessionIndexStore;
  /** Makes the partition's data belong to topic incarnation `topicId`, discarding another's (claim-partition.ts); call before opening its log. */
  claimPartition(partition: PartitionId, topicId: string): Promise<PartitionClaim>;
  openPartitionLog(partition: PartitionId): Promise<PartitionLog>;
  /** Flushes every accepted write, then closes the database (and its write thread). */
  close(): Promise<void>;
}

export interface NodeStorageOptions {
  /** The RocksDB write thread; the engine's default (docs/STORAGE.md) when omitted. */
  readonly writeThread?: WriteThread;
}

/**
 * Opens the node's storage in `config.dataDir` with `config.durability`: the RocksDB database,
 * the GroupCommitWriter over it, and the Raft and ingest stores. A failure after the database
 * opened closes it again, so a node that cannot start leaves no lock behind.
 */
export async function openNodeStorage(
  config: Pick<NodeConfig, 'dataDir' | 'durability'>,
  options: NodeStorageOptions = {},
): Promise<NodeStorage> {
  const directory = resolve(config.dataDir, storageDirectoryName);
  const engine = await openRocksDbKeyValueStore(directory, options.writeThread === undefined ? {} : { writeThread: options.writeThread });
  const writer = new GroupCommitWriter(engine, { durability: config.durability });
  const close = async (): Promise<void> => {
    await writer.close();
    await engine.close();
  };
  try {
    const [raftLog, snapshots] = await Promise.all([openRaftLogStore(engine, writer), openSnapshotStore(engine, writer)]);
    return {
      directory,
      engine,
      writer,
      raftLog,
      hardState: new KeyValueHardStateStore(engine, writer),
      snapshots,
      uploadSessions: new KeyValueUploadSessionIndexStore(engine, writer),
      claimPartition: (partition, topicId) => claimPartition(engine, writer, partition, topicId),
      openPartitionLog: (partition) => openPartitionLog(engine, writer, partition),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
