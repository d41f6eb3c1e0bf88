import assert from 'node:assert/strict';
import { checksumValue, corruptRecord, verifyChecksummedValue } from './checksummed-value.js';

/**
 * What a partition log knows about each stored batch without reading it: stored under its own
 * small key beside the batch (storage-keys.ts `11`), so opening a log reads these, not the
 * batches, and retention by bytes or time needs no batch reads.
 */
export interface BatchSummary {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestampMs: number;
  /** Length of the stored batch value, checksum and header included. */
  readonly storedBytes: number;
}

const summaryBytes = 4 * 8;

export function encodeBatchSummary(summary: BatchSummary): Uint8Array {
  const payload = new Uint8Array(summaryBytes);
  const view = new DataView(payload.buffer);
  [summary.baseOffset, summary.lastOffset, summary.maxTimestampMs, summary.storedBytes].forEach((value, position) => {
    view.setUint32(position * 8, Math.floor(value / 2 ** 32));
    view.setUint32(position * 8 + 4, value >>> 0);
  });
  return checksumValue(payload);
}

/** The summary stored as `where` (partition, offset, database) names it; CORRUPT_RECORD if damaged. */
export function decodeBatchSummary(bytes: Uint8Array, where: string): BatchSummary {
  const payload = verifyChecksummedValue(bytes, where);
  if (payload.byteLength !== summaryBytes) throw corruptRecord(where, `it is ${payload.byteLength} bytes, not ${summaryBytes}`);
  const view = new DataView(payload.buffer, payload.byteOffset, summaryBytes);
  const numberAt = (position: number): number => view.getUint32(position * 8) * 2 ** 32 + view.getUint32(position * 8 + 4);
  return { baseOffset: numberAt(0), lastOffset: numberAt(1), maxTimestampMs: numberAt(2), storedBytes: numberAt(3) };
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
