import assert from 'node:assert/strict';
import {
  divergingEpoch, type EpochEndOffset, type FetchPosition, type FollowerFetch, type HighWatermarkChange, type IsrChangeProposal, LeaderPartitionState,
  type LeaderPartitionStateOptions, PendingAcks, type ProducerBatchEntry, ProducerStateTable,
} from '../../broker/index.js';
import { TributaryError } from '../../errors/index.js';
import { type AppendedBatch, formatPartition, type LogBatch, type PartitionLog, type RetentionResult, type StoredBatch } from '../../storage/index.js';
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
  /**
   * Sends an ISR proposal to the controller (AlterPartition) and answers the partition as it is
   * afterwards (on success, or the current state when the proposal was stale), or undefined when
   * it could not be decided (no controller, a timeout): then the proposal is dropped and made
   * again after `isrCheckIntervalMs`.
   */
  readonly alterIsr: (proposal: IsrChangeProposal) => Promise<CommittedIsr | undefined>;
  /** How often the leader looks for followers to drop from or add to the ISR between fetches. */
  readonly isrCheckIntervalMs: number;
  /** Idempotent producers the partition tracks at once (ProducerStateTable's producersMax). */
  readonly producersMax: number;
  /** A producer with no batch for this long is forgotten (Kafka's producer.id.expiration.ms). */
  readonly producerIdleMsMax: number;
}

/** Where a produced batch is: newly appended, or (`duplicate`) a retry answered with the original's offsets. */
export interface LeaderAppend extends AppendedBatch {
  readonly duplicate: boolean;
}

/** A partition's ISR as the controller committed it. */
export interface CommittedIsr {
  readonly isr: readonly number[];
  readonly partitionEpoch: number;
}

/** One follower's fetch as the replication service received it (domain terms: no epoch is `noEpoch`). */
export interface ReplicaFetchRequest extends FetchPosition {
  readonly durableEndOffset: number;
  /**
   * Most batch bytes to return; at least one batch is returned when any exists. 0 returns none
   * (the answer's byte budget is spent): the fetch still counts as the follower's position.
   */
  readonly maxBytes: number;
}

/** What the leader answers one follower's fetch of this partition. */
export interface ReplicaFetchResult {
  /** Whole batches from the fetch offset, including those above the high watermark: followers copy the whole log. */
  readonly batches: LogBatch[];
  /** Set when the follower's log departs from the leader's: it truncates and fetches again. */
  readonly diverging: EpochEndOffset | undefined;
  /** The published high watermark; undefined before this epoch published one (KIP-207). */
  readonly highWatermark: number | undefined;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly leaderEpoch: number;
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
  /** Built from the log's batches at the epoch's start, then fed every append as it takes its offsets. */
  private readonly producers: ProducerStateTable;
  /**
   * Where the next append lands, ahead of the durable log end while appends are in flight: a
   * producer's pipelined batches are checked against the ones before them before those are
   * durable. The log asserts each append lands exactly here (OFFSET_MISMATCH otherwise).
   */
  private nextOffset: number;
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
    this.producers = ProducerStateTable.rebuilt({ partition: this.partition, producersMax: options.producersMax }, log.batchSummaries());
    this.producers.expire(options.clock.nowMs(), options.producerIdleMsMax);
    this.nextOffset = endOffset;
    // A leader alone in its ISR has its high watermark at once; otherwise it waits for fetches.
    this.state.leaderDurable(endOffset);
    this.scheduleIsrCheck();
  }

  get leaderEpoch(): number {
    return this.options.leaderEpoch;
  }

  /** The published high watermark; undefined until this epoch has caught up to its start (KIP-207). */
  highWatermark(): number | undefined {
    return this.state.highWatermark();
  }

  /** Whether the committed ISR lacks one of the partition's replicas. */
  underReplicated(): boolean {
    return this.state.isrList().length < this.options.replicas.length;
  }

  /**
   * The offset after the last record appended here (Kafka's log end offset), durable or not yet:
   * followers may copy records before this leader's fsync finishes (`replicaFetch`).
   */
  logEndOffset(): number {
    return this.options.log.appendedEndOffset();
  }

  logStartOffset(): number {
    return this.options.log.logStartOffset();
  }

  /** Where the next append lands, ahead of the log's end while appends wait in its queue: `append` takes it synchronously. */
  nextAppendOffset(): number {
    return this.nextOffset;
  }

  /**
   * Settles at the next change a long-poll waits for: the high watermark advanced (consumers), the
   * log end advanced (followers), or the epoch ended. Every caller shares one promise, so any
   * number of waiting fetches costs one; a waiter re-checks its own condition after it settles.
   * A promise keeps every reaction until it settles, so a waiter that may give up first (a
   * long-poll's deadline) subscribes through rpc/services/leader-changes.ts instead of reacting
   * here itself: that keeps one reaction per leader however often polls time out.
   */
  changed(): Promise<void> {
    return this.nextChange.promise;
  }

  /**
   * Appends `batch` in this leader's epoch. Resolves with its offsets once `acks` holds: at once
   * when durable here for `none` and `leader` (the caller does not wait for `none`), when the high
   * watermark covers it for `all`. acks=all fails first with NOT_ENOUGH_REPLICAS when the ISR is
   * below min in-sync replicas, and with TIMEOUT after `timeoutMs` (the batch may still commit).
   * A batch of an idempotent producer is checked against the producer's state first (FENCED,
   * OUT_OF_ORDER_SEQUENCE, UNKNOWN_PRODUCER_ID); a retry of one of its last batches is not stored
   * again but answered with the original's offsets, once the original satisfies `acks`.
   * Everything up to the log's append runs synchronously, so calls are appended in call order.
   */
  async append(batch: Omit<StoredBatch, 'partitionLeaderEpoch'>, acks: Acks, timeoutMs: number): Promise<LeaderAppend> {
    this.assertLeading();
    if (acks === 'all') this.state.assertEnoughReplicas();
    const original = this.retriedBatch(batch);
    if (original !== undefined) return this.answerRetry(original, acks, timeoutMs);
    const baseOffset = this.nextOffset;
    this.nextOffset += batch.recordCount;
    if (batch.producer !== undefined) this.producers.appended({ ...batch.producer, recordCount: batch.recordCount }, baseOffset, batch.maxTimestampMs);
    const durable = this.options.log.append({ ...batch, partitionLeaderEpoch: this.options.leaderEpoch }, { baseOffset });
    // Followers may fetch the batch now: their fsync runs beside this leader's (REPLICATION.md).
    this.state.leaderAppended(this.nextOffset);
    this.signalChange();
    const appended = await durable;
    this.afterDurable();
    if (acks !== 'all') return { ...appended, duplicate: false };
    // The epoch may have ended while the batch was being written: a new leader may truncate it.
    this.assertLeading();
    await this.waitForHighWatermark(appended.lastOffset, timeoutMs);
    return { ...appended, duplicate: false };
  }

  /** The original of a retried batch; undefined for a batch to append; throws for one to refuse. */
  private retriedBatch(batch: Omit<StoredBatch, 'partitionLeaderEpoch'>): Pick<ProducerBatchEntry, 'firstOffset' | 'lastOffset'> | undefined {
    if (batch.producer === undefined) return undefined;
    const verdict = this.producers.check({ ...batch.producer, recordCount: batch.recordCount });
    return verdict.kind === 'duplicate' ? verdict : undefined;
  }

  /** A retry waits for what its original needs: the high watermark for acks=all, durability here otherwise. */
  private async answerRetry(original: Pick<ProducerBatchEntry, 'firstOffset' | 'lastOffset'>, acks: Acks, timeoutMs: number): Promise<LeaderAppend> {
    if (acks === 'all') await this.waitForHighWatermark(original.lastOffset, timeoutMs);
    else if (original.lastOffset >= this.options.log.logEndOffset()) await this.options.log.settled();
    this.assertLeading();
    return { baseOffset: original.firstOffset, lastOffset: original.lastOffset, duplicate: true };
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
    const bounds = { highWatermark, logStartOffset: log.logStartOffset(), logEndOffset: log.appendedEndOffset() };
    if (fromOffset >= highWatermark && fromOffset <= bounds.logEndOffset) return { batches: [], ...bounds };
    const batches = await log.read(fromOffset, maxBytes);
    return { batches: batches.filter((batch) => batch.lastOffset < highWatermark), ...bounds };
  }

  /**
   * Whole batches of this leader's log from `fromOffset` within `maxBytes`, past the high
   * watermark too (appends not yet durable included): for state the leader keeps of its own log
   * (the ingest sessions, which a new leader replays), never for clients, which see only `read`.
   */
  async readLog(fromOffset: number, maxBytes: number): Promise<LogBatch[]> {
    this.assertLeading();
    return this.options.log.read(fromOffset, maxBytes, { unsynced: true });
  }

  /**
   * A follower's fetch that divergingEpoch accepted (the replication service checks it first):
   * its durable end may move the high watermark, releasing acks=all writes.
   */
  followerFetched(replicaId: number, fetch: FollowerFetch): void {
    this.assertLeading();
    this.release(this.state.followerFetched(replicaId, fetch, this.options.clock.nowMs()));
  }

  /**
   * One follower's fetch of this partition (the replication service validated the epoch). A log
   * that departs from this leader's gets the diverging epoch and no records, and its offsets are
   * not counted (they name records this leader does not have). Otherwise the fetch counts toward
   * the high watermark and ISR membership, and the follower gets the batches from its offset.
   */
  async replicaFetch(replicaId: number, fetch: ReplicaFetchRequest): Promise<ReplicaFetchResult> {
    this.assertLeading();
    const { log } = this.options;
    const leaderEnd = fetch.lastFetchedEpoch < 0 ? undefined : log.endOffsetForEpoch(fetch.lastFetchedEpoch);
    const diverging = divergingEpoch(fetch, leaderEnd, log.logStartOffset());
    let batches: LogBatch[] = [];
    if (diverging === undefined) {
      this.release(this.state.followerFetched(replicaId, fetch, this.options.clock.nowMs()));
      this.proposeIsrChange();
      if (fetch.maxBytes > 0) batches = await log.read(fetch.fetchOffset, fetch.maxBytes, { unsynced: true });
    }
    return {
      batches, diverging, highWatermark: this.state.highWatermark(), logStartOffset: log.logStartOffset(), logEndOffset: log.appendedEndOffset(), leaderEpoch: this.options.leaderEpoch,
    };
  }

  /**
   * Where `epoch` ends in this leader's log (GetLeaderEpoch): the largest epoch at or below it and
   * the offset after its last record. This leader's own epoch, and an epoch after the last one
   * written, end at the log end; an empty log answers epoch 0 at its end.
   */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    this.assertLeading();
    const { log } = this.options;
    const latest = log.leaderEpochCheckpoints().at(-1);
    if (epoch >= this.options.leaderEpoch) return { epoch: this.options.leaderEpoch, endOffset: log.appendedEndOffset() };
    if (latest === undefined || epoch > latest.epoch) return { epoch: latest?.epoch ?? 0, endOffset: log.appendedEndOffset() };
    return log.endOffsetForEpoch(epoch) ?? { epoch: 0, endOffset: log.logStartOffset() };
  }

  /**
   * Deletes whole batches from the front that breach the topic's retention (`undefined` keeps
   * by that rule), never one holding the high watermark or later: a record is kept at least
   * until every in-sync replica has it. Followers follow the new log start from their next fetch.
   */
  async enforceRetention(retentionMs: number | undefined, retentionBytes: number | undefined): Promise<RetentionResult | undefined> {
    const highWatermark = this.state.highWatermark();
    if (this.resignation !== undefined || highWatermark === undefined) return undefined;
    const result = await this.options.log.enforceRetention({ nowMs: this.options.clock.nowMs(), retentionMs, retentionBytes, offsetLimit: highWatermark });
    if (result.deletedBatches > 0) this.signalChange();
    return result;
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
    this.cancelIsrCheck();
    this.signalChange();
  }

  /**
   * Sends the ISR change due now, if any (one in flight at a time, KIP-497). The answer, or a
   * metadata delta that gets here first, commits it; a failure drops it, so a later check can
   * propose again.
   */
  private proposeIsrChange(): void {
    const proposal = this.state.proposeIsrChange(this.options.clock.nowMs());
    if (proposal === undefined) return;
    this.options.alterIsr(proposal).then(
      (committed) => {
        if (this.resignation !== undefined) return;
        if (committed !== undefined) this.isrCommitted(committed.isr, committed.partitionEpoch);
        // Ends the proposal unless the commit just did: a stale or undecided one is dropped.
        this.release(this.state.isrChangeFailed(proposal));
      },
      // alterIsr answers undefined for the failures it knows; anything else is dropped the same way.
      () => {
        if (this.resignation === undefined) this.release(this.state.isrChangeFailed(proposal));
      },
    );
  }

  private cancelIsrCheck: () => void = () => undefined;

  /** A follower that stopped fetching sends nothing that would trigger a check: the timer does. */
  private scheduleIsrCheck(): void {
    this.cancelIsrCheck = this.options.clock.setTimer(this.options.isrCheckIntervalMs, () => {
      if (this.resignation !== undefined) return;
      this.proposeIsrChange();
      // The same timer forgets idle producers: often enough, and no timer of its own per partition.
      this.producers.expire(this.options.clock.nowMs(), this.options.producerIdleMsMax);
      this.scheduleIsrCheck();
    });
  }

  private afterDurable(): void {
    const durableEnd = this.options.log.logEndOffset();
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

  /** NOT_LEADER once this epoch has ended (`resign`). */
  assertLeading(): void {
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
