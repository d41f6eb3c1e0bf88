import type { IngestLogRecord } from './ingest-record.js';

/** A record read back from an ingest partition, at its log offset. */
export interface StoredIngestRecord {
  readonly offset: number;
  readonly timestampMs: number;
  readonly record: IngestLogRecord;
}

export type ChangeWait = 'changed' | 'deadline' | 'stopped';

/**
 * What the ingest logic needs of the partition it leads (rpc/services/ingest-partition-log.ts
 * implements it over a PartitionLeader): appends with acks=all, reads of the whole log (a new
 * leader replays it, uncommitted records included), the high watermark and its changes.
 */
export interface IngestLog {
  /** "topic/partition". */
  readonly partition: string;
  readonly topic: string;
  readonly partitionIndex: number;
  /** The leadership this log is served in. */
  readonly leaderEpoch: number;
  /**
   * Appends `record` as one batch in this leader's epoch. `logOffset` is where it was stored, or
   * undefined when the leader refused it before appending (nothing was stored; `committed`
   * rejects with why). `committed` settles once the high watermark covers the record, or rejects:
   * TIMEOUT (the record may still commit), NOT_LEADER (this leadership ended).
   */
  append(record: IngestLogRecord, nowMs: number): { readonly logOffset: number | undefined; readonly committed: Promise<void> };
  /** Records from `fromOffset`, whole batches within about `maxBytes` (at least one); `uncommitted` reads past the high watermark. */
  read(fromOffset: number, maxBytes: number, uncommitted: boolean): Promise<StoredIngestRecord[]>;
  /** Records below this are committed: replicated to the in-sync replicas and durable on each. */
  highWatermark(): number;
  logStartOffset(): number;
  logEndOffset(): number;
  /** The next change of the high watermark or the log end, the deadline, or `stop`. */
  waitForChange(deadlineMs: number, stop: AbortSignal): Promise<ChangeWait>;
  /** NOT_LEADER once this leadership has ended. */
  assertLeading(): void;
}
