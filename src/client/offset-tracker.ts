import assert from 'node:assert/strict';
import { TributaryError } from '../errors/index.js';
import type { OffsetCommit } from '../rpc/clients/index.js';
import { keyOf } from './record-accumulator.js';

/** An offset to commit: the next record to read (the one after the last processed), Kafka's convention. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

interface TrackedPartition {
  readonly topic: string;
  readonly partition: number;
  /** The offset after the last record processed; undefined until one is. */
  processed: number | undefined;
  /** The highest offset this member committed for the partition in this generation. */
  committed: number | undefined;
}

/**
 * What a group member has processed and committed for the partitions it owns in one generation,
 * pure. It keeps commits monotonic for the member: the coordinator accepts an offset going
 * backwards within a generation (an explicit replay), so a member that never means to replay must
 * not send one, e.g. an auto commit racing an explicit one.
 */
export class OffsetTracker {
  private readonly partitions = new Map<string, TrackedPartition>();
  private generation = 0;

  constructor(private readonly partitionsMax: number) {}

  /** A new generation with its owned partitions: commits of the previous one no longer count. */
  startGeneration(generation: number, owned: ReadonlyArray<{ topic: string; partition: number }>): void {
    assert.ok(generation > this.generation || this.partitions.size === 0, `generation ${generation} after ${this.generation}`);
    if (owned.length > this.partitionsMax) throw new TributaryError('RESOURCE_EXHAUSTED', `${owned.length} partitions assigned; a consumer owns at most ${this.partitionsMax}`);
    this.generation = generation;
    this.partitions.clear();
    for (const { topic, partition } of owned) this.partitions.set(keyOf(topic, partition), { topic, partition, processed: undefined, committed: undefined });
  }

  /** Partitions given up: nothing more is committed for them. */
  clear(): void {
    this.partitions.clear();
  }

  owns(topic: string, partition: number): boolean {
    return this.partitions.has(keyOf(topic, partition));
  }

  /** Marks the record at `offset` processed; offsets only move forward (a lower one is a stale record and ignored). */
  processed(topic: string, partition: number, offset: number): void {
    const tracked = this.partitions.get(keyOf(topic, partition));
    if (tracked === undefined) return;
    tracked.processed = Math.max(tracked.processed ?? 0, offset + 1);
  }

  /** Processed positions above what was committed: what an auto commit sends. */
  pending(): PartitionOffset[] {
    return [...this.partitions.values()]
      .filter((tracked) => tracked.processed !== undefined && tracked.processed > (tracked.committed ?? -1))
      .map((tracked) => ({ topic: tracked.topic, partition: tracked.partition, offset: tracked.processed ?? 0 }));
  }

  /**
   * The explicit commits worth sending: offsets equal to the committed one are dropped; a partition
   * not owned or an offset below the committed one is INVALID_REQUEST naming both.
   */
  explicit(offsets: readonly PartitionOffset[]): PartitionOffset[] {
    return offsets.filter(({ topic, partition, offset }) => {
      const tracked = this.partitions.get(keyOf(topic, partition));
      if (tracked === undefined) throw new TributaryError('INVALID_REQUEST', `partition ${topic}-${partition} is not owned by this member in generation ${this.generation}; it cannot commit it`);
      if (!Number.isSafeInteger(offset) || offset < 0) throw new TributaryError('INVALID_REQUEST', `partition ${topic}-${partition}: offset ${offset} to commit must be a non-negative integer`);
      if (tracked.committed !== undefined && offset < tracked.committed) {
        throw new TributaryError('INVALID_REQUEST', `partition ${topic}-${partition}: offset ${offset} is below ${tracked.committed}, which this member already committed in generation ${this.generation}`);
      }
      return offset !== tracked.committed;
    });
  }

  /** Records an acknowledged commit; a partition given up meanwhile is ignored. */
  committed(offsets: readonly PartitionOffset[]): void {
    for (const { topic, partition, offset } of offsets) {
      const tracked = this.partitions.get(keyOf(topic, partition));
      if (tracked !== undefined) tracked.committed = Math.max(tracked.committed ?? 0, offset);
    }
  }

  /** The wire form of `offsets` (no leader epoch or metadata: the SDK does not track them yet). */
  static toCommits(offsets: readonly PartitionOffset[]): OffsetCommit[] {
    return offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset, leaderEpoch: 0, metadata: '' }));
  }
}
