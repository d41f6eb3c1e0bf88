import assert from 'node:assert/strict';
import { z } from 'zod';
import { TributaryError } from '../errors/index.js';
import { BatchIndex, type BatchSummary, decodeBatchSummary, encodeBatchSummary } from './batch-index.js';
import { corruptRecord } from './checksummed-value.js';
import type { KeyValueOperation, KeyValueStore } from './key-value-store.js';
import { type EpochCheckpoint, type EpochEndOffset, LeaderEpochCache } from './leader-epoch-cache.js';
import { packValue, safeNonNegativeInteger, unpackValue } from './packed-value.js';
import { assertPartitionId, formatPartition, type PartitionId } from './partition-id.js';
import type { AppendedBatch, AppendOptions, LogBatch, PartitionLog, ReadOptions, RetentionRequest, RetentionResult } from './partition-log.js';
import { countBatchesBreachingRetention } from './partition-retention.js';
import { SerialQueue } from './serial-queue.js';
import {
  leaderEpochKey,
  leaderEpochRange,
  partitionBatchKey,
  partitionBatchRange,
  partitionBatchSummaryKey,
  partitionBatchSummaryOffset,
  partitionBatchSummaryRange,
  partitionLogStartKey,
  retiredProducerBatchesKey,
} from './storage-keys.js';
import { encodeRetiredProducerBatches, retiredProducerBatchesFrom, retiredProducerBatchesSchema, retireProducerBatches } from './retired-producer-batches.js';
import type { StorageWriter } from './storage-writer.js';
import { getStoredRecord, rangeStoredRecords, recordIn } from './stored-record.js';
import { decodeStoredBatch, encodeStoredBatch, type StoredBatch } from './stored-batch.js';

const checkpointSchema = z.object({ epoch: safeNonNegativeInteger, startOffset: safeNonNegativeInteger });
const logStartSchema = z.object({ logStartOffset: safeNonNegativeInteger });

/**
 * Opens the log of `partition` in `engine`: reads its log start offset, batch summaries and
 * leader-epoch checkpoints (not its batches), and checks that the summaries are contiguous from
 * the log start offset on.
 */
export async function openPartitionLog(engine: KeyValueStore, writer: StorageWriter, partition: PartitionId): Promise<PartitionLog> {
  assertPartitionId(partition);
  const name = formatPartition(partition);
  const startRecord = `partition "${name}" log start offset`;
  const startBytes = await getStoredRecord(engine, partitionLogStartKey(partition), startRecord);
  const logStartOffset = startBytes === undefined ? 0 : unpackValue(startBytes, logStartSchema, recordIn(engine, startRecord)).logStartOffset;
  const index = await loadBatchIndex(engine, partition, logStartOffset);
  const checkpoints: EpochCheckpoint[] = [];
  const checkpointRecord = `partition "${name}" leader-epoch checkpoints`;
  for await (const [, value] of rangeStoredRecords(engine, leaderEpochRange(partition), checkpointRecord)) {
    checkpoints.push(unpackValue(value, checkpointSchema, recordIn(engine, checkpointRecord)));
  }
  const retiredRecord = `partition "${name}" retired producer batches`;
  const retiredBytes = await getStoredRecord(engine, retiredProducerBatchesKey(partition), retiredRecord);
  const retired = retiredBytes === undefined ? [] : retiredProducerBatchesFrom(unpackValue(retiredBytes, retiredProducerBatchesSchema, recordIn(engine, retiredRecord)));
  return new KeyValuePartitionLog(engine, writer, partition, { logStartOffset, index, epochs: new LeaderEpochCache(checkpoints), retired });
}

/** The batch summaries of `partition`, checked to be contiguous from the log start offset on. */
async function loadBatchIndex(engine: KeyValueStore, partition: PartitionId, logStartOffset: number): Promise<BatchIndex> {
  const name = formatPartition(partition);
  const index = new BatchIndex();
  for await (const [key, value] of rangeStoredRecords(engine, partitionBatchSummaryRange(partition), `partition "${name}" batch summaries`)) {
    const where = recordIn(engine, `partition "${name}" batch summary at offset ${partitionBatchSummaryOffset(key)}`);
    const summary = decodeBatchSummary(value, where);
    const previous = index.last();
    if (previous !== undefined && summary.baseOffset !== previous.lastOffset + 1) {
      const missing = recordIn(engine, `partition "${name}" offset ${previous.lastOffset + 1}`);
      throw corruptRecord(missing, `the batch is missing (the next stored starts at ${summary.baseOffset})`);
    }
    index.push(summary);
  }
  const first = index.at(0);
  if (first !== undefined && first.baseOffset > logStartOffset) {
    const where = recordIn(engine, `partition "${name}" offset ${logStartOffset}`);
    throw corruptRecord(where, `the batch is missing (the log starts at ${logStartOffset} but the first stored batch at ${first.baseOffset})`);
  }
  return index;
}

interface LoadedState {
  readonly logStartOffset: number;
  readonly index: BatchIndex;
  readonly epochs: LeaderEpochCache;
  readonly retired: BatchSummary[];
}

class KeyValuePartitionLog implements PartitionLog {
  private readonly name: string;
  private readonly queue = new SerialQueue();
  private readonly index: BatchIndex;
  private readonly epochs: LeaderEpochCache;
  private startOffset: number;
  /** Idempotent producers' summaries of batches below the log start (retired-producer-batches.ts). */
  private retired: BatchSummary[];
  /** Every offset below it is durable and readable. */
  private endOffset: number;
  /** Where the next append lands: ahead of endOffset while appends are in flight. */
  private nextOffset: number;
  /**
   * The batches from endOffset to nextOffset: appended, not yet durable, in offset order. A leader
   * serves them to followers before its own fsync (`read` with `unsynced`), so the two fsyncs of
   * an acks=all write run side by side instead of one after the other.
   */
  private readonly unsynced: LogBatch[] = [];
  /** Settles once every append started so far is durable; rejects once one failed. */
  private appendsSettled: Promise<void> = Promise.resolve();
  private writeFailure: TributaryError | undefined;

  constructor(
    private readonly engine: KeyValueStore,
    private readonly writer: StorageWriter,
    readonly partition: PartitionId,
    state: LoadedState,
  ) {
    this.name = formatPartition(partition);
    this.index = state.index;
    this.epochs = state.epochs;
    this.startOffset = state.logStartOffset;
    this.retired = state.retired;
    this.endOffset = Math.max(state.logStartOffset, (state.index.last()?.lastOffset ?? -1) + 1);
    this.nextOffset = this.endOffset;
  }

  logStartOffset(): number {
    return this.startOffset;
  }

  logEndOffset(): number {
    return this.endOffset;
  }

  sizeBytes(): number {
    return this.index.sizeBytes();
  }

  settled(): Promise<void> {
    return this.queue.run(() => this.settleAppends());
  }

  leaderEpochCheckpoints(): readonly EpochCheckpoint[] {
    return this.epochs.all();
  }

  *batchSummaries(): IterableIterator<BatchSummary> {
    yield* this.retired;
    yield* this.index;
  }

  endOffsetForEpoch(epoch: number): EpochEndOffset | undefined {
    // The appended end: a leader's followers may hold its unsynced batches already.
    return this.epochs.endOffsetFor(epoch, this.nextOffset);
  }

  /**
   * The queued task only assigns offsets and starts the write; durability is awaited outside the
   * queue, so concurrent appends to one partition share a group commit instead of one sync each.
   */
  async append(batch: StoredBatch, options: AppendOptions = {}): Promise<AppendedBatch> {
    const started = await this.queue.run(() => Promise.resolve({ durable: this.startAppend(batch, options) }));
    return started.durable;
  }

  private startAppend(batch: StoredBatch, options: AppendOptions): Promise<AppendedBatch> {
    this.assertWritable();
    const baseOffset = options.baseOffset ?? this.nextOffset;
    this.assertAppendable(batch, baseOffset);
    const value = encodeStoredBatch(batch, baseOffset);
    const lastOffset = baseOffset + batch.recordCount - 1;
    const summary: BatchSummary = { baseOffset, lastOffset, maxTimestampMs: batch.maxTimestampMs, storedBytes: value.byteLength, producer: batch.producer };
    const operations: KeyValueOperation[] = [
      // The encoded value is this write's alone: the write thread may take its buffer.
      { type: 'put', key: partitionBatchKey(this.partition, baseOffset), value, handOver: true },
      { type: 'put', key: partitionBatchSummaryKey(this.partition, baseOffset), value: encodeBatchSummary(summary) },
    ];
    const epoch = batch.partitionLeaderEpoch;
    if (this.epochs.assign(epoch, baseOffset)) operations.push(this.putCheckpoint({ epoch, startOffset: baseOffset }));
    this.nextOffset = lastOffset + 1;
    this.unsynced.push({ ...batch, baseOffset, lastOffset });
    // Applied in append order even if the writer resolved out of order, and never after a failure.
    const durable = Promise.all([this.appendsSettled, this.writer.write(operations)]).then(() => {
      const synced = this.unsynced.shift();
      assert.equal(synced?.baseOffset, baseOffset, `partition "${this.name}": appends became durable out of order`);
      this.index.push(summary);
      this.endOffset = summary.lastOffset + 1;
      return { baseOffset, lastOffset: summary.lastOffset };
    });
    this.appendsSettled = durable.then(() => undefined);
    // Both are awaited later by someone (the caller, the next append or structural change), but
    // a failure must not surface as an unhandled rejection before then.
    this.appendsSettled.catch(() => undefined);
    durable.catch((error: unknown) => this.recordFailure(error));
    return durable;
  }

  private assertAppendable(batch: StoredBatch, baseOffset: number): void {
    if (baseOffset !== this.nextOffset) {
      throw new TributaryError(
        'OFFSET_MISMATCH',
        `partition "${this.name}": a batch at base offset ${baseOffset} cannot be appended; the next offset is ${this.nextOffset}`,
      );
    }
    const latest = this.epochs.latest();
    if (latest !== undefined && batch.partitionLeaderEpoch < latest.epoch) {
      throw new TributaryError(
        'STALE_EPOCH',
        `partition "${this.name}": a batch of leader epoch ${batch.partitionLeaderEpoch} ` +
          `cannot follow epoch ${latest.epoch} (from offset ${latest.startOffset})`,
      );
    }
  }

  appendedEndOffset(): number {
    return this.nextOffset;
  }

  async read(fromOffset: number, maxBytes: number, options: ReadOptions = {}): Promise<LogBatch[]> {
    if (options.unsynced !== true) return this.readDurable(fromOffset, maxBytes);
    const durable = fromOffset < this.endOffset || fromOffset <= this.startOffset ? await this.readDurable(fromOffset, maxBytes) : [];
    const last = durable.at(-1);
    const storedBytes = durable.reduce((total, batch) => total + batch.payload.byteLength, 0);
    // A budget the durable batches spent, or a durable read cut short, ends the answer there.
    if (last !== undefined && (storedBytes >= maxBytes || last.lastOffset + 1 < this.endOffset)) return durable;
    if (last === undefined) this.assertUnsyncedInRange(fromOffset);
    return [...durable, ...this.unsyncedFrom(last === undefined ? fromOffset : last.lastOffset + 1, maxBytes - storedBytes, durable.length === 0)];
  }

  /**
   * Unsynced batches from the one holding `fromOffset`, contiguous, within `budgetBytes` (the
   * first one whatever its size when `atLeastOne`). Empty when the batch at `fromOffset` became
   * durable meanwhile: the reader asks again.
   */
  private unsyncedFrom(fromOffset: number, budgetBytes: number, atLeastOne: boolean): LogBatch[] {
    const taken: LogBatch[] = [];
    let bytes = 0;
    let next = fromOffset;
    for (const batch of this.unsynced) {
      if (batch.lastOffset < next) continue;
      if (batch.baseOffset > next) break;
      bytes += batch.payload.byteLength;
      if (bytes > budgetBytes && !(atLeastOne && taken.length === 0)) break;
      taken.push(batch);
      next = batch.lastOffset + 1;
    }
    return taken;
  }

  private assertUnsyncedInRange(fromOffset: number): void {
    if (fromOffset >= this.startOffset && fromOffset <= this.nextOffset) return;
    throw new TributaryError(
      'OFFSET_OUT_OF_RANGE',
      `partition "${this.name}": cannot read from offset ${fromOffset}; valid offsets are ${this.startOffset} (log start) to ${this.nextOffset} (log end, appends not yet durable included)`,
    );
  }

  private async readDurable(fromOffset: number, maxBytes: number): Promise<LogBatch[]> {
    assertOffset(fromOffset, 'fromOffset');
    assert.ok(Number.isSafeInteger(maxBytes) && maxBytes > 0, `maxBytes must be a positive integer, got ${maxBytes}`);
    this.assertInRange(fromOffset, 'read from');
    const first = this.index.positionOf(fromOffset);
    const selected: BatchSummary[] = [];
    let totalBytes = 0;
    for (let summary = this.index.at(first); summary !== undefined; summary = this.index.at(first + selected.length)) {
      totalBytes += summary.storedBytes;
      if (summary.lastOffset >= this.endOffset || (totalBytes > maxBytes && selected.length > 0)) break;
      selected.push(summary);
    }
    return this.readSelected(selected);
  }

  /** Reads the batches `selected` names; a concurrent truncation or retention may cut the list short. */
  private async readSelected(selected: readonly BatchSummary[]): Promise<LogBatch[]> {
    const first = selected[0];
    const last = selected[selected.length - 1];
    if (first === undefined || last === undefined) return [];
    const batches: LogBatch[] = [];
    const range = { ...partitionBatchRange(this.partition, first.baseOffset, last.baseOffset + 1), limit: selected.length };
    const offsets = first === last ? `offset ${first.baseOffset}` : `offsets ${first.baseOffset} to ${last.lastOffset}`;
    const records = `partition "${this.name}" ${offsets}`;
    for await (const [, value] of rangeStoredRecords(this.engine, range, records)) {
      const summary = selected[batches.length] as BatchSummary;
      const where = recordIn(this.engine, `partition "${this.name}" offset ${summary.baseOffset}`);
      const batch = decodeStoredBatch(value, summary.baseOffset, where);
      batches.push({ ...batch, baseOffset: summary.baseOffset, lastOffset: summary.baseOffset + batch.recordCount - 1 });
    }
    const missing = selected[batches.length];
    if (missing !== undefined && this.index.at(this.index.positionOf(missing.baseOffset)) === missing) {
      throw corruptRecord(recordIn(this.engine, `partition "${this.name}" offset ${missing.baseOffset}`), 'the batch is missing');
    }
    return batches;
  }

  truncateTo(offset: number): Promise<number> {
    return this.queue.run(async () => {
      assertOffset(offset, 'offset');
      await this.settleAppends();
      if (offset < this.startOffset) this.assertInRange(offset, 'truncate to');
      const position = this.index.positionOf(offset);
      const firstRemoved = this.index.at(position);
      if (firstRemoved === undefined) return this.endOffset;
      const removed = this.index.removeFrom(position);
      this.endOffset = Math.max(this.startOffset, firstRemoved.baseOffset);
      this.nextOffset = this.endOffset;
      const operations = removed.flatMap((summary) => this.deleteBatch(summary));
      for (const checkpoint of this.epochs.truncateFromEnd(this.endOffset)) operations.push(this.deleteCheckpoint(checkpoint));
      await this.write(operations);
      return this.endOffset;
    });
  }

  advanceLogStartOffset(offset: number): Promise<void> {
    return this.queue.run(async () => {
      assertOffset(offset, 'offset');
      await this.settleAppends();
      await this.moveStartTo(offset);
    });
  }

  enforceRetention(request: RetentionRequest): Promise<RetentionResult> {
    return this.queue.run(async () => {
      await this.settleAppends();
      const count = countBatchesBreachingRetention(this.index, request, this.endOffset);
      if (count === 0) return { deletedBatches: 0, deletedBytes: 0, logStartOffset: this.startOffset };
      const sizeBefore = this.index.sizeBytes();
      await this.moveStartTo(this.index.at(count)?.baseOffset ?? this.endOffset);
      return { deletedBatches: count, deletedBytes: sizeBefore - this.index.sizeBytes(), logStartOffset: this.startOffset };
    });
  }

  /**
   * Moves the log start forward to `offset`, deleting batches that end before it and epoch
   * checkpoints it passes. In-memory bounds change first, so reads stop at once; the deletes follow.
   */
  private async moveStartTo(offset: number): Promise<void> {
    if (offset <= this.startOffset) return;
    const emptied = offset > this.endOffset;
    const removed = this.index.removeBefore(emptied ? this.index.length : this.index.positionOf(offset));
    const operations = removed.flatMap((summary) => this.deleteBatch(summary));
    // In the same write as the deletes: a crash between them would forget the producers.
    if (removed.some((summary) => summary.producer !== undefined)) {
      this.retired = retireProducerBatches(this.retired, removed);
      operations.push({ type: 'put', key: retiredProducerBatchesKey(this.partition), value: packValue(encodeRetiredProducerBatches(this.retired)) });
    }
    if (emptied) {
      operations.push(...this.epochs.clear().map((checkpoint) => this.deleteCheckpoint(checkpoint)));
      this.endOffset = offset;
      this.nextOffset = offset;
    } else {
      const { removed: passed, moved } = this.epochs.truncateFromStart(offset);
      operations.push(...passed.map((checkpoint) => this.deleteCheckpoint(checkpoint)));
      if (moved !== undefined) operations.push(this.putCheckpoint(moved));
    }
    this.startOffset = offset;
    operations.push({ type: 'put', key: partitionLogStartKey(this.partition), value: packValue({ logStartOffset: offset }) });
    await this.write(operations);
  }

  private deleteBatch(summary: BatchSummary): KeyValueOperation[] {
    return [
      { type: 'del', key: partitionBatchKey(this.partition, summary.baseOffset) },
      { type: 'del', key: partitionBatchSummaryKey(this.partition, summary.baseOffset) },
    ];
  }

  private putCheckpoint(checkpoint: EpochCheckpoint): KeyValueOperation {
    return { type: 'put', key: leaderEpochKey(this.partition, checkpoint.epoch), value: packValue(checkpoint) };
  }

  private deleteCheckpoint(checkpoint: EpochCheckpoint): KeyValueOperation {
    return { type: 'del', key: leaderEpochKey(this.partition, checkpoint.epoch) };
  }

  private async write(operations: readonly KeyValueOperation[]): Promise<void> {
    try {
      await this.writer.write(operations);
    } catch (error) {
      this.recordFailure(error);
      throw error;
    }
  }

  /** Waits until no append is in flight, so structural changes see a settled log. */
  private async settleAppends(): Promise<void> {
    this.assertWritable();
    await this.appendsSettled;
    this.assertWritable();
  }

  private recordFailure(error: unknown): void {
    // What was not written must not be served: the log refuses everything from now on anyway.
    this.unsynced.length = 0;
    this.writeFailure ??= TributaryError.from(error);
  }

  private assertWritable(): void {
    if (this.writeFailure === undefined) return;
    const message = `partition "${this.name}" refuses writes after a failed write (${this.writeFailure.message}); reopen it to recover`;
    throw new TributaryError('NOT_AVAILABLE', message, { cause: this.writeFailure });
  }

  private assertInRange(offset: number, action: string): void {
    if (offset >= this.startOffset && offset <= this.endOffset) return;
    throw new TributaryError(
      'OFFSET_OUT_OF_RANGE',
      `partition "${this.name}": cannot ${action} offset ${offset}; valid offsets are ${this.startOffset} (log start) to ${this.endOffset} (log end)`,
    );
  }
}

function assertOffset(value: number, name: string): void {
  assert.ok(Number.isSafeInteger(value) && value >= 0, `${name} must be a safe non-negative integer, got ${value}`);
}
