import type { SnapshotMetadata } from '../raft/raft-types.js';

/** What a stored snapshot is: Raft's metadata plus the size and CRC-32C of its whole data. */
export interface StoredSnapshotMetadata extends SnapshotMetadata {
  readonly sizeBytes: number;
  readonly crc32c: number;
}

/** Where a snapshot's data is written, in order. Exactly one of commit or abort ends it. */
export interface SnapshotSink {
  /** Appends `chunk` to the data; chunks are stored as they fill, so a sink holds little in memory. */
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the snapshot durable and listed, atomically: a snapshot is never listed half-written. */
  commit(): Promise<StoredSnapshotMetadata>;
  /** Discards what was written. */
  abort(): Promise<void>;
}

export interface StoredSnapshot {
  readonly metadata: StoredSnapshotMetadata;
  /**
   * The data in stored chunks. Each chunk is checked against its own checksum before it is
   * yielded and the whole against `metadata.crc32c` at the end, so a stream that ends without
   * CORRUPT_RECORD delivered intact data; a consumer must not apply a stream that threw.
   */
  chunks(): AsyncIterable<Uint8Array>;
}

/** Raft snapshots on stable storage (hashicorp/raft's SnapshotStore). */
export interface SnapshotStore {
  /** Starts a snapshot; INVALID_REQUEST when one at `metadata.index` exists or is being written. */
  create(metadata: SnapshotMetadata): Promise<SnapshotSink>;
  /** The committed snapshot at `index`; INVALID_REQUEST naming the stored indices when there is none. */
  open(index: number): Promise<StoredSnapshot>;
  /** Committed snapshots, newest (highest index) first. */
  list(): Promise<StoredSnapshotMetadata[]>;
  /** Keeps the newest `retainCount` committed snapshots and deletes the rest; returns how many went. */
  prune(retainCount: number): Promise<number>;
}
