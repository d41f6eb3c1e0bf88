import type { Clock } from '../../actors/clock.js';
import type { PartitionLeader } from '../../actors/partition-replica/partition-leader.js';
import type { ChangeWait, IngestLog, StoredIngestRecord } from '../../ingest/ingest-log.js';
import type { IngestLogRecord } from '../../ingest/ingest-record.js';
import { decodeRecordBatch, encodeRecordBatch } from '../clients/record-batch-codec.js';
import { type LeaderChanges, waitForLeaderChange } from './leader-changes.js';
import { storedBatchFromWire, wireBatchFromStored } from './record-batch-mapping.js';

export interface IngestPartitionLogOptions {
  readonly leader: PartitionLeader;
  readonly topic: string;
  readonly partition: number;
  /** The largest batch the broker takes for the topic (its max_message_bytes within the broker's bound). */
  readonly maxBatchBytes: number;
  /** How long an append waits for the in-sync replicas before failing with TIMEOUT (it may still commit). */
  readonly appendTimeoutMs: number;
  readonly clock: Clock;
  readonly changes: LeaderChanges;
}

/**
 * An ingest partition's leader as the ingest logic sees it (src/ingest/ingest-log.ts): each
 * record one batch, appended with acks=all through the same PartitionLeader as produced batches,
 * and read back with the same codec consumers use.
 */
export class IngestPartitionLog implements IngestLog {
  readonly partition: string;

  constructor(private readonly options: IngestPartitionLogOptions) {
    this.partition = options.leader.partition;
  }

  get topic(): string {
    return this.options.topic;
  }

  get partitionIndex(): number {
    return this.options.partition;
  }

  get leaderEpoch(): number {
    return this.options.leader.leaderEpoch;
  }

  append(record: IngestLogRecord, nowMs: number): { logOffset: number | undefined; committed: Promise<void> } {
    const { leader, maxBatchBytes, appendTimeoutMs } = this.options;
    const wire = encodeRecordBatch([{ key: record.key, value: record.value, headers: record.headers, timestampMs: nowMs }]);
    const stored = storedBatchFromWire(wire, { partition: leader.partition, partitionLeaderEpoch: leader.leaderEpoch, maxBatchBytes, nowMs });
    const offsetBefore = leader.nextAppendOffset();
    const committed = leader.append(stored, 'all', appendTimeoutMs).then(() => undefined);
    // The leader takes the batch's offset synchronously inside append; an unchanged next offset means it refused the batch.
    return { logOffset: leader.nextAppendOffset() === offsetBefore ? undefined : offsetBefore, committed };
  }

  async read(fromOffset: number, maxBytes: number, uncommitted: boolean): Promise<StoredIngestRecord[]> {
    const { leader } = this.options;
    const batches = uncommitted ? await leader.readLog(fromOffset, maxBytes) : (await leader.read(fromOffset, maxBytes)).batches;
    return batches.flatMap((batch) => decodeRecordBatch(wireBatchFromStored(batch, this.partition)).map((record) => ({
      offset: record.offset,
      timestampMs: record.timestampMs,
      record: { key: record.key ?? new Uint8Array(0), value: record.value, headers: record.headers },
    })));
  }

  highWatermark(): number {
    return this.options.leader.highWatermark() ?? 0;
  }

  logStartOffset(): number {
    return this.options.leader.logStartOffset();
  }

  logEndOffset(): number {
    return this.options.leader.nextAppendOffset();
  }

  waitForChange(deadlineMs: number, stop: AbortSignal): Promise<ChangeWait> {
    const { leader, clock, changes } = this.options;
    const highWatermark = leader.highWatermark();
    const logEndOffset = leader.logEndOffset();
    const changedSince = () => leader.highWatermark() !== highWatermark || leader.logEndOffset() !== logEndOffset;
    return waitForLeaderChange({ changes, clock, leaders: [leader], deadlineMs, stop, changedSince });
  }

  assertLeading(): void {
    this.options.leader.assertLeading();
  }
}
