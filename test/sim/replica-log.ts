import assert from 'node:assert/strict';
import { noEpoch, type ProducerBatch } from '../../src/broker/index.js';
import type { LoggedBatch } from '../../src/broker/producer-state-table.js';
import type { BatchSummary } from '../../src/storage/index.js';
import { retireProducerBatches } from '../../src/storage/retired-producer-batches.js';
import { type EpochEndOffset, LeaderEpochCache } from '../../src/storage/leader-epoch-cache.js';
import type { Prng } from './prng.js';
import type { CrashFaults } from './simulated-disk.js';

/** An idempotent producer's stamp on a record: its id, epoch and the record's sequence (a batch of one). */
export type RecordProducer = Omit<ProducerBatch, 'recordCount'>;

/**
 * One record of a simulated partition: the leader epoch that wrote it, the producer's id for it,
 * and, as the real log's batch summaries carry them, its producer stamp and the leader's time of
 * the append (a batch's max timestamp), which followers copy with it.
 */
export interface ReplicaRecord {
  readonly epoch: number;
  readonly recordId: string;
  readonly producer: RecordProducer;
  readonly timestampMs: number;
}

/** Records one simulated replica log may hold: far above what a run writes, so a runaway shows. */
export const replicaLogRecordsMax = 200_000;

/**
 * One broker's copy of one partition, in memory, with what a crash keeps: records are written
 * volatile and become durable at `markDurable` (the simulator's fsync completing), like
 * simulated-disk.ts; a crash keeps the durable prefix, plus a prefix of the rest when the fault
 * model lets write-back through. Epochs are answered by the storage's real LeaderEpochCache, fed
 * as the real partition log feeds it: the first record of each epoch is its checkpoint. A
 * truncation, and moving the log start forward (retention, or a follower restarting its log at its
 * leader's log start), are durable at once (the real log's writes resolve once synced).
 */
export class ReplicaLog {
  /** By offset; the offsets below `startOffset` hold nothing any more. */
  private readonly records: Array<ReplicaRecord | undefined> = [];
  private startOffset = 0;
  /** The last records of each idempotent producer that retention dropped (src/storage/retired-producer-batches.ts). */
  private retired: BatchSummary[] = [];
  private durableEnd = 0;
  private readonly epochs = new LeaderEpochCache([]);

  /** The first offset still held. */
  logStartOffset(): number {
    return this.startOffset;
  }

  /** The offset after the last record, durable or not. */
  endOffset(): number {
    return this.records.length;
  }

  /** Every offset below this survives a crash. */
  durableEndOffset(): number {
    return this.durableEnd;
  }

  /** The epoch of the last record, `noEpoch` for an empty log: what a follower's fetch carries. */
  lastEpoch(): number {
    return this.records.at(-1)?.epoch ?? noEpoch;
  }

  /** Records from `fromOffset` (at or above the log start), at most `countMax` of them. */
  slice(fromOffset: number, countMax: number): ReplicaRecord[] {
    assert.ok(fromOffset >= this.startOffset, `offset ${fromOffset} is below the log start ${this.startOffset}`);
    return this.records.slice(fromOffset, fromOffset + countMax) as ReplicaRecord[];
  }

  /** The ids of the records from the log start on. */
  recordIds(): string[] {
    return this.slice(this.startOffset, this.records.length).map((record) => record.recordId);
  }

  /**
   * The records from the log start as the real log's batch summaries (one record per batch):
   * what a new leader rebuilds its ProducerStateTable from.
   */
  batchSummaries(): LoggedBatch[] {
    return [...this.retired, ...this.summariesOf(this.startOffset, this.records.length)];
  }

  private summariesOf(fromOffset: number, toOffset: number): BatchSummary[] {
    return this.slice(fromOffset, toOffset - fromOffset).map((record, index) => {
      const offset = fromOffset + index;
      return { baseOffset: offset, lastOffset: offset, maxTimestampMs: record.timestampMs, storedBytes: 0, producer: record.producer };
    });
  }

  /** Appends at the end; the first record of a newer epoch checkpoints where that epoch starts. */
  append(record: ReplicaRecord): number {
    assert.ok(this.records.length < replicaLogRecordsMax, `a replica log exceeds replicaLogRecordsMax (${replicaLogRecordsMax})`);
    const offset = this.records.length;
    const latest = this.epochs.latest();
    assert.ok(latest === undefined || record.epoch >= latest.epoch, `record of epoch ${record.epoch} appended after epoch ${latest?.epoch}`);
    this.epochs.assign(record.epoch, offset);
    this.records.push(record);
    return offset;
  }

  /** Removes every record from `offset` on; returns the new end offset. */
  truncateTo(offset: number): number {
    if (offset >= this.records.length) return this.records.length;
    this.records.length = offset;
    this.startOffset = Math.min(this.startOffset, offset);
    this.durableEnd = Math.min(this.durableEnd, offset);
    this.epochs.truncateFromEnd(offset);
    return offset;
  }

  /**
   * Drops the records below `offset` (retention); past the log end, empties the log and restarts
   * it there, as a follower does when its leader no longer holds what it lacks.
   */
  advanceLogStartOffset(offset: number): void {
    if (offset <= this.startOffset) return;
    // The real log's rule, by its own code: the producers of what goes are kept (durable at once, as there).
    this.retired = retireProducerBatches(this.retired, this.summariesOf(this.startOffset, Math.min(offset, this.records.length)));
    if (offset > this.records.length) {
      this.records.length = 0;
      this.records.length = offset;
      this.durableEnd = offset;
      this.epochs.clear();
    } else {
      this.records.fill(undefined, this.startOffset, offset);
      this.epochs.truncateFromStart(offset);
    }
    this.startOffset = offset;
  }

  /** An fsync issued when the log ended at `syncedEndOffset` completed. */
  markDurable(syncedEndOffset: number): void {
    assert.ok(syncedEndOffset <= this.records.length, `synced end ${syncedEndOffset} beyond the log end ${this.records.length}`);
    this.durableEnd = Math.max(this.durableEnd, syncedEndOffset);
  }

  /** The machine lost power: unsynced records go, except a prefix the fault model lets through. */
  crash(random: Prng, faults: CrashFaults): number {
    const unsynced = this.records.length - this.durableEnd;
    const survivors = random.chance(faults.unsyncedSurvivalRate) ? random.range(0, unsynced) : 0;
    this.truncateTo(this.durableEnd + survivors);
    this.durableEnd = this.records.length;
    return this.records.length;
  }

  /** OffsetsForLeaderEpoch over this log (leader-epoch-cache.ts). */
  endOffsetForEpoch(epoch: number): EpochEndOffset | undefined {
    return this.epochs.endOffsetFor(epoch, this.records.length);
  }
}
