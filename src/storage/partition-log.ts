import type { BatchSummary } from './batch-index.js';
import type { EpochCheckpoint, EpochEndOffset } from './leader-epoch-cache.js';
import type { PartitionId } from './partition-id.js';
import type { StoredBatch } from './stored-batch.js';

export interface AppendOptions {
  /**
   * Where the batch must land (a follower copying its leader's log). It must equal the next
   * offset, else OFFSET_MISMATCH; a leader leaves it out and takes the next offset.
   */
  readonly baseOffset?: number;
}

export interface ReadOptions {
  /**
   * Also batches appended and not yet durable, after the durable ones (a leader serving its
   * followers: they fsync while it does). Such a batch may still be lost if this node crashes.
   */
  readonly unsynced?: boolean;
}

export interface AppendedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
}

/** A batch as read back, with the offsets it occupies. */
export interface LogBatch extends StoredBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
}

export interface RetentionRequest {
  /** The current time, injected: the log never reads a clock. */
  readonly nowMs: number;
  /** Batches whose max timestamp is more than this older than nowMs go; undefined keeps them. */
  readonly retentionMs?: number | undefined;
  /** Oldest batches go while the log stays at least this large without them; undefined keeps them. */
  readonly retentionBytes?: number | undefined;
  /** No batch holding this offset or a later one goes (the high watermark); the log end when omitted. */
  readonly offsetLimit?: number | undefined;
}

export interface RetentionResult {
  readonly deletedBatches: number;
  readonly deletedBytes: number;
  readonly logStartOffset: number;
}

/**
 * One partition's log (docs/STORAGE.md): batches at contiguous offsets from the log start offset
 * to the log end offset, each checked against its CRC-32C on every read. A read that finds bad
 * bytes raises CORRUPT_RECORD naming partition and offset and returns nothing; an offset outside
 * [log start, log end] raises OFFSET_OUT_OF_RANGE naming that range. Writes resolve once durable;
 * appends may overlap (they share group commits), the other writes wait for them.
 * After a failed write the log refuses further writes: reopen it to recover.
 */
export interface PartitionLog {
  readonly partition: PartitionId;
  /** First offset still readable. */
  logStartOffset(): number;
  /** Offset the next durable batch starts at: every offset below it is durable. */
  logEndOffset(): number;
  /** Offset the next append lands at: past the batches appended and not yet durable. */
  appendedEndOffset(): number;
  /** Stored bytes of all batches (what retention by bytes measures). */
  sizeBytes(): number;
  append(batch: StoredBatch, options?: AppendOptions): Promise<AppendedBatch>;
  /**
   * Batches from the one holding `fromOffset` on, within `maxBytes` of stored bytes but at least
   * one batch when any exists at or after `fromOffset`; empty at the log end offset.
   */
  read(fromOffset: number, maxBytes: number, options?: ReadOptions): Promise<LogBatch[]>;
  /**
   * Removes every batch holding `offset` or a later one (whole batches, as Kafka does), and the
   * epoch checkpoints starting there; returns the new log end offset, which may be below `offset`.
   */
  truncateTo(offset: number): Promise<number>;
  /**
   * Moves the log start offset forward to `offset` (a no-op when it is not forward), deleting
   * batches that end before it. An offset beyond the log end empties the log and restarts it
   * there (a follower whose leader deleted what it lacks).
   */
  advanceLogStartOffset(offset: number): Promise<void>;
  /** Deletes whole batches from the start that breach retention by time or bytes. */
  enforceRetention(request: RetentionRequest): Promise<RetentionResult>;
  /**
   * Resolves once every write started before the call (appends, truncations, start moves) has
   * finished, so a new owner of the log (a replica turning from follower to leader) sees it settled.
   */
  settled(): Promise<void>;
  leaderEpochCheckpoints(): readonly EpochCheckpoint[];
  /**
   * The durable batches from the log start on, oldest first, as their summaries: offsets,
   * timestamps and producer fields, read from memory; before them, the last few batches of each
   * idempotent producer that retention deleted (retired-producer-batches.ts), so a leader
   * rebuilding its producers from these forgets none. Do not hold the iterator across a write.
   */
  batchSummaries(): IterableIterator<BatchSummary>;
  /** OffsetsForLeaderEpoch for `epoch` (leader-epoch-cache.ts), up to the appended end; undefined when the log cannot say. */
  endOffsetForEpoch(epoch: number): EpochEndOffset | undefined;
}
