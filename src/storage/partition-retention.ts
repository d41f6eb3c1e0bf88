import assert from 'node:assert/strict';
import type { BatchIndex } from './batch-index.js';
import type { RetentionRequest } from './partition-log.js';

/**
 * How many batches from the start breach retention, with Kafka's rules: by time, those whose max
 * timestamp is more than retentionMs before nowMs, up to the first that is not; by bytes, the
 * oldest while the log would still hold at least retentionBytes without them. A batch goes if
 * either rule takes it, and never one holding `offsetLimit` (the high watermark) or later.
 */
export function countBatchesBreachingRetention(index: BatchIndex, request: RetentionRequest, logEndOffset: number): number {
  assertRetentionRequest(request);
  const { nowMs, retentionMs, retentionBytes } = request;
  const offsetLimit = request.offsetLimit ?? logEndOffset;
  let remainingBytes = index.sizeBytes();
  let timeRuleApplies = retentionMs !== undefined;
  let count = 0;
  for (let summary = index.at(0); summary !== undefined && summary.lastOffset < offsetLimit; summary = index.at(count)) {
    const byTime = timeRuleApplies && nowMs - summary.maxTimestampMs > (retentionMs as number);
    // Time retention removes a prefix: once one batch is young enough, later ones stay for it.
    timeRuleApplies = byTime;
    const byBytes = retentionBytes !== undefined && remainingBytes - summary.storedBytes >= retentionBytes;
    if (!byTime && !byBytes) break;
    remainingBytes -= summary.storedBytes;
    count += 1;
  }
  return count;
}

function assertRetentionRequest(request: RetentionRequest): void {
  const named: Array<[string, number | undefined]> = [
    ['nowMs', request.nowMs],
    ['retentionMs', request.retentionMs],
    ['retentionBytes', request.retentionBytes],
    ['offsetLimit', request.offsetLimit],
  ];
  for (const [name, value] of named) {
    assert.ok(value === undefined || (Number.isSafeInteger(value) && value >= 0), `${name} must be a safe non-negative integer, got ${value}`);
  }
}
