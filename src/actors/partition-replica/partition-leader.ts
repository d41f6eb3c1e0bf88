import assert from 'node:assert/strict';
import { type FollowerFetch, type HighWatermarkChange, LeaderPartitionState, type LeaderPartitionStateOptions, PendingAcks } from '../../broker/index.js';
import { TributaryError } from '../../errors/index.js';
import { type AppendedBatch, formatPartition, type LogBatch, type PartitionLog, type StoredBatch } from '../../storage/index.js';
import type { Clock } from '../clock.js';

/** How many replicas must have a batch before its producer is answered (Kafka's acks). */
export type Acks = 'none' | 'leader' | 'all';

/**
 * One leader epoch's start: what the metadata says and what the leader knew as a follower (0
 * after a restart: KIP-207 covers it). The log supplies the rest of LeaderPartitionState's start.
 */
export interface PartitionLeaderOptions
  extends Pick<LeaderPartitionStateOptions, 'leaderId' | 'leaderEpoch' | 'partitionEpoch' | 'replicas' | 'isr' | 'minInSyncReplicas' | 'highWatermark' | 'replicaLagTimeMaxMs'> {
  readonly log: PartitionLog;
  readonly clock: Clock;
  /** Bound on acks=all writes waiting for the high watermark at once. */
  readonly pendingAcksMax: number;
}

/** Records a reader may see: whole batches below the high watermark. */
export interface LeaderRead {
  readonly batches: LogBatch[];
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
}

interface AckWaiter {
  readonly resolve: () => void;
  readonly reject: (error: TributaryError) => void;
}

/**
 * The leader of one partition for one leader epoch, on the hot path: produce and read are plain
 * calls, not actor messages (DESIGN.md §8). Appends take the next offsets in the log and resolve
 * once durable here (the log's group commit); acks=all waits further, until the high watermark
 * of LeaderPartitionState (the durable end of every in-sync replica) covers the batch. Readers
 * see only whole batches below the high watermark, and nothing before it is published (KIP-207).
 * `resign` ends the epoch: every waiting write fails with NOT_LEADER and new calls are refused.
 */
export class PartitionLeader {
  readonly partition: string;
  private readonly state: LeaderPartitionState;
  private readonly waiting: PendingAcks<AckWaiter>;
  private resignation: TributaryError | undefined;
  /** Settled at the next change readers wait for; replaced after each, so waiters never pile up. */
  private nextChange = changeSignal();

  constructor(private readonly options: PartitionLeaderOptions) {
    const { log } = options;
    this.partition = formatPartition(log.partition);
    const endOffset = log.logEndOffset();
    const { leaderId, leaderEpoch, partitionEpoch, replicas, isr, minInSyncReplicas, replicaLagTimeMaxMs } = options;
    this.state = new LeaderPartitionState({
      partition: this.partition,
      ...{ leaderId, leaderEpoch, partitionEpoch, replicas, isr, minInSyncReplicas, replicaLagTimeMaxMs },
      epochStartOffset: endOffset,
      highWatermark: Math.min(options.highWatermark, endOffset),
      leaderLogEndOffset: endOffset,
      leaderDurableEndOffset: endOffset,
      nowMs: options.clock.nowMs(),
    });
    this.waiting = new PendingAcks({ partition: this.partition, pendingAcksMax: options.pendingAcksMax });
    // A leader alone in its ISR has its high watermark at once; otherwise it waits for fetches.
    this.state.leaderDurable(endOffset);
  }

  get leaderEpoch(): number {
    return this.options.leaderEpoch;
  }

  /** The published high watermark; undefined until this epoch has caught up to its start (KIP-207). */
  highWatermark(): number | undefined {
    return this.state.highWatermark();
  }

  /** The offset after the last durable record here. */
  logEndOffset(): number {
    return this.options.log.logEndOffset();
  }

  logStartOffset(): number {
    return this.options.log.logStartOffset();
  }

  /**
   * Settles at the next change a long-poll waits for: the high watermark advanced (consumers), the
   * log end advanced (followers), or the epoch ended. Every caller shares one promise, so any
   * number of waiting fetches costs one; a waiter re-checks its own condition after it settles.
   */
  changed(): Promise<void> {
    return this.nextChange.promise;
  }

  /**
   * Appends `batch` in this leader's epoch. Resolves with its offsets once `acks` holds: at once
   * when durable here for `none` and `leader` (the caller does not wait for `none`), when the high
   * watermark covers it for `all`. acks=all fails first with NOT_ENOUGH_REPLICAS when the ISR is
   * below min in-sync replicas, and with TIMEOUT after `timeoutMs` (the batch may still commit).
   */
  async append(batch: Omit<StoredBatch, 'partitionLeaderEpoch'>, acks: Acks, timeoutMs: number): Promise<AppendedBatch> {
    this.assertLeading();
    if (acks === 'all') this.state.assertEnoughReplicas();
    const appended = await this.options.log.append({ ...batch, partitionLeaderEpoch: this.options.leaderEpoch });
    this.afterDurable();
    if (acks !== 'all') return appended;
    // The epoch may have ended while the batch was being written: a new leader may truncate it.
    this.assertLeading();
    await this.waitForHighWatermark(appended.lastOffset, timeoutMs);
    return appended;
  }

  /**
   * Batches from `fromOffset` within `maxBytes`, cut at the high watermark. An offset between the
   * high watermark and the log end reads nothing yet; one outside [log start, log end] is
   * OFFSET_OUT_OF_RANGE naming the range.
   */
  async read(fromOffset: number, maxBytes: number): Promise<LeaderRead> {
    this.assertLeading();
    const highWatermark = this.state.highWatermark();
    if (highWatermark === undefined) {
      throw new TributaryError('NOT_AVAILABLE', `partition "${this.partition}": the new leader (epoch ${this.options.leaderEpoch}) has not caught up yet; retry shortly`, { retriable: true });
    }
    const { log } = this.options;
    const bounds = { highWatermark, logStartOffset: log.logStartOffset(), logEndOffset: log.logEndOffset() };
    if (fromOffset >= highWatermark && fromOffset <= bounds.logEndOffset) return { batches: [], ...bounds };
    const batches = await log.read(fromOffset, maxBytes);
    return { batches: batches.filter((batch) => batch.lastOffset < highWatermark), ...bounds };
  }

  /**
   * A follower's fetch that divergingEpoch accepted (the replication service checks it first):
   * its durable end may move the high watermark, releasing acks=all writes.
   */
  followerFetched(replicaId: number, fetch: FollowerFetch): void {
    this.assertLeading();
    this.release(this.state.followerFetched(replicaId, fetch, this.options.clock.nowMs()));
  }

  /** The controller committed an ISR for this epoch (a metadata change): it may move the high watermark. */
  isrCommitted(isr: readonly number[], partitionEpoch: number): void {
    this.assertLeading();
    this.release(this.state.isrChangeCommitted(isr, partitionEpoch));
  }

  /** Ends this epoch (a newer leader, or the partition left this broker): waiting writes fail with NOT_LEADER. */
  resign(reason: string): void {
    if (this.resignation !== undefined) return;
    this.resignation = new TributaryError('NOT_LEADER', `partition "${this.partition}": this broker no longer leads it (${reason}); refresh metadata and retry`, { retriable: true });
    for (const waiter of this.waiting.takeAll()) waiter.reject(this.resignation);
    this.signalChange();
  }

  private afterDurable(): void {
    const durableEnd = this.options.log.logEndOffset();
    this.state.leaderAppended(durableEnd);
    this.release(this.state.leaderDurable(durableEnd));
    this.signalChange();
  }

  private release(change: HighWatermarkChange): void {
    if (!change.advanced || change.highWatermark === undefined) return;
    for (const waiter of this.waiting.takeSatisfied(change.highWatermark)) waiter.resolve();
    this.signalChange();
  }

  private signalChange(): void {
    const settled = this.nextChange;
    this.nextChange = changeSignal();
    settled.resolve();
  }

  private waitForHighWatermark(lastOffset: number, timeoutMs: number): Promise<void> {
    const highWatermark = this.state.highWatermark();
    if (highWatermark !== undefined && lastOffset < highWatermark) return Promise.resolve();
    assert.ok(Number.isSafeInteger(timeoutMs) && timeoutMs > 0, `acks=all needs a positive timeout, got ${timeoutMs}`);
    return new Promise((resolve, reject) => {
      let settled = false;
      let cancelTimer: () => void = () => undefined;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        cancelTimer();
        outcome();
      };
      // A waiter that timed out stays queued, settled, until the high watermark passes it: the
      // queue stays bounded by pendingAcksMax, and a stuck high watermark is what fills it.
      this.waiting.add(lastOffset, { resolve: () => settle(resolve), reject: (error) => settle(() => reject(error)) });
      cancelTimer = this.options.clock.setTimer(timeoutMs, () =>
        settle(() => reject(new TributaryError('TIMEOUT', `partition "${this.partition}": offset ${lastOffset} was not replicated to the in-sync replicas within ${timeoutMs} ms; it may still commit`, { retriable: true }))),
      );
    });
  }

  private assertLeading(): void {
    if (this.resignation !== undefined) throw this.resignation;
  }
}

/** A promise with its resolve function (Promise.withResolvers is Node 22; we run on 20). */
function changeSignal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}
