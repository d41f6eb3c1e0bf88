import assert from 'node:assert/strict';
import { checksumValue, corruptRecord, verifyChecksummedValue } from './checksummed-value.js';
import type { BatchProducer } from './stored-batch.js';

/**
 * What a partition log knows about each stored batch without reading it: stored under its own
 * small key beside the batch (storage-keys.ts `11`), so opening a log reads these, not the
 * batches; retention by bytes or time needs no batch reads, and a new leader rebuilds its
 * idempotent producers' state from the summaries' producer fields.
 */
export interface BatchSummary {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestampMs: number;
  /** Length of the stored batch value, checksum and header included. */
  readonly storedBytes: number;
  /** Undefined for a batch of a producer that is not idempotent. */
  readonly producer?: BatchProducer | undefined;
}

/** Four u64 numbers; a batch of an idempotent producer adds producer id u64, epoch u32 and base sequence u32. */
const summaryBytes = 4 * 8;
const producerSummaryBytes = summaryBytes + 8 + 4 + 4;

export function encodeBatchSummary(summary: BatchSummary): Uint8Array {
  const { producer } = summary;
  const payload = new Uint8Array(producer === undefined ? summaryBytes : producerSummaryBytes);
  const view = new DataView(payload.buffer);
  [summary.baseOffset, summary.lastOffset, summary.maxTimestampMs, summary.storedBytes].forEach((value, position) => setUint64(view, position * 8, value));
  if (producer !== undefined) {
    setUint64(view, summaryBytes, producer.producerId);
    view.setUint32(summaryBytes + 8, producer.producerEpoch);
    view.setUint32(summaryBytes + 12, producer.baseSequence);
  }
  return checksumValue(payload);
}

/** The summary stored as `where` (partition, offset, database) names it; CORRUPT_RECORD if damaged. */
export function decodeBatchSummary(bytes: Uint8Array, where: string): BatchSummary {
  const payload = verifyChecksummedValue(bytes, where);
  if (payload.byteLength !== summaryBytes && payload.byteLength !== producerSummaryBytes) {
    throw corruptRecord(where, `it is ${payload.byteLength} bytes, not ${summaryBytes} or ${producerSummaryBytes}`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const numberAt = (position: number): number => getUint64(view, position * 8);
  const summary = { baseOffset: numberAt(0), lastOffset: numberAt(1), maxTimestampMs: numberAt(2), storedBytes: numberAt(3) };
  if (payload.byteLength === summaryBytes) return summary;
  const producer = { producerId: getUint64(view, summaryBytes), producerEpoch: view.getUint32(summaryBytes + 8), baseSequence: view.getUint32(summaryBytes + 12) };
  return { ...summary, producer };
}

function setUint64(view: DataView, position: number, value: number): void {
  view.setUint32(position, Math.floor(value / 2 ** 32));
  view.setUint32(position + 4, value >>> 0);
}

function getUint64(view: DataView, position: number): number {
  return view.getUint32(position) * 2 ** 32 + view.getUint32(position + 4);
}

/** A partition's batch summaries in offset order, contiguous: each starts where the previous ended. */
export class BatchIndex {
  private summaries: BatchSummary[] = [];
  private totalBytes = 0;

  get length(): number {
    return this.summaries.length;
  }

  at(position: number): BatchSummary | undefined {
    return this.summaries[position];
  }

  last(): BatchSummary | undefined {
    return this.summaries[this.summaries.length - 1];
  }

  sizeBytes(): number {
    return this.totalBytes;
  }

  push(summary: BatchSummary): void {
    const previous = this.last();
    assert.ok(
      previous === undefined || summary.baseOffset === previous.lastOffset + 1,
      `batch at ${summary.baseOffset} does not follow the one ending at ${previous?.lastOffset}`,
    );
    this.summaries.push(summary);
    this.totalBytes += summary.storedBytes;
  }

  /** Position of the first batch whose last offset is at or after `offset`; `length` if none. */
  positionOf(offset: number): number {
    let low = 0;
    let high = this.summaries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.summaries[middle] as BatchSummary).lastOffset < offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Every summary, oldest first. */
  [Symbol.iterator](): IterableIterator<BatchSummary> {
    return this.summaries.values();
  }

  slice(from: number, to: number): BatchSummary[] {
    return this.summaries.slice(from, to);
  }

  /** Removes and returns the batches from `position` on. */
  removeFrom(position: number): BatchSummary[] {
    const removed = this.summaries.splice(position);
    this.totalBytes -= removed.reduce((total, summary) => total + summary.storedBytes, 0);
    return removed;
  }

  /** Removes and returns the batches before `position`. */
  removeBefore(position: number): BatchSummary[] {
    const removed = this.summaries.splice(0, position);
    this.totalBytes -= removed.reduce((total, summary) => total + summary.storedBytes, 0);
    return removed;
  }
}
