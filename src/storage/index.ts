/**
 * Tributary's stores over the KeyValueStore engine (docs/STORAGE.md): the Raft log, hard state and
 * snapshots for controllers, partition logs with producer state for brokers, and the upload-session
 * index for ingest. Each concern is an interface; the KeyValue* classes and open* functions are its
 * implementation over either engine (RocksDB on nodes, memory in tests and the simulator), written
 * through the GroupCommitWriter. Keys, codecs and in-memory indexes stay internal.
 */
export { claimPartition, discardBatchKeysMax, type PartitionClaim } from './claim-partition.js';
export { crc32c } from './crc32c.js';
export { GroupCommitWriter, groupCommitDefaults, type Durability, type GroupCommitWriterOptions } from './group-commit-writer.js';
export type { HardStateStore } from './hard-state-store.js';
export { KeyValueHardStateStore } from './key-value-hard-state-store.js';
export type { BatchSummary } from './batch-index.js';
export { openPartitionLog } from './key-value-partition-log.js';
export { openRaftLogStore } from './key-value-raft-log-store.js';
export { openSnapshotStore, snapshotChunkBytesDefault, type SnapshotStoreOptions } from './key-value-snapshot-store.js';
export type { KeyRange, KeyValueOperation, KeyValueStore, WriteOptions } from './key-value-store.js';
export { KeyValueUploadSessionIndexStore } from './key-value-upload-session-index-store.js';
export type { EpochCheckpoint, EpochEndOffset } from './leader-epoch-cache.js';
export {
  dropAllUnsynced,
  MemoryKeyValueStore,
  type MemoryKeyValueStoreOptions,
  type UnsyncedPrefixChooser,
} from './memory/memory-key-value-store.js';
export { openNodeStorage, storageDirectoryName, type NodeStorage, type NodeStorageOptions } from './open-node-storage.js';
export { formatPartition, partitionIndexMax, topicNameBytesMax, type PartitionId } from './partition-id.js';
export type { AppendedBatch, AppendOptions, LogBatch, PartitionLog, ReadOptions, RetentionRequest, RetentionResult } from './partition-log.js';
export type { RaftLogStore } from './raft-log-store.js';
export { openRocksDbKeyValueStore, writeThreadDefault, type RocksDbKeyValueStoreOptions, type WriteThread } from './rocksdb/rocksdb-key-value-store.js';
export type { SnapshotSink, SnapshotStore, StoredSnapshot, StoredSnapshotMetadata } from './snapshot-store.js';
export type { StorageWriter } from './storage-writer.js';
export { batchPayloadBytesMax, batchRecordCountMax, type BatchProducer, type StoredBatch } from './stored-batch.js';
export type { UploadSessionEntry, UploadSessionIndexStore, UploadSessionState } from './upload-session-index-store.js';
