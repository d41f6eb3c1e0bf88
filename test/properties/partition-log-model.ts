// A partition log as plain arrays, with Kafka's rules written out directly: what PartitionLog
// must agree with in storage-model.test.ts.
import type { EpochCheckpoint, EpochEndOffset } from '../../src/storage/leader-epoch-cache.js';
import type { LogBatch, RetentionRequest } from '../../src/storage/partition-log.js';
import { type StoredBatch, storedBatchOverheadBytes } from '../../src/storage/stored-batch.js';

/** Payload bytes follow from the base offset, so a batch read back at the wrong place shows. */
export function modelBatch(recordCount: number, epoch: number, timestampMs: number, payloadBytes: number, baseOffset: number): StoredBatch {
  return {
    recordCount,
    partitionLeaderEpoch: epoch,
    firstTimestampMs: timestampMs,
    maxTimestampMs: timestampMs + recordCount,
    producer: undefined,
    payload: new Uint8Array(payloadBytes).fill(baseOffset % 256),
  };
}

export class PartitionLogModel {
  start = 0;
  end = 0;
  batches: LogBatch[] = [];
  epochs: EpochCheckpoint[] = [];

  sizeBytes(): number {
    return this.batches.reduce((total, batch) => total + storedBytes(batch), 0);
  }

  latestEpoch(): number {
    return this.epochs[this.epochs.length - 1]?.epoch ?? 0;
  }

  append(batch: StoredBatch): LogBatch {
    const logBatch = { ...batch, baseOffset: this.end, lastOffset: this.end + batch.recordCount - 1 };
    const epoch = batch.partitionLeaderEpoch;
    if (this.epochs.length === 0 || epoch > this.latestEpoch()) this.epochs.push({ epoch, startOffset: this.end });
    this.batches.push(logBatch);
    this.end = logBatch.lastOffset + 1;
    return logBatch;
  }

  /** The new log end, or 'outOfRange'. */
  truncateTo(offset: number): number | 'outOfRange' {
    if (offset < this.start) return 'outOfRange';
    const firstRemoved = this.batches.find((batch) => batch.lastOffset >= offset);
    if (firstRemoved === undefined) return this.end;
    this.batches = this.batches.filter((batch) => batch.lastOffset < offset);
    this.end = Math.max(this.start, firstRemoved.baseOffset);
    this.epochs = this.epochs.filter((checkpoint) => checkpoint.startOffset < this.end);
    return this.end;
  }

  advanceLogStartOffset(offset: number): void {
    if (offset <= this.start) return;
    if (offset > this.end) {
      this.batches = [];
      this.epochs = [];
      this.end = offset;
    } else {
      this.batches = this.batches.filter((batch) => batch.lastOffset >= offset);
      const covering = this.epochs.filter((checkpoint) => checkpoint.startOffset <= offset).pop();
      const later = this.epochs.filter((checkpoint) => checkpoint.startOffset > offset);
      this.epochs = covering === undefined ? later : [{ epoch: covering.epoch, startOffset: offset }, ...later];
    }
    this.start = offset;
  }

  /** Deletes the union of the time-breaching prefix and the bytes-breaching prefix, below the limit. */
  enforceRetention(request: RetentionRequest): number {
    const limit = request.offsetLimit ?? this.end;
    const deletable = this.batches.filter((batch) => batch.lastOffset < limit).length;
    const retentionMs = request.retentionMs;
    const timePrefix = retentionMs === undefined ? 0 : prefixLength(this.batches, (batch) => request.nowMs - batch.maxTimestampMs > retentionMs);
    let bytesPrefix = 0;
    if (request.retentionBytes !== undefined) {
      let remaining = this.sizeBytes();
      for (const batch of this.batches) {
        if (remaining - storedBytes(batch) < request.retentionBytes) break;
        remaining -= storedBytes(batch);
        bytesPrefix += 1;
      }
    }
    const count = Math.min(deletable, Math.max(timePrefix, bytesPrefix));
    if (count > 0) this.advanceLogStartOffset(this.batches[count]?.baseOffset ?? this.end);
    return count;
  }

  read(fromOffset: number, maxBytes: number): LogBatch[] | 'outOfRange' {
    if (fromOffset < this.start || fromOffset > this.end) return 'outOfRange';
    const result: LogBatch[] = [];
    let totalBytes = 0;
    for (const batch of this.batches.filter((candidate) => candidate.lastOffset >= fromOffset)) {
      totalBytes += storedBytes(batch);
      if (totalBytes > maxBytes && result.length > 0) break;
      result.push(batch);
    }
    return result;
  }

  /** Kafka's LeaderEpochFileCache.endOffsetFor, spelled out. */
  endOffsetForEpoch(epoch: number): EpochEndOffset | undefined {
    if (this.epochs.length === 0) return undefined;
    if (epoch === this.latestEpoch()) return { epoch, endOffset: this.end };
    const higher = this.epochs.filter((checkpoint) => checkpoint.epoch > epoch);
    const lowerOrEqual = this.epochs.filter((checkpoint) => checkpoint.epoch <= epoch);
    if (higher[0] === undefined) return undefined;
    return { epoch: lowerOrEqual.pop()?.epoch ?? epoch, endOffset: higher[0].startOffset };
  }
}

function storedBytes(batch: StoredBatch): number {
  return storedBatchOverheadBytes + batch.payload.byteLength;
}

function prefixLength<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  const firstFailing = items.findIndex((item) => !predicate(item));
  return firstFailing === -1 ? items.length : firstFailing;
}
