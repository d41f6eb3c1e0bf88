import { noEpoch } from '../../broker/index.js';
import type { PartitionLeaderSource } from '../../actors/partition-replica/partition-leader-lookup.js';
import type { PartitionLeader } from '../../actors/partition-replica/partition-leader.js';
import type { Clock } from '../../actors/clock.js';
import { TributaryError } from '../../errors/index.js';
import { formatPartition } from '../../storage/index.js';
import { toErrorDetail } from '../error-status.js';
import type { PartitionFetchResult, ReplicateAck, ReplicateFetch } from '../generated/tributary/broker/v1/broker_replication_service.js';
import { type LeaderChanges, waitForLeaderChange } from './leader-changes.js';
import { wireBatchFromStored } from './record-batch-mapping.js';

/** Bounds of one follower's fetch session on this leader. */
export interface ReplicaFetchSessionLimits {
  /** Partitions one session may hold (every partition the follower replicates from this broker). */
  readonly sessionPartitionsMax: number;
  /** Longest a fetch may be held waiting for data, whatever the follower asks. */
  readonly fetchWaitMsMax: number;
  /** Batch bytes of one result, whatever the follower asks (the first-batch rule still applies). */
  readonly fetchBytesMax: number;
}

export const replicaFetchSessionDefaults: ReplicaFetchSessionLimits = { sessionPartitionsMax: 10_000, fetchWaitMsMax: 5_000, fetchBytesMax: 8 * 1024 * 1024 };

/** The follower's last listed fetch state of one partition, and what this leader last told it. */
interface SessionPartition {
  readonly topic: string;
  readonly partition: number;
  readonly name: string;
  currentLeaderEpoch: number;
  fetchOffset: number;
  lastFetchedEpoch: number;
  durableEndOffset: number;
  partitionMaxBytes: number;
  /** high watermark / log start / leader epoch of the last result sent, so unchanged partitions are left out. */
  lastSent: string;
}

interface Collected {
  readonly results: Array<{ result: PartitionFetchResult; entry: SessionPartition; sent: string }>;
  readonly bytes: number;
  /** An error or a divergence: the follower must act on it now. */
  readonly urgent: boolean;
  readonly leaders: LeaderPosition[];
}

/** A leader as one pass read it: a later difference wakes the waiting fetch. */
interface LeaderPosition {
  readonly leader: PartitionLeader;
  readonly logEndOffset: number;
  readonly highWatermark: number | undefined;
}

/**
 * One follower's incremental fetch session (KIP-227) on the leader side of a ReplicateStream: the
 * fetch state of every partition the follower listed, kept until it removes them. Each fetch is
 * answered once some partition has min bytes of batches, needs the follower's attention (an
 * error, a divergence), or the wait ran out; meanwhile it waits on the partitions' leaders, not
 * on a poll. Every read also counts as the follower's fetch, which is how the leader learns how
 * far each follower's log is durable.
 */
export class ReplicaFetchSession {
  private readonly partitions = new Map<string, SessionPartition>();
  private rotation = 0;

  constructor(
    private readonly replicaId: number,
    private readonly leaders: PartitionLeaderSource,
    private readonly clock: Clock,
    private readonly limits: ReplicaFetchSessionLimits,
    private readonly changes: LeaderChanges,
  ) {}

  /** Answers one fetch; `stop` ends the wait early (the stream closed). */
  async answer(fetch: ReplicateFetch, stop: AbortSignal): Promise<PartitionFetchResult[]> {
    this.update(fetch);
    const deadlineMs = this.clock.nowMs() + Math.min(fetch.maxWaitMs, this.limits.fetchWaitMsMax);
    const maxBytes = Math.min(fetch.maxBytes === 0 ? this.limits.fetchBytesMax : fetch.maxBytes, this.limits.fetchBytesMax);
    for (;;) {
      const collected = await this.collect(maxBytes);
      const waitMs = deadlineMs - this.clock.nowMs();
      if (stop.aborted || collected.urgent || collected.bytes >= Math.max(fetch.minBytes, 1) || waitMs <= 0 || collected.leaders.length === 0) {
        return collected.results.map(({ result, entry, sent }) => {
          entry.lastSent = sent;
          return result;
        });
      }
      await this.waitForChange(collected.leaders, deadlineMs, stop);
    }
  }

  /** A durability report between fetches: counts as a fetch at the last listed offset. */
  ack(ack: ReplicateAck): void {
    for (const { topicPartition, currentLeaderEpoch, durableEndOffset } of ack.partitions) {
      const entry = this.partitions.get(formatPartition({ topic: topicPartition?.topic ?? '', partition: topicPartition?.partition ?? 0 }));
      if (entry === undefined || entry.currentLeaderEpoch !== currentLeaderEpoch) continue;
      if (durableEndOffset < entry.durableEndOffset || durableEndOffset > entry.fetchOffset) {
        throw new TributaryError('INVALID_REQUEST', `partition "${entry.name}": acked durable end offset ${durableEndOffset} is outside ${entry.durableEndOffset}..${entry.fetchOffset} (the last reported, the fetch offset)`);
      }
      entry.durableEndOffset = durableEndOffset;
      try {
        this.leaders.leaderFor(entry.topic, entry.partition, currentLeaderEpoch).followerFetched(this.replicaId, { fetchOffset: entry.fetchOffset, durableEndOffset });
      } catch {
        // The partition moved or its epoch changed: the next fetch reports that to the follower.
      }
    }
  }

  private update(fetch: ReplicateFetch): void {
    for (const removed of fetch.removedPartitions) this.partitions.delete(formatPartition(removed));
    for (const listed of fetch.partitions) {
      const topic = listed.topicPartition?.topic ?? '';
      const partition = listed.topicPartition?.partition ?? 0;
      const name = formatPartition({ topic, partition });
      if (listed.durableEndOffset > listed.fetchOffset) {
        throw new TributaryError('INVALID_REQUEST', `partition "${name}": durable end offset ${listed.durableEndOffset} is beyond fetch offset ${listed.fetchOffset}`);
      }
      const entry = this.partitions.get(name);
      const state = {
        currentLeaderEpoch: listed.currentLeaderEpoch,
        fetchOffset: listed.fetchOffset,
        lastFetchedEpoch: listed.lastFetchedEpoch === 0 ? noEpoch : listed.lastFetchedEpoch,
        durableEndOffset: listed.durableEndOffset,
        partitionMaxBytes: listed.partitionMaxBytes === 0 ? this.limits.fetchBytesMax : listed.partitionMaxBytes,
      };
      if (entry === undefined) this.partitions.set(name, { topic, partition, name, ...state, lastSent: '' });
      else Object.assign(entry, state, { lastSent: '' });
    }
    if (this.partitions.size > this.limits.sessionPartitionsMax) {
      throw new TributaryError('INVALID_REQUEST', `the fetch session holds ${this.partitions.size} partitions, more than the ${this.limits.sessionPartitionsMax} allowed`);
    }
  }

  /** Waits for the first of: a leader's log end or high watermark moving past what the last pass saw, the deadline, `stop`. */
  private async waitForChange(positions: readonly LeaderPosition[], deadlineMs: number, stop: AbortSignal): Promise<void> {
    const changedSince = () => positions.some(({ leader, logEndOffset, highWatermark }) => leader.logEndOffset() !== logEndOffset || leader.highWatermark() !== highWatermark);
    await waitForLeaderChange({ changes: this.changes, clock: this.clock, leaders: positions.map(({ leader }) => leader), deadlineMs, stop, changedSince });
  }

  /** Reads every partition of the session once, from a rotating start so none is starved of the byte budget. */
  private async collect(maxBytes: number): Promise<Collected> {
    const entries = [...this.partitions.values()];
    const start = entries.length === 0 ? 0 : this.rotation++ % entries.length;
    const ordered = [...entries.slice(start), ...entries.slice(0, start)];
    const results: Collected['results'] = [];
    const leaders: LeaderPosition[] = [];
    let bytes = 0;
    let urgent = false;
    for (const entry of ordered) {
      const read = await this.read(entry, Math.max(0, maxBytes - bytes));
      if (read.leader !== undefined) leaders.push(read.leader);
      bytes += read.bytes;
      urgent ||= read.result.error !== undefined || read.result.divergingEpoch !== undefined;
      if (read.changed) results.push({ result: read.result, entry, sent: read.sent });
    }
    return { results, bytes, urgent, leaders };
  }

  private async read(entry: SessionPartition, budgetBytes: number) {
    const topicPartition = { topic: entry.topic, partition: entry.partition };
    let leader: PartitionLeader | undefined;
    try {
      leader = this.leaders.leaderFor(entry.topic, entry.partition, entry.currentLeaderEpoch);
      const fetched = await leader.replicaFetch(this.replicaId, {
        fetchOffset: entry.fetchOffset, lastFetchedEpoch: entry.lastFetchedEpoch, durableEndOffset: entry.durableEndOffset,
        maxBytes: Math.min(entry.partitionMaxBytes, budgetBytes),
      });
      const batches = fetched.batches.map((batch) => wireBatchFromStored(batch, entry.name));
      const bytes = batches.reduce((sum, batch) => sum + batch.records.byteLength, 0);
      const highWatermark = fetched.highWatermark ?? 0;
      const sent = `${highWatermark}/${fetched.logStartOffset}/${fetched.leaderEpoch}`;
      const result: PartitionFetchResult = {
        topicPartition, highWatermark, logStartOffset: fetched.logStartOffset, logEndOffset: fetched.logEndOffset, leaderEpoch: fetched.leaderEpoch, batches,
        divergingEpoch: fetched.diverging === undefined ? undefined : { epoch: fetched.diverging.epoch, endOffset: fetched.diverging.endOffset },
      };
      const changed = batches.length > 0 || fetched.diverging !== undefined || sent !== entry.lastSent;
      return { leader: { leader, logEndOffset: fetched.logEndOffset, highWatermark: fetched.highWatermark }, result, bytes, sent, changed };
    } catch (error) {
      // OFFSET_OUT_OF_RANGE needs the leader's log start: the follower restarts its log there.
      const bounds = leader === undefined
        ? { highWatermark: 0, logStartOffset: 0, logEndOffset: 0, leaderEpoch: 0 }
        : { highWatermark: leader.highWatermark() ?? 0, logStartOffset: leader.logStartOffset(), logEndOffset: leader.logEndOffset(), leaderEpoch: leader.leaderEpoch };
      const result: PartitionFetchResult = { topicPartition, error: toErrorDetail(TributaryError.from(error)), ...bounds, batches: [] };
      return { leader: undefined, result, bytes: 0, sent: 'error', changed: true };
    }
  }
}
