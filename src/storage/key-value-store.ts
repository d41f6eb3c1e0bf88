/**
 * The one engine interface every Tributary store is written against (docs/STORAGE.md): an ordered
 * byte-keyed map with atomic batched writes. RocksDB implements it for nodes
 * (`rocksdb/rocksdb-key-value-store.ts`), memory implements it for unit tests and the simulator
 * (`memory/memory-key-value-store.ts`, where a simulated crash drops writes that were not synced).
 * Higher stores (Raft log, hard state, snapshots, partition logs, producer state, upload-session
 * index) are written once over it, so both engines run the same logic and the same tests.
 */

export type KeyValueOperation =
  | {
    readonly type: 'put';
    readonly key: Uint8Array;
    readonly value: Uint8Array;
    /**
     * The caller gives the value up: a writer may take its buffer (a RocksDB store hands a large
     * one to its write thread instead of copying it), and the caller never reads it again.
     */
    readonly handOver?: boolean;
  }
  | { readonly type: 'del'; readonly key: Uint8Array };

export interface KeyRange {
  /** Inclusive lower bound. */
  readonly gte: Uint8Array;
  /** Exclusive upper bound. */
  readonly lt: Uint8Array;
  /** Descending key order when true. */
  readonly reverse?: boolean;
  /** At most this many entries. */
  readonly limit?: number;
}

export interface WriteOptions {
  /**
   * Durable before the promise resolves: fsynced on RocksDB, kept across a simulated crash in
   * memory. Without it a crash may drop the write (but never tears a batch: it is all or nothing).
   */
  readonly sync: boolean;
}

export interface KeyValueStore {
  /**
   * Where the data lives, for error messages: `RocksDB database "/var/lib/tributary"`. Stores name
   * it in every CORRUPT_RECORD, because an operator has to find the damaged copy.
   */
  readonly location: string;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Entries whose keys lie in [gte, lt), in key order (bytewise), bounded by `limit`. */
  range(range: KeyRange): AsyncIterable<readonly [Uint8Array, Uint8Array]>;
  /** Applies `operations` atomically, in order. */
  write(operations: readonly KeyValueOperation[], options: WriteOptions): Promise<void>;
  close(): Promise<void>;
}
