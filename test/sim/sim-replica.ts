import {
  divergingEpoch, FollowerHighWatermark, LeaderPartitionState, PendingAcks, ProducerStateTable, truncationOffset, validateLeaderEpoch,
  type HighWatermarkChange, type IsrChangeProposal, type ProducerCheck,
} from '../../src/broker/index.js';
import { noLeader, type PartitionRecord } from '../../src/controller/index.js';
import { TributaryError } from '../../src/errors/index.js';
import type { Prng } from './prng.js';
import { ReplicaLog, type ReplicaRecord } from './replica-log.js';
import type { ReplicationBug } from './replication-bugs.js';
import type { FetchResult, ReplicationMessage } from './replication-messages.js';
import type { ReplicationObservation } from './replication-observation.js';
import type { CrashFaults } from './simulated-disk.js';

/** Records one fetch response carries at most. */
export const fetchRecordsMax = 16;
/** acks=all writes one leader keeps waiting for the high watermark at once. */
export const pendingAcksMax = 64;
/** Idempotent producers one leader tracks: far above the simulator's three, so a leak shows. */
export const producersMax = 64;

export interface ReplicaSettings {
  readonly replicaLagTimeMaxMs: number;
  /** An fsync completes within this many ms of being issued. */
  readonly fsyncDelayMsMax: number;
  /** A follower that got nothing waits this long before fetching again. */
  readonly fetchIntervalMs: number;
  /** A fetch unanswered this long is sent again. */
  readonly fetchTimeoutMs: number;
  /** Retention: records kept below the high watermark (and the durable end); 0 keeps every record. */
  readonly retainedRecordsMax: number;
  readonly bug: ReplicationBug | undefined;
}

/** A replica's own timers: the next fetch, and an fsync completing. */
export interface ReplicaTimer {
  readonly type: 'replicaTimer';
  readonly brokerId: number;
  readonly partition: number;
  readonly timer: 'fetch' | 'sync';
  /** Stale timers (a fetch answered meanwhile, a crash) carry an older token and are ignored. */
  readonly token: number;
}

export interface ReplicaEnvironment {
  readonly random: Prng;
  now(): number;
  send(message: ReplicationMessage): void;
  schedule(delayMs: number, timer: ReplicaTimer): void;
  observe(observation: ReplicationObservation): void;
  /** The partition's ISR as the controller has committed it now, if a controller leads. */
  committedIsr(partition: number): readonly number[] | undefined;
}

interface AckWaiter {
  readonly producer: number;
  readonly requestId: number;
  readonly offset: number;
  readonly recordId: string;
  /** A retry answered with its original's offset, nothing appended. */
  readonly duplicate: boolean;
}

interface Leading {
  readonly kind: 'leader';
  readonly state: LeaderPartitionState;
  readonly acks: PendingAcks<AckWaiter>;
  /** Rebuilt from the log at the epoch's start, then fed every append: recognises retries. */
  readonly producers: ProducerStateTable;
  /** The high watermark it knew as a follower, which only the highWatermarkBelowEpochStart bug publishes. */
  readonly initialHighWatermark: number;
  published: number | undefined;
}

type Role = { readonly kind: 'none' } | Leading | { readonly kind: 'follower'; readonly leaderId: number };

/**
 * One broker's replica of one partition, hosting the pure replication core (src/broker) the way
 * the broker's actors will: as leader, a LeaderPartitionState fed by its own appends and fsyncs
 * and by followers' accepted fetches, PendingAcks releasing acks=all writes below the high
 * watermark (with minInSyncReplicas checked again on release), fetches fenced by
 * validateLeaderEpoch and answered with divergingEpoch; as follower, a fetch loop that truncates
 * by truncationOffset, appends at the leader's offsets, syncs and reports its durable end, with a
 * FollowerHighWatermark. As leader it also checks each produce against a ProducerStateTable
 * rebuilt from its log, answering a retry of a record it holds with the original's offset. The role comes from committed metadata (`learn`), only ever moving to a
 * newer leader epoch. A crash loses the unsynced tail and everything in memory.
 */
export class SimReplica {
  readonly log = new ReplicaLog();
  private role: Role = { kind: 'none' };
  private roleEpoch = 0;
  private followerHighWatermark = new FollowerHighWatermark(0);
  /** The follower high watermark last reported to the checkers. */
  private reportedHighWatermark = 0;
  private fetchToken = 0;
  private fetching = false;
  private syncToken = 0;
  /** The fsync in flight: the log end it was issued at, lowered by truncations meanwhile. */
  private syncing: { syncedEndOffset: number } | undefined;

  constructor(
    readonly brokerId: number,
    readonly partition: number,
    private readonly name: string,
    private readonly settings: ReplicaSettings,
    private readonly environment: ReplicaEnvironment,
  ) {}

  /** The partition as committed metadata shows it: a newer leader epoch decides the role again. */
  learn(record: PartitionRecord, minInSyncReplicas: number): void {
    if (record.leaderEpoch < this.roleEpoch) return;
    if (record.leaderEpoch === this.roleEpoch) {
      if (this.role.kind === 'leader') this.release(this.role.state.isrChangeCommitted(record.isr, record.partitionEpoch));
      return;
    }
    this.resign();
    this.roleEpoch = record.leaderEpoch;
    if (record.leader === this.brokerId) this.lead(record, minInSyncReplicas);
    else if (record.leader === noLeader) this.role = { kind: 'none' };
    else this.follow(record.leader);
  }

  /** The leader state of the current epoch, for ISR proposals; undefined unless leading. */
  leading(): { readonly leaderEpoch: number; readonly state: LeaderPartitionState } | undefined {
    return this.role.kind === 'leader' ? { leaderEpoch: this.roleEpoch, state: this.role.state } : undefined;
  }

  /** The controller committed the ISR this leader proposed (or a newer one). */
  isrChangeCommitted(leaderEpoch: number, isr: readonly number[], partitionEpoch: number): void {
    if (this.role.kind === 'leader' && leaderEpoch === this.roleEpoch) this.release(this.role.state.isrChangeCommitted(isr, partitionEpoch));
  }

  /** The proposal certainly did not apply: another may be made, and its additions stop counting. */
  isrChangeFailed(leaderEpoch: number, proposal: IsrChangeProposal): void {
    if (this.role.kind === 'leader' && leaderEpoch === this.roleEpoch) this.release(this.role.state.isrChangeFailed(proposal));
  }

  receive(message: ReplicationMessage): void {
    if (message.type === 'fetch') this.answerFetch(message);
    else if (message.type === 'fetchResponse') this.fetched(message);
    else if (message.type === 'produce') this.produce(message);
  }

  timer(timer: ReplicaTimer): void {
    if (timer.timer === 'fetch' && timer.token === this.fetchToken && this.role.kind === 'follower') this.sendFetch();
    if (timer.timer === 'sync' && timer.token === this.syncToken) this.synced();
  }

  /** The machine lost power: the unsynced tail goes, and with the process every role and waiter. */
  crash(random: Prng, faults: CrashFaults): void {
    this.role = { kind: 'none' };
    this.roleEpoch = 0;
    this.fetchToken++;
    this.syncToken++;
    this.syncing = undefined;
    this.followerHighWatermark = new FollowerHighWatermark(0);
    this.reportHighWatermark();
    const before = this.log.endOffset();
    const endOffset = this.log.crash(random, faults);
    if (endOffset < before) this.observeTruncation(endOffset, 'crash');
    this.observeDurable();
  }

  /** Leading `leaderEpoch` with everything replicated: the high watermark at the durable log end. */
  settledAsLeader(leaderEpoch: number): boolean {
    const end = this.log.endOffset();
    return this.role.kind === 'leader' && this.roleEpoch === leaderEpoch && this.role.published === end && this.log.durableEndOffset() === end;
  }

  publishedHighWatermark(): number | undefined {
    return this.role.kind === 'leader' ? this.role.published : undefined;
  }

  describe(): string {
    const role = this.role.kind === 'follower' ? `follower of ${this.role.leaderId}` : this.role.kind;
    return `broker ${this.brokerId} partition ${this.partition}: ${role} in epoch ${this.roleEpoch}, log end ${this.log.endOffset()} (durable ${this.log.durableEndOffset()}), high watermark ${this.publishedHighWatermark() ?? this.followerHighWatermark.value()}`;
  }

  private lead(record: PartitionRecord, minInSyncReplicas: number): void {
    const endOffset = this.log.endOffset();
    const initialHighWatermark = Math.min(this.followerHighWatermark.value(), endOffset);
    const state = new LeaderPartitionState({
      partition: this.name,
      leaderId: this.brokerId,
      leaderEpoch: record.leaderEpoch,
      partitionEpoch: record.partitionEpoch,
      replicas: record.replicas,
      isr: record.isr,
      minInSyncReplicas,
      epochStartOffset: endOffset,
      highWatermark: initialHighWatermark,
      leaderLogEndOffset: endOffset,
      leaderDurableEndOffset: this.log.durableEndOffset(),
      replicaLagTimeMaxMs: this.settings.replicaLagTimeMaxMs,
      nowMs: this.environment.now(),
    });
    // As the real leader does at its epoch's start: the producers its log implies, whoever appended them.
    const producers = ProducerStateTable.rebuilt({ partition: this.name, producersMax }, this.log.batchSummaries());
    const acks = new PendingAcks<AckWaiter>({ partition: this.name, pendingAcksMax });
    this.role = { kind: 'leader', state, acks, producers, initialHighWatermark, published: undefined };
    // A leader alone in its ISR has its high watermark as soon as its log is durable.
    this.release(state.leaderDurable(this.log.durableEndOffset()));
  }

  private follow(leaderId: number): void {
    this.role = { kind: 'follower', leaderId };
    if (this.settings.bug === 'truncateToHighWatermark') this.truncate(this.followerHighWatermark.value(), 'truncated to its high watermark');
    this.sendFetch();
  }

  /** Leaves the current role: waiting acks=all writes are answered NOT_LEADER (they may or may not survive). */
  private resign(): void {
    this.fetchToken++;
    this.fetching = false;
    if (this.role.kind !== 'leader') return;
    for (const waiter of this.role.acks.takeAll()) this.answerProduce(waiter.producer, waiter.requestId, 'NOT_LEADER', waiter.offset);
    const published = this.role.published ?? 0;
    this.followerHighWatermark = new FollowerHighWatermark(Math.min(Math.max(published, this.followerHighWatermark.value()), this.log.endOffset()));
    this.role = { kind: 'none' };
  }

  // Leader side.

  /**
   * An acks=all produce, as PartitionLeader.append takes it: refused (nothing stored) without
   * enough in-sync replicas or when the producer's state refuses it (FENCED, OUT_OF_ORDER_SEQUENCE,
   * UNKNOWN_PRODUCER_ID); a retry of a record in the log waits for the high watermark to cover the
   * original, which is answered; otherwise appended, reported to the producer state, and waited for.
   */
  private produce(message: Extract<ReplicationMessage, { type: 'produce' }>): void {
    const answer = (code: string) => this.answerProduce(message.from, message.requestId, code, -1);
    if (this.role.kind !== 'leader') return answer('NOT_LEADER');
    const { state, acks, producers } = this.role;
    const batch = { ...message.producer, recordCount: 1 };
    let verdict: ProducerCheck;
    try {
      state.assertEnoughReplicas();
      if (acks.size >= acks.pendingAcksMax) return answer('RESOURCE_EXHAUSTED');
      verdict = producers.check(batch);
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
      return answer(error.code);
    }
    const { from: producer, requestId, recordId } = message;
    if (verdict.kind === 'duplicate' && this.settings.bug !== 'noDeduplication') {
      return this.awaitHighWatermark({ producer, requestId, offset: verdict.firstOffset, recordId, duplicate: true });
    }
    const timestampMs = this.environment.now();
    const offset = this.append({ epoch: this.roleEpoch, recordId, producer: message.producer, timestampMs });
    producers.appended(batch, offset, timestampMs);
    state.leaderAppended(this.log.endOffset());
    this.awaitHighWatermark({ producer, requestId, offset, recordId, duplicate: false });
    this.requestSync();
  }

  /** Through PendingAcks like every acks=all write; one already below the published high watermark is answered at once. */
  private awaitHighWatermark(waiter: AckWaiter): void {
    if (this.role.kind !== 'leader') return;
    const { published } = this.role;
    if (published !== undefined && waiter.offset < published) this.acknowledge(waiter);
    else this.role.acks.add(waiter.offset, waiter);
  }

  private answerFetch(message: Extract<ReplicationMessage, { type: 'fetch' }>): void {
    const answer = (result: FetchResult) =>
      this.environment.send({ type: 'fetchResponse', from: this.brokerId, to: message.from, partition: this.partition, leaderEpoch: message.leaderEpoch, token: message.token, result });
    const bounds = () => ({ leaderLogStartOffset: this.log.logStartOffset(), leaderLogEndOffset: this.log.endOffset() });
    if (this.role.kind !== 'leader') return answer({ kind: 'error', code: 'NOT_LEADER', ...bounds() });
    const { state } = this.role;
    try {
      validateLeaderEpoch(this.name, this.roleEpoch, message.leaderEpoch);
      const { fetchOffset, lastFetchedEpoch } = message;
      const leaderEnd = this.log.endOffsetForEpoch(lastFetchedEpoch);
      const logStartOffset = this.log.logStartOffset();
      // The log start check (OFFSET_OUT_OF_RANGE) holds even for the bug, which only ignores the divergence.
      const diverging = divergingEpoch({ fetchOffset, lastFetchedEpoch }, leaderEnd, logStartOffset);
      if (diverging !== undefined && this.settings.bug !== 'truncateToHighWatermark') return answer({ kind: 'diverging', diverging });
      const durableEndOffset = this.settings.bug === 'countFetchOffset' ? fetchOffset : message.durableEndOffset;
      this.release(state.followerFetched(message.from, { fetchOffset, durableEndOffset }, this.environment.now()));
      answer({ kind: 'records', baseOffset: fetchOffset, records: this.log.slice(fetchOffset, fetchRecordsMax), highWatermark: this.publishable(), leaderLogStartOffset: logStartOffset });
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
      answer({ kind: 'error', code: error.code, ...bounds() });
    }
  }

  /** After any change to the leader state: publish a higher high watermark and release the acks below it. */
  private release(change: HighWatermarkChange): void {
    if (this.role.kind !== 'leader') return;
    const value = this.publishable();
    if (value !== undefined && (this.role.published === undefined || value > this.role.published)) {
      this.role.published = value;
      this.environment.observe({
        kind: 'highWatermarkPublished', atMs: this.environment.now(), brokerId: this.brokerId, partition: this.partition, leaderEpoch: this.roleEpoch, highWatermark: value,
      });
    }
    if (this.settings.bug === 'ackBeforeHighWatermark') this.acknowledgeBelow(this.log.durableEndOffset());
    else if (change.advanced && change.highWatermark !== undefined) this.acknowledgeBelow(change.highWatermark);
    this.retain(this.role.published ?? 0);
  }

  /** Retention by count, only below the high watermark and the durable end: nothing a reader or a crash still needs. */
  private retain(highWatermark: number): void {
    if (this.settings.retainedRecordsMax === 0) return;
    const limit = Math.min(highWatermark, this.log.durableEndOffset()) - this.settings.retainedRecordsMax;
    if (limit > this.log.logStartOffset()) this.moveLogStart(limit);
  }

  private moveLogStart(offset: number): void {
    const restarted = offset > this.log.endOffset();
    this.log.advanceLogStartOffset(offset);
    this.environment.observe({ kind: 'replicaLogStartMoved', atMs: this.environment.now(), brokerId: this.brokerId, partition: this.partition, logStartOffset: offset, restarted });
  }

  /** The high watermark consumers and followers are given: none before KIP-207 allows it, unless broken. */
  private publishable(): number | undefined {
    if (this.role.kind !== 'leader') return undefined;
    const highWatermark = this.role.state.highWatermark();
    return highWatermark ?? (this.settings.bug === 'highWatermarkBelowEpochStart' ? this.role.initialHighWatermark : undefined);
  }

  /** Answers the acks=all writes below `offset`. */
  private acknowledgeBelow(offset: number): void {
    if (this.role.kind !== 'leader') return;
    for (const waiter of this.role.acks.takeSatisfied(offset)) this.acknowledge(waiter);
  }

  /** One acks=all write the high watermark covers, re-checking minInSyncReplicas (NOT_ENOUGH_REPLICAS_AFTER_APPEND). */
  private acknowledge(waiter: AckWaiter): void {
    if (this.role.kind !== 'leader') return;
    const { state } = this.role;
    try {
      state.assertEnoughReplicas();
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
      return this.answerProduce(waiter.producer, waiter.requestId, error.code, waiter.offset);
    }
    this.environment.observe({
      kind: 'recordAcknowledged', atMs: this.environment.now(), brokerId: this.brokerId, partition: this.partition, leaderEpoch: this.roleEpoch,
      offset: waiter.offset, recordId: waiter.recordId, duplicate: waiter.duplicate, isr: state.maximalIsr(),
    });
    this.answerProduce(waiter.producer, waiter.requestId, undefined, waiter.offset);
  }

  private answerProduce(producer: number, requestId: number, code: string | undefined, offset: number): void {
    this.environment.send({ type: 'produceResponse', from: this.brokerId, to: producer, partition: this.partition, requestId, code, offset });
  }

  // Follower side.

  private sendFetch(): void {
    if (this.role.kind !== 'follower') return;
    this.fetchToken++;
    this.fetching = true;
    this.environment.send({
      type: 'fetch', from: this.brokerId, to: this.role.leaderId, partition: this.partition, leaderEpoch: this.roleEpoch,
      fetchOffset: this.log.endOffset(), lastFetchedEpoch: this.log.lastEpoch(), durableEndOffset: this.log.durableEndOffset(), token: this.fetchToken,
    });
    this.schedule('fetch', this.settings.fetchTimeoutMs, this.fetchToken);
  }

  private fetchLater(delayMs: number): void {
    this.fetchToken++;
    this.fetching = false;
    this.schedule('fetch', delayMs, this.fetchToken);
  }

  private fetched(message: Extract<ReplicationMessage, { type: 'fetchResponse' }>): void {
    const role = this.role;
    if (role.kind !== 'follower' || message.from !== role.leaderId || message.leaderEpoch !== this.roleEpoch || message.token !== this.fetchToken) return;
    const { result } = message;
    if (result.kind === 'error') {
      if (result.code === 'OFFSET_OUT_OF_RANGE') this.outOfRange(result.leaderLogStartOffset, result.leaderLogEndOffset);
      return this.fetchLater(this.settings.fetchIntervalMs);
    }
    if (result.kind === 'diverging') {
      const endOffset = this.log.endOffset();
      const truncateTo = truncationOffset(result.diverging, this.log.endOffsetForEpoch(result.diverging.epoch), endOffset);
      if (truncateTo >= endOffset) throw new Error(`${this.describe()}: the leader answered diverging epoch ${result.diverging.epoch} ending at ${result.diverging.endOffset}, and truncation removes nothing`);
      this.truncate(truncateTo, `diverging epoch ${result.diverging.epoch} ends at ${result.diverging.endOffset}`);
      return this.sendFetch();
    }
    if (result.baseOffset !== this.log.endOffset()) return this.fetchLater(this.settings.fetchIntervalMs);
    for (const record of result.records) this.append(record);
    if (result.records.length > 0) this.requestSync();
    // Kafka's maybeIncrementLogStartOffset, before this log vouches for anything: below the
    // leader's log start its epochs are gone, so reconciliation cannot reach there (divergingEpoch
    // answers an epoch older than all it kept with its log start); what this log holds below it may
    // differ from what the leader had, and must go.
    if (result.leaderLogStartOffset > this.log.logStartOffset()) this.moveLogStart(result.leaderLogStartOffset);
    this.followerHighWatermark.update(result.highWatermark, this.log.endOffset());
    this.reportHighWatermark();
    this.retain(this.followerHighWatermark.value());
    this.fetchLater(result.records.length > 0 ? 0 : this.settings.fetchIntervalMs);
  }

  /**
   * The leader no longer holds this follower's fetch offset: below its log start (retention), the
   * follower restarts its log there (Kafka's rule); beyond its log end (only a follower that skips
   * reconciliation gets there), it truncates to it.
   */
  private outOfRange(leaderLogStartOffset: number, leaderLogEndOffset: number): void {
    const endOffset = this.log.endOffset();
    if (endOffset < leaderLogStartOffset) this.moveLogStart(leaderLogStartOffset);
    else this.truncate(Math.min(endOffset, leaderLogEndOffset), "beyond the leader's log end");
  }

  // The log.

  private append(record: ReplicaRecord): number {
    const offset = this.log.append(record);
    this.environment.observe({ kind: 'replicaAppended', atMs: this.environment.now(), brokerId: this.brokerId, partition: this.partition, offset, recordId: record.recordId });
    return offset;
  }

  private truncate(offset: number, why: string): void {
    if (offset >= this.log.endOffset()) return;
    if (this.role.kind === 'leader') throw new Error(`${this.describe()}: a leader never truncates its log (to ${offset}: ${why})`);
    const endOffset = this.log.truncateTo(offset);
    if (this.syncing !== undefined) this.syncing.syncedEndOffset = Math.min(this.syncing.syncedEndOffset, endOffset);
    this.followerHighWatermark.truncated(endOffset);
    this.observeTruncation(endOffset, why);
    this.reportHighWatermark();
  }

  private reportHighWatermark(): void {
    const highWatermark = this.followerHighWatermark.value();
    if (highWatermark === this.reportedHighWatermark) return;
    this.reportedHighWatermark = highWatermark;
    this.environment.observe({ kind: 'replicaHighWatermark', atMs: this.environment.now(), brokerId: this.brokerId, partition: this.partition, highWatermark });
  }

  private observeTruncation(endOffset: number, why: string): void {
    const inIsr = this.environment.committedIsr(this.partition)?.includes(this.brokerId) ?? false;
    this.environment.observe({ kind: 'replicaTruncated', atMs: this.environment.now(), brokerId: this.brokerId, partition: this.partition, endOffset, why, inIsr });
  }

  private observeDurable(): void {
    this.environment.observe({ kind: 'replicaSynced', atMs: this.environment.now(), brokerId: this.brokerId, partition: this.partition, durableEndOffset: this.log.durableEndOffset() });
  }

  /** One fsync at a time, as a group commit: what is written meanwhile waits for the next. */
  private requestSync(): void {
    if (this.syncing !== undefined) return;
    this.syncing = { syncedEndOffset: this.log.endOffset() };
    this.syncToken++;
    this.schedule('sync', this.environment.random.range(0, this.settings.fsyncDelayMsMax), this.syncToken);
  }

  private synced(): void {
    if (this.syncing === undefined) return;
    this.log.markDurable(this.syncing.syncedEndOffset);
    this.syncing = undefined;
    this.observeDurable();
    if (this.role.kind === 'leader') this.release(this.role.state.leaderDurable(this.log.durableEndOffset()));
    // A follower reports its new durable end at once: the leader's high watermark waits for it.
    if (this.role.kind === 'follower' && !this.fetching) this.sendFetch();
    if (this.log.endOffset() > this.log.durableEndOffset()) this.requestSync();
  }

  private schedule(timer: ReplicaTimer['timer'], delayMs: number, token: number): void {
    this.environment.schedule(delayMs, { type: 'replicaTimer', brokerId: this.brokerId, partition: this.partition, timer, token });
  }
}
