import { TributaryError } from '../errors/index.js';
import type { TopicPartition } from '../rpc/clients/index.js';
import type { GroupCoordinatorLink, GroupMembership, JoinedGeneration } from './group-membership.js';
import { OffsetTracker, type PartitionOffset } from './offset-tracker.js';
import { keyOf } from './record-accumulator.js';
import type { Assignment, ConsumerRecord } from './consumer.js';

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: ConsumerRecord;
  /** Sends a heartbeat now (they are also sent every heartbeatIntervalMs while a handler runs). */
  heartbeat: () => Promise<void>;
}

export interface EachBatchPayload {
  /** One partition's records of one fetch, in offset order. */
  batch: { topic: string; partition: number; messages: ConsumerRecord[] };
  /** Marks the records up to `offset` processed (what `eachBatchAutoResolve` does for the whole batch). */
  resolveOffset: (offset: number) => void;
  /** Commits what is resolved when autoCommitIntervalMs has passed since the last commit (autoCommit on). */
  commitOffsetsIfNecessary: () => Promise<void>;
  heartbeat: () => Promise<void>;
  /** False once stop() was called: a long batch may end early; the rest is read again later. */
  isRunning: () => boolean;
  /** True when the member lost its partitions (removed by the coordinator): what it processes now will be processed again elsewhere. */
  isStale: () => boolean;
}

export interface PartitionsEvent {
  generation: number;
  memberId: string;
  partitions: TopicPartition[];
}

export interface RunOptions {
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  /** Commit processed offsets every autoCommitIntervalMs, before giving partitions up and on stop (default true). */
  autoCommit?: boolean;
  /** With eachBatch: a batch counts as processed when its handler returns (default true). */
  eachBatchAutoResolve?: boolean;
  /** After each rebalance, with the partitions this member now owns, before reading them. */
  onPartitionsAssigned?: (event: PartitionsEvent) => Promise<void> | void;
  /** Before a rebalance or stop gives the partitions up (after the auto commit); `lost` when the coordinator had already removed the member. */
  onPartitionsRevoked?: (event: PartitionsEvent & { lost: boolean }) => Promise<void> | void;
}

export interface GroupRunSettings {
  groupId: string;
  autoCommitIntervalMs: number;
  heartbeatIntervalMs: number;
  /** Where a partition the group never committed starts. */
  startWithoutCommit: 'earliest' | 'latest';
  /** How long a member that owns no partitions waits before it checks for a rebalance again. */
  idleWaitMs: number;
}

/** What the run reads from: the Consumer's Fetch path. */
export interface RecordSource {
  assign(assignments: readonly Assignment[]): void;
  poll(): Promise<ConsumerRecord[]>;
  seek(topic: string, partition: number, offset: number): void;
  /** The offset of the next record to read, undefined while unresolved ('earliest'/'latest'). */
  position(topic: string, partition: number): number | undefined;
  isPaused(topic: string, partition: number): boolean;
}

/** Callers of commitOffsets that wait behind the commit in flight; more fail at once. */
export const commitWaitersMax = 1_000;

/**
 * The loop behind `Consumer.run`: (re)join when the membership says so, read the owned partitions,
 * hand records to the handler one at a time, commit. Everything but heartbeats (a timer) happens
 * in this one loop, so a rebalance starts only after the handler in flight returned, and the
 * processed offsets are committed BEFORE the partitions are revoked: after a clean rebalance no
 * record is processed twice.
 */
export class GroupRun {
  private readonly tracker: OffsetTracker;
  private readonly autoCommit: boolean;
  private owned: TopicPartition[] = [];
  private generation = 0;
  private memberId = '';
  private protocol: JoinedGeneration['protocol'] = 'eager';
  private stopping = false;
  private lastCommitAtMs = Date.now();
  private commitTail: Promise<unknown> = Promise.resolve();
  private commitsWaiting = 0;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly ended: Promise<void>;
  /** Resolves once the member got its first assignment; rejects when the run failed before. */
  readonly started: Promise<void>;
  private firstAssignment: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  constructor(
    private readonly settings: GroupRunSettings,
    private readonly options: RunOptions,
    private readonly membership: GroupMembership,
    private readonly coordinator: Pick<GroupCoordinatorLink, 'fetchOffsets'>,
    private readonly source: RecordSource,
    partitionsMax: number,
  ) {
    if ((options.eachMessage === undefined) === (options.eachBatch === undefined)) throw new TributaryError('INVALID_REQUEST', 'run() takes exactly one of eachMessage and eachBatch');
    this.tracker = new OffsetTracker(partitionsMax);
    this.autoCommit = options.autoCommit ?? true;
    this.started = new Promise<void>((resolve, reject) => (this.firstAssignment = { resolve, reject }));
    this.ended = this.loop();
    // Callers learn of a failure through run(), stop() or done; these keep Node from calling it unhandled meanwhile.
    this.started.catch(() => undefined);
    this.ended.catch(() => undefined);
  }

  /** Resolves when the run ended after stop(); rejects with what ended it otherwise (a handler's error, a fatal coordinator answer). */
  get done(): Promise<void> {
    return this.ended;
  }

  /** Lets the handler in flight finish, commits (autoCommit), calls onPartitionsRevoked, leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    // A member waiting in a long-poll join or sync leaves now, which ends that wait.
    if (this.membership.state === 'joining' || this.membership.state === 'syncing') await this.membership.leave().catch(() => undefined);
    await this.ended;
  }

  /** Commits explicit offsets (the next record to read) as this member and generation; see OffsetTracker.explicit. */
  commit(offsets: readonly PartitionOffset[]): Promise<void> {
    return this.serialized(async () => {
      if (!this.membership.ownsPartitions()) throw new TributaryError('REBALANCE_IN_PROGRESS', `group "${this.settings.groupId}": the member owns no partitions now (it is rebalancing); commit after onPartitionsAssigned`);
      const sent = this.tracker.explicit(offsets);
      await this.membership.commit(sent);
      this.tracker.committed(sent);
    });
  }

  private async loop(): Promise<void> {
    this.scheduleHeartbeat();
    let failure: unknown;
    try {
      while (!this.stopping) {
        if (this.membership.needsJoin) {
          if (!(await this.rebalance())) break;
          this.firstAssignment?.resolve();
          continue;
        }
        if (this.owned.length === 0) {
          await sleep(this.settings.idleWaitMs);
          continue;
        }
        const records = await this.source.poll();
        await this.process(records);
        await this.commitIfDue();
        // A source that answers at once with nothing (fetchMaxWaitMs 0, nothing new) must not starve the timers: heartbeats.
        if (records.length === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      failure = error;
    }
    await this.finish(failure);
  }

  /**
   * Eager: gives up every owned partition (committing first unless they are lost), joins, and
   * starts the assigned ones at their committed offsets. Cooperative: commits, joins offering what
   * it owns, gives up only what the assignment no longer lists, keeps reading the rest from where
   * it was, and rejoins at once when it gave something up. False when stopped meanwhile.
   */
  private async rebalance(): Promise<boolean> {
    const cooperative = this.protocol === 'cooperative' && this.membership.ownsPartitions();
    if (cooperative && this.autoCommit) await this.commitPending().catch((error: unknown) => this.unlessFenced(error));
    if (!cooperative) await this.revoke(this.owned);
    const joined = await this.membership.join(this.owned);
    if (joined === undefined) return false;
    // A member removed while it joined has a new member id: what it owned was given to others meanwhile.
    const kept = cooperative && joined.memberId === this.memberId ? this.owned.filter((owned) => joined.partitions.some((entry) => samePartition(entry, owned))) : [];
    const positions = new Map(kept.map(({ topic, partition }) => [keyOf(topic, partition), this.source.position(topic, partition)]));
    const revoked = this.owned.filter((owned) => !kept.some((entry) => samePartition(entry, owned)));
    if (revoked.length > 0) await this.revoke(revoked, !cooperative || joined.memberId !== this.memberId);
    this.generation = joined.generation;
    this.memberId = joined.memberId;
    this.protocol = joined.protocol;
    this.tracker.startGeneration(joined.generation, joined.partitions);
    this.source.assign(await this.startOffsets(joined.partitions, positions));
    this.owned = joined.partitions;
    this.lastCommitAtMs = Date.now();
    await this.options.onPartitionsAssigned?.({ generation: joined.generation, memberId: joined.memberId, partitions: joined.partitions });
    if (joined.protocol === 'cooperative' && revoked.length > 0 && cooperative) this.membership.requestRejoin();
    return true;
  }

  /** Commits (eager, autoCommit, unless lost) and calls onPartitionsRevoked for `partitions`; then they are no longer read. */
  private async revoke(partitions: readonly TopicPartition[], lost = !this.membership.ownsPartitions()): Promise<void> {
    if (partitions.length === 0) return;
    if (!lost && this.autoCommit && this.owned.length > 0) await this.commitPending().catch((error: unknown) => this.unlessFenced(error));
    // The callback may still commit them (autoCommit off); only then are they given up.
    try {
      await this.options.onPartitionsRevoked?.({ generation: this.generation, memberId: this.memberId, partitions: [...partitions], lost });
    } finally {
      this.owned = this.owned.filter((owned) => !partitions.some((entry) => samePartition(entry, owned)));
      if (this.owned.length === 0) this.tracker.clear();
      this.source.assign([]);
    }
  }

  /** Each partition from where this member was (`positions`, for kept partitions), else the group's committed offset, else startWithoutCommit. */
  private async startOffsets(partitions: readonly TopicPartition[], positions: ReadonlyMap<string, number | undefined>): Promise<Assignment[]> {
    const unknown = partitions.filter(({ topic, partition }) => positions.get(keyOf(topic, partition)) === undefined);
    const { offsets } = unknown.length === 0 ? { offsets: [] } : await this.coordinator.fetchOffsets(this.settings.groupId, unknown);
    const committed = new Map(offsets.map((entry) => [keyOf(entry.topic, entry.partition), entry]));
    return partitions.map(({ topic, partition }) => {
      const entry = committed.get(keyOf(topic, partition));
      if (entry?.error !== undefined) throw entry.error;
      return { topic, partition, offset: positions.get(keyOf(topic, partition)) ?? entry?.offset ?? this.settings.startWithoutCommit };
    });
  }

  private async process(records: readonly ConsumerRecord[]): Promise<void> {
    const { eachMessage, eachBatch } = this.options;
    const pausedSeen = new Set<string>();
    if (eachMessage !== undefined) {
      for (const record of records) {
        if (!this.readable(record, pausedSeen)) continue;
        await eachMessage({ topic: record.topic, partition: record.partition, message: record, heartbeat: () => this.membership.heartbeat() });
        this.tracker.processed(record.topic, record.partition, record.offset);
      }
      return;
    }
    for (const messages of batchesOf(records)) {
      const first = messages[0];
      if (first === undefined || !this.readable(first, pausedSeen)) continue;
      await eachBatch?.(this.batchPayload(first.topic, first.partition, messages));
      const last = messages.at(-1);
      if ((this.options.eachBatchAutoResolve ?? true) && last !== undefined && this.membership.ownsPartitions()) this.tracker.processed(last.topic, last.partition, last.offset);
    }
  }

  private batchPayload(topic: string, partition: number, messages: ConsumerRecord[]): EachBatchPayload {
    return {
      batch: { topic, partition, messages },
      resolveOffset: (offset) => this.tracker.processed(topic, partition, offset),
      commitOffsetsIfNecessary: () => this.commitIfDue(),
      heartbeat: () => this.membership.heartbeat(),
      isRunning: () => !this.stopping,
      isStale: () => !this.membership.ownsPartitions(),
    };
  }

  /**
   * Whether to hand a fetched record out now: not once the member lost its partitions (the next
   * owner reads them), and not for a partition paused meanwhile (moved back, so resume reads it).
   */
  private readable(record: ConsumerRecord, pausedSeen: Set<string>): boolean {
    if (!this.membership.ownsPartitions() || !this.tracker.owns(record.topic, record.partition)) return false;
    if (!this.source.isPaused(record.topic, record.partition)) return true;
    const key = keyOf(record.topic, record.partition);
    if (!pausedSeen.has(key)) {
      pausedSeen.add(key);
      this.source.seek(record.topic, record.partition, record.offset);
    }
    return false;
  }

  private async commitIfDue(): Promise<void> {
    if (!this.autoCommit || Date.now() - this.lastCommitAtMs < this.settings.autoCommitIntervalMs) return;
    await this.commitPending().catch((error: unknown) => this.unlessFenced(error));
  }

  private commitPending(): Promise<void> {
    return this.serialized(async () => {
      this.lastCommitAtMs = Date.now();
      const pending = this.tracker.pending();
      await this.membership.commit(pending);
      this.tracker.committed(pending);
    });
  }

  /**
   * A fenced auto commit is not the run's failure: the member rejoins, and the records processed
   * since its last commit are read again by their next owner (at least once). Other errors are.
   */
  private unlessFenced(error: unknown): void {
    const failure = TributaryError.from(error);
    if (['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER', 'REBALANCE_IN_PROGRESS'].includes(failure.code) || failure.retriable) return;
    throw failure;
  }

  /** One commit at a time, in call order, so a later commit never overtakes an earlier one. */
  private serialized(commit: () => Promise<void>): Promise<void> {
    if (this.commitsWaiting >= commitWaitersMax) return Promise.reject(new TributaryError('RESOURCE_EXHAUSTED', `${this.commitsWaiting} commits are waiting; at most ${commitWaitersMax} may`));
    this.commitsWaiting++;
    const result = this.commitTail.then(commit).finally(() => this.commitsWaiting--);
    this.commitTail = result.catch(() => undefined);
    return result;
  }

  private scheduleHeartbeat(): void {
    this.heartbeatTimer = setTimeout(() => {
      // heartbeat() settles every coordinator answer itself, so this chain does not reject.
      void this.membership.heartbeat().then(() => {
        if (this.heartbeatTimer !== undefined) this.scheduleHeartbeat();
      });
    }, this.settings.heartbeatIntervalMs);
  }

  /** Commits and revokes what is owned, leaves, and ends the run with `failure` if there was one. */
  private async finish(failure: unknown): Promise<void> {
    let ending = failure;
    try {
      await this.revoke(this.owned);
    } catch (error) {
      ending ??= error;
    }
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    await this.membership.leave().catch((error: unknown) => (ending ??= error));
    this.membership.finishLeaving();
    this.firstAssignment?.reject(ending ?? new TributaryError('SHUTTING_DOWN', `group "${this.settings.groupId}": the consumer stopped before it was assigned partitions`));
    if (ending !== undefined) throw ending instanceof Error ? ending : TributaryError.from(ending);
  }
}

/** A poll's records grouped by partition, each group in offset order. */
function batchesOf(records: readonly ConsumerRecord[]): ConsumerRecord[][] {
  const batches = new Map<string, ConsumerRecord[]>();
  for (const record of records) {
    const key = keyOf(record.topic, record.partition);
    const batch = batches.get(key);
    if (batch === undefined) batches.set(key, [record]);
    else batch.push(record);
  }
  return [...batches.values()];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function samePartition(left: TopicPartition, right: TopicPartition): boolean {
  return left.topic === right.topic && left.partition === right.partition;
}
