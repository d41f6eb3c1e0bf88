import { describe, expect, it } from 'vitest';
import type { Checker } from './checkers/checker.js';
import { createConsistentConsumerVisibleOffsets } from './checkers/consistent-consumer-visible-offsets.js';
import { createMonotonicHighWatermark } from './checkers/monotonic-high-watermark.js';
import { createNoAcknowledgedRecordLost } from './checkers/no-acknowledged-record-lost.js';
import { createNoRecordWrittenTwice } from './checkers/no-record-written-twice.js';
import type { ReplicationObservation } from './replication-observation.js';

/** The first violation a fresh checker finds in a hand-built trace, or undefined. */
function firstViolation(create: () => Checker, trace: readonly ReplicationObservation[]): string | undefined {
  const checker = create();
  for (const observation of trace) {
    const violation = checker.observe(observation);
    if (violation !== undefined) return violation;
  }
  return undefined;
}

const partition = 0;
const wrote = (brokerId: number, offset: number, recordId: string): ReplicationObservation => ({ kind: 'replicaAppended', atMs: 1, brokerId, partition, offset, recordId });
const synced = (brokerId: number, durableEndOffset: number): ReplicationObservation => ({ kind: 'replicaSynced', atMs: 1, brokerId, partition, durableEndOffset });
const truncated = (brokerId: number, endOffset: number, inIsr: boolean): ReplicationObservation =>
  ({ kind: 'replicaTruncated', atMs: 1, brokerId, partition, endOffset, why: 'diverging epoch 1 ends at 1', inIsr });
const published = (brokerId: number, leaderEpoch: number, highWatermark: number): ReplicationObservation =>
  ({ kind: 'highWatermarkPublished', atMs: 1, brokerId, partition, leaderEpoch, highWatermark });
const followerHighWatermark = (brokerId: number, highWatermark: number): ReplicationObservation => ({ kind: 'replicaHighWatermark', atMs: 1, brokerId, partition, highWatermark });
const acknowledged = (offset: number, recordId: string, isr: number[], brokerId = 1, leaderEpoch = 1, duplicate = false): ReplicationObservation =>
  ({ kind: 'recordAcknowledged', atMs: 1, brokerId, partition, leaderEpoch, offset, recordId, duplicate, isr });
const logStartMoved = (brokerId: number, logStartOffset: number): ReplicationObservation =>
  ({ kind: 'replicaLogStartMoved', atMs: 1, brokerId, partition, logStartOffset, restarted: false });
const final = (brokerId: number, recordIds: string[], highWatermark: number, logStartOffset = 0): ReplicationObservation =>
  ({ kind: 'replicationFinal', atMs: 1, brokerId, partition, logStartOffset, recordIds, highWatermark });

/**
 * Broker 1 leads epoch 1 and writes a, b; broker 2 copies and syncs them; both are acknowledged;
 * broker 3 holds a divergent c at offset 1 above its high watermark and later reconciles; broker 2
 * leads epoch 2 and serves both to the end.
 */
const healthyTrace: ReplicationObservation[] = [
  wrote(1, 0, 'a'), wrote(1, 1, 'b'), synced(1, 2),
  wrote(3, 0, 'a'), wrote(3, 1, 'c'),
  wrote(2, 0, 'a'), wrote(2, 1, 'b'), synced(2, 2),
  published(1, 1, 2), acknowledged(0, 'a', [1, 2]), acknowledged(1, 'b', [1, 2]),
  followerHighWatermark(3, 1), followerHighWatermark(2, 2),
  truncated(3, 1, false), wrote(3, 1, 'b'), followerHighWatermark(3, 2),
  published(2, 2, 2), published(1, 1, 2), wrote(2, 2, 'd'), synced(2, 3), published(2, 2, 3),
  final(2, ['a', 'b', 'd'], 3),
];

describe('replication checkers', () => {
  it('accept a healthy trace', () => {
    for (const create of [createNoAcknowledgedRecordLost, createMonotonicHighWatermark, createConsistentConsumerVisibleOffsets, createNoRecordWrittenTwice]) {
      expect(firstViolation(create, healthyTrace)).toBeUndefined();
    }
  });

  it('noAcknowledgedRecordLost flags an ack not durable on the ISR, an in-sync replica dropping it, and a final leader without it', () => {
    const notDurable = [wrote(1, 0, 'a'), synced(1, 1), wrote(2, 0, 'a'), acknowledged(0, 'a', [1, 2])];
    expect(firstViolation(createNoAcknowledgedRecordLost, notDurable)).toBe(
      'partition 0 offset 0: broker 1 (leader epoch 1) acknowledged a while broker 2, in its ISR [1, 2], held a there, durable only below 0',
    );
    const dropped = [...healthyTrace.slice(0, 11), truncated(2, 1, true)];
    expect(firstViolation(createNoAcknowledgedRecordLost, dropped)).toBe(
      "partition 0: broker 2, in the controller's ISR, truncated its log to 1 (diverging epoch 1 ends at 1), dropping acknowledged offset 1",
    );
    expect(firstViolation(createNoAcknowledgedRecordLost, [...healthyTrace.slice(0, 11), truncated(2, 1, false)])).toBeUndefined();
    expect(firstViolation(createNoAcknowledgedRecordLost, [...healthyTrace.slice(0, 11), final(3, ['a', 'c'], 2)])).toBe(
      'partition 0 offset 1: b, acknowledged by broker 1 (leader epoch 1), is lost: the final leader 3 holds c there (its log ends at 2)',
    );
    expect(firstViolation(createNoAcknowledgedRecordLost, [...healthyTrace.slice(0, 11), final(2, ['a', 'b'], 1)])).toBe(
      "partition 0 offset 1: b, acknowledged by broker 1 (leader epoch 1), is not readable: the final leader 2's high watermark is 1",
    );
    // A deposed leader acknowledging what its successor already published and deleted by retention loses nothing.
    const deletedByRetention: ReplicationObservation[] = [
      ...healthyTrace.slice(0, 9), logStartMoved(2, 2), acknowledged(1, 'b', [1, 2]),
    ];
    expect(firstViolation(createNoAcknowledgedRecordLost, deletedByRetention)).toBeUndefined();
    expect(firstViolation(createNoAcknowledgedRecordLost, [...healthyTrace.slice(0, 11), final(2, ['b'], 2, 1)])).toBeUndefined();
    expect(firstViolation(createNoAcknowledgedRecordLost, [acknowledged(0, 'a', []), acknowledged(0, 'x', [], 2, 2)])).toBe(
      'partition 0 offset 0: broker 2 (leader epoch 2) acknowledged x, but broker 1 (leader epoch 1) had acknowledged a there',
    );
  });

  it('monotonicHighWatermark flags a value below an older epoch\'s, and a deposed leader above its successor\'s first', () => {
    expect(firstViolation(createMonotonicHighWatermark, [published(1, 1, 5), published(2, 2, 4)])).toBe(
      'partition 0: broker 2 (leader epoch 2) published high watermark 4, below 5 published by broker 1 in leader epoch 1',
    );
    expect(firstViolation(createMonotonicHighWatermark, [published(1, 1, 5), published(1, 1, 3)])).toMatch(/published high watermark 3, below 5/);
    // A deposed leader that has not learned of epoch 2 yet may still advance, up to what epoch 2 started at.
    expect(firstViolation(createMonotonicHighWatermark, [published(1, 1, 3), published(2, 2, 6), published(1, 1, 6), published(2, 2, 7)])).toBeUndefined();
    expect(firstViolation(createMonotonicHighWatermark, [published(1, 1, 3), published(2, 2, 6), published(1, 1, 7)])).toBe(
      'partition 0: broker 1 (leader epoch 1) published high watermark 7, above 6, the first published in the newer leader epoch 2 by broker 2',
    );
  });

  it('consistentConsumerVisibleOffsets flags a replica vouching for another record, or rewriting a visible offset below its high watermark', () => {
    const vouched = [wrote(1, 0, 'a'), published(1, 1, 1), wrote(2, 0, 'x'), followerHighWatermark(2, 1)];
    expect(firstViolation(createConsistentConsumerVisibleOffsets, vouched)).toBe(
      'partition 0 offset 0 is visible to consumers holding a, but broker 2 holds x there below its high watermark 1',
    );
    const rewritten = [wrote(1, 0, 'a'), published(1, 1, 1), wrote(2, 0, 'a'), followerHighWatermark(2, 1), wrote(2, 0, 'y')];
    expect(firstViolation(createConsistentConsumerVisibleOffsets, rewritten)).toMatch(/broker 2 holds y there below its high watermark 1/);
    expect(firstViolation(createConsistentConsumerVisibleOffsets, [wrote(1, 0, 'a'), published(1, 1, 2)])).toBe(
      'partition 0: broker 1 published high watermark 2 beyond its log end 1',
    );
    // A new leader whose log disagrees below the visible offsets is caught when it publishes.
    expect(firstViolation(createConsistentConsumerVisibleOffsets, [wrote(1, 0, 'a'), published(1, 1, 1), wrote(2, 0, 'z'), published(2, 2, 1)])).toMatch(
      /offset 0 is visible to consumers holding a, but broker 2 holds z/,
    );
  });

  it('noRecordWrittenTwice flags a record at two offsets of one log, acknowledged at two offsets, or read twice by a consumer', () => {
    expect(firstViolation(createNoRecordWrittenTwice, [wrote(1, 0, 'a'), wrote(1, 1, 'b'), wrote(1, 2, 'a')])).toBe(
      'partition 0: broker 1 wrote a at offset 2 while its log still held it at offset 0',
    );
    // A follower copying a leader's duplicate is caught too, durable or not.
    expect(firstViolation(createNoRecordWrittenTwice, [wrote(2, 0, 'a'), wrote(2, 1, 'a')])).toMatch(/broker 2 wrote a at offset 1 while its log still held it at offset 0/);
    expect(firstViolation(createNoRecordWrittenTwice, [acknowledged(0, 'a', [1]), acknowledged(0, 'a', [2], 2, 2, true), acknowledged(3, 'a', [2], 2, 2, true)])).toBe(
      'partition 0: broker 2 (leader epoch 2) acknowledged a at offset 3, but broker 1 (leader epoch 1) had acknowledged it at offset 0',
    );
    // Retention deleted the first copy from the log before the second was written: a consumer read both.
    const rewrittenAfterRetention = [wrote(1, 0, 'a'), wrote(1, 1, 'b'), published(1, 1, 2), logStartMoved(1, 2), wrote(1, 2, 'a'), published(1, 1, 3)];
    expect(firstViolation(createNoRecordWrittenTwice, rewrittenAfterRetention)).toBe(
      'partition 0: a consumer reads a at offset 0 and again at offset 2, below the high watermark 3 broker 1 published',
    );
  });

  it('noRecordWrittenTwice stays quiet on a record truncated away and written again, and on a retry answered with its original offset', () => {
    const sameOffset = [wrote(1, 0, 'a'), wrote(2, 0, 'a'), truncated(2, 0, false), wrote(2, 0, 'a'), published(1, 1, 1), acknowledged(0, 'a', [1, 2])];
    expect(firstViolation(createNoRecordWrittenTwice, sameOffset)).toBeUndefined();
    // A deposed leader's unreplicated copy at 1 is truncated; the retry landed at 2 on the new leader.
    const otherOffset = [
      wrote(1, 0, 'x'), wrote(1, 1, 'a'), wrote(2, 0, 'x'), wrote(2, 1, 'y'), wrote(2, 2, 'a'),
      truncated(1, 1, false), wrote(1, 1, 'y'), wrote(1, 2, 'a'), published(2, 2, 3), acknowledged(2, 'a', [1, 2], 2, 2),
    ];
    expect(firstViolation(createNoRecordWrittenTwice, otherOffset)).toBeUndefined();
    // An append at an offset the log already reached replaces what was there and after it (the mirror truncates to it).
    expect(firstViolation(createNoRecordWrittenTwice, [wrote(3, 0, 'x'), wrote(3, 1, 'a'), wrote(3, 1, 'b'), wrote(3, 2, 'a')])).toBeUndefined();
    expect(firstViolation(createNoRecordWrittenTwice, [wrote(1, 0, 'a'), published(1, 1, 1), acknowledged(0, 'a', [1]), acknowledged(0, 'a', [1], 1, 1, true)])).toBeUndefined();
  });
});
