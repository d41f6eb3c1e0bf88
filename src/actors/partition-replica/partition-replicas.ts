import { type Actor, createActor } from 'xstate';
import type { Logger } from '../../observability/index.js';
import type { PartitionInfo } from '../../rpc/clients/index.js';
import { formatPartition, type PartitionId, type PartitionLog, type RetentionResult } from '../../storage/index.js';
import type { PartitionChange } from '../broker-metadata/broker-metadata-view.js';
import type { Clock } from '../clock.js';
import type { NodeSupervisor } from '../node-supervisor/node-supervisor.js';
import type { SupervisedChild } from '../node-supervisor/supervised-child.js';
import { TributaryError } from '../../errors/index.js';
import { xstateClockOf } from '../xstate-clock.js';
import assert from 'node:assert/strict';
import { FollowerHighWatermark, type IsrChangeProposal } from '../../broker/index.js';
import { type CommittedIsr, PartitionLeader } from './partition-leader.js';
import { partitionReplicaMachine, type ReplicaAssignment } from './partition-replica-machine.js';
import type { FollowedPartition } from './replica-fetcher.js';

export interface PartitionReplicasSettings {
  /** A follower that has not caught up for this long is proposed out of the ISR (Kafka's replica.lag.time.max.ms). */
  readonly replicaLagTimeMaxMs: number;
  /** Bound on acks=all writes waiting for the high watermark, per partition. */
  readonly pendingAcksMax: number;
  /** Idempotent producers a partition leader tracks at once; a new one beyond it is refused until idle ones expire. */
  readonly producersMax: number;
  /** An idempotent producer with no batch in a partition for this long is forgotten there (Kafka's producer.id.expiration.ms). */
  readonly producerIdleMsMax: number;
}

export const partitionReplicasDefaults: PartitionReplicasSettings = {
  replicaLagTimeMaxMs: 30_000, pendingAcksMax: 10_000, producersMax: 10_000, producerIdleMsMax: 86_400_000,
};

export interface PartitionReplicasOptions {
  readonly brokerId: number;
  /** Opens the partition's log for topic incarnation `topicId`, discarding another incarnation's data (NodeStorage.claimPartition). */
  readonly openLog: (partition: PartitionId, topicId: string) => Promise<PartitionLog>;
  /** The topic's min in-sync replicas, from the broker's metadata view. */
  readonly minInSyncReplicasOf: (topic: string) => number | undefined;
  /** Fetching from another broker's leader (ReplicaFetchers). */
  readonly fetchers: {
    follow(leaderId: number, followed: FollowedPartition): void;
    unfollow(id: PartitionId): void;
  };
  /** Sends a leader's ISR proposal to the controller (PartitionLeaderOptions.alterIsr). */
  readonly alterIsr: (id: PartitionId, assignment: ReplicaAssignment, proposal: IsrChangeProposal) => Promise<CommittedIsr | undefined>;
  /** Holds one transient child per hosted partition; PartitionReplicas.stop stops it. */
  readonly supervisor: NodeSupervisor;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: PartitionReplicasSettings;
}

/** What a caller sees of one hosted partition. */
export interface HostedPartition {
  readonly role: string;
  /** Set while this broker leads the partition. */
  readonly leader: PartitionLeader | undefined;
}

type ReplicaActor = Actor<typeof partitionReplicaMachine>;

/**
 * The partitions this broker hosts (Kafka's ReplicaManager): one partitionReplicaMachine per
 * partition whose replicas include this broker, fed every change the metadata view reports, each
 * a `transient` child of the broker's partition supervisor (docs/SUPERVISION.md). A replica that
 * crashes (its log would not open, or its machine threw) is restarted with backoff from the
 * newest assignment; one that keeps crashing escalates, and the supervisor's parent decides.
 * A partition that left this broker (reassigned, or its topic deleted) is removed; its log stays
 * on disk, since deleting data is for retention and topic deletion to decide.
 */
export class PartitionReplicas {
  /** The running machine of each hosted partition; absent while its child is restarting. */
  private readonly actors = new Map<string, ReplicaActor>();
  /** The newest assignment of each hosted partition: a restarted replica starts from it. */
  private readonly assignments = new Map<string, { readonly id: PartitionId; assignment: ReplicaAssignment }>();
  /**
   * Each partition's log is opened once per topic incarnation and kept: a partition removed and
   * assigned again must not open a second instance over the same keys. A topic deleted and created
   * again (same name, new id) opens anew once the old instance settled.
   */
  private readonly logs = new Map<string, { readonly topicId: string; readonly log: Promise<PartitionLog>; readonly highWatermark: FollowerHighWatermark }>();
  /** Per partition, the supervisor call in progress: a removal and a new assignment apply in order. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly options: PartitionReplicasOptions) {}

  /** Applies the changes of one metadata update, in order. */
  apply(changes: readonly PartitionChange[]): void {
    for (const change of changes) {
      const id = { topic: change.topic, partition: change.partitionIndex };
      const hosted = change.partition !== undefined && change.partition.replicas.includes(this.options.brokerId);
      if (!hosted || change.partition === undefined) this.remove(id);
      else this.assign(id, change.topicId, change.partition);
    }
  }

  /** The hosted partition, or undefined when this broker is not one of its replicas (or it is restarting). */
  hosted(topic: string, partition: number): HostedPartition | undefined {
    const actor = this.actors.get(formatPartition({ topic, partition }));
    if (actor === undefined) return undefined;
    const snapshot = actor.getSnapshot();
    return { role: String(snapshot.value), leader: snapshot.context.leader };
  }

  /** Every running partition's role, for status and tests: "orders-3" → "leading". */
  roles(): Map<string, string> {
    return new Map([...this.actors].map(([key, actor]) => [key, String(actor.getSnapshot().value)]));
  }

  /**
   * Applies each led partition's topic retention (`retentionOf`, 0 meaning "keep" as in the
   * topic config); answers what was deleted, by partition. Followers follow the leaders' log starts.
   */
  async enforceRetention(retentionOf: (topic: string) => { retentionMs: number; retentionBytes: number } | undefined): Promise<Map<string, RetentionResult>> {
    const deleted = new Map<string, RetentionResult>();
    for (const [key, actor] of [...this.actors]) {
      const leader = actor.getSnapshot().context.leader;
      const retention = retentionOf(this.assignments.get(key)?.id.topic ?? '');
      if (leader === undefined || retention === undefined) continue;
      const result = await leader.enforceRetention(retention.retentionMs || undefined, retention.retentionBytes || undefined);
      if (result !== undefined && result.deletedBatches > 0) deleted.set(key, result);
    }
    return deleted;
  }

  /** Partitions this broker leads whose committed ISR lacks one of their replicas. */
  underReplicatedCount(): number {
    return [...this.actors.values()].filter((actor) => actor.getSnapshot().context.leader?.underReplicated() === true).length;
  }

  /** Stops every replica through the supervisor: leaders resign, so their waiting writes fail with NOT_LEADER. */
  stop(): Promise<void> {
    this.assignments.clear();
    return this.options.supervisor.stop();
  }

  private assign(id: PartitionId, topicId: string, partition: PartitionInfo): void {
    const minInSyncReplicas = this.options.minInSyncReplicasOf(id.topic) ?? 1;
    const assignment: ReplicaAssignment = { topicId, partition, minInSyncReplicas };
    const key = formatPartition(id);
    const known = this.assignments.get(key);
    if (known === undefined) {
      this.assignments.set(key, { id, assignment });
      this.inOrder(key, () => this.options.supervisor.startChild({ id: key, restart: 'transient', start: () => Promise.resolve(this.start(key)) }));
      return;
    }
    // The machine ignores an older epoch; a restart must not go back to one either.
    if (assignment.partition.leaderEpoch >= known.assignment.partition.leaderEpoch) known.assignment = assignment;
    this.actors.get(key)?.send({ type: 'assigned', assignment });
  }

  private remove(id: PartitionId): void {
    const key = formatPartition(id);
    if (!this.assignments.delete(key)) return;
    // At once, so no caller finds the partition here after this update: the machine ends
    // `removed` (a normal exit, which ends a transient child), and the supervisor forgets it.
    this.actors.get(key)?.send({ type: 'removed' });
    this.actors.delete(key);
    this.inOrder(key, () => this.options.supervisor.stopChild(key));
  }

  /** Runs `step` after the partition's previous supervisor call; a failure is logged (the supervisor refuses only while stopping). */
  private inOrder(key: string, step: () => Promise<void>): void {
    const previous = this.pending.get(key) ?? Promise.resolve();
    const next = previous.then(step).catch((error: unknown) => this.options.logger.warn({ err: error, partition: key }, 'partition replica could not be started or stopped'));
    this.pending.set(key, next);
    void next.then(() => {
      if (this.pending.get(key) === next) this.pending.delete(key);
    });
  }

  /**
   * One incarnation of a partition's replica, as the supervisor's child: done when the machine
   * ends `removed`, crashed when it ends `failed` or throws.
   */
  private start(key: string): SupervisedChild {
    const hosted = this.assignments.get(key);
    // Removed while a restart was pending: nothing to run, and the removal stops the child.
    if (hosted === undefined) return { done: Promise.resolve(), stop: () => Promise.resolve() };
    const actor = this.createReplica(hosted.id, hosted.assignment);
    this.actors.set(key, actor);
    const done = new Promise<void>((resolve, reject) => {
      actor.subscribe({
        next: (snapshot) => {
          if (snapshot.status !== 'done') return;
          if (snapshot.value === 'failed') reject(TributaryError.from(snapshot.context.failure));
          else resolve();
        },
        error: reject,
      });
    });
    const forget = () => {
      if (this.actors.get(key) === actor) this.actors.delete(key);
    };
    done.then(forget, forget);
    actor.start();
    return {
      done,
      stop: () => {
        actor.send({ type: 'removed' });
        actor.stop();
        return Promise.resolve();
      },
    };
  }

  private createReplica(id: PartitionId, assignment: ReplicaAssignment): ReplicaActor {
    const { clock, settings, brokerId, logger, fetchers, alterIsr } = this.options;
    const key = formatPartition(id);
    const actor = createActor(partitionReplicaMachine, {
      clock: xstateClockOf(clock),
      input: {
        assignment,
        effects: {
          brokerId,
          openLog: () => this.logOf(key, id, assignment.topicId),
          lead: (log, current) => new PartitionLeader({
            log, clock, leaderId: brokerId, leaderEpoch: current.partition.leaderEpoch, partitionEpoch: current.partition.partitionEpoch,
            replicas: current.partition.replicas, isr: current.partition.isr, minInSyncReplicas: current.minInSyncReplicas,
            highWatermark: this.highWatermarkOf(key), replicaLagTimeMaxMs: settings.replicaLagTimeMaxMs, pendingAcksMax: settings.pendingAcksMax,
            // Kafka checks for lagging followers every half lag window.
            isrCheckIntervalMs: Math.max(1, Math.floor(settings.replicaLagTimeMaxMs / 2)),
            producersMax: settings.producersMax, producerIdleMsMax: settings.producerIdleMsMax,
            alterIsr: (proposal) => alterIsr(id, current, proposal),
          }),
          follow: (log, current) => fetchers.follow(current.partition.leader, {
            id, topicId: current.topicId, leaderEpoch: current.partition.leaderEpoch, log, highWatermark: this.followerHighWatermark(key),
          }),
          unfollow: () => fetchers.unfollow(id),
        },
      },
    });
    let lastRole = '';
    actor.subscribe({
      next: (snapshot) => {
        const role = String(snapshot.value);
        if (role === lastRole) return;
        lastRole = role;
        const { leader, leaderEpoch } = snapshot.context.assignment.partition;
        if (role === 'failed') logger.error({ err: snapshot.context.failure, partition: key }, 'partition replica could not open its log');
        else logger.info({ partition: key, role, leader, leaderEpoch }, 'partition replica role changed');
      },
      // A machine error is a bug in it: the supervisor restarts the replica (start() sees the error too).
      error: (error) => logger.error({ err: error, partition: key }, 'partition replica failed'),
    });
    return actor;
  }

  /** The replica's high watermark as a follower knew it; the log is open when this is asked. */
  private followerHighWatermark(key: string): FollowerHighWatermark {
    const kept = this.logs.get(key);
    assert.ok(kept !== undefined, `partition "${key}" has no open log`);
    return kept.highWatermark;
  }

  private highWatermarkOf(key: string): number {
    return this.followerHighWatermark(key).value();
  }

  private logOf(key: string, id: PartitionId, topicId: string): Promise<PartitionLog> {
    const kept = this.logs.get(key);
    if (kept?.topicId === topicId) return kept.log;
    // Restarted at 0, the high watermark is only ever too low, which KIP-207 makes harmless.
    const highWatermark = new FollowerHighWatermark(0);
    const previous = kept?.log.then((log) => log.settled()).catch(() => undefined) ?? Promise.resolve();
    const log = previous.then(() => this.options.openLog(id, topicId));
    // A failed open is not kept: the restarted replica tries again.
    log.catch(() => {
      if (this.logs.get(key)?.log === log) this.logs.delete(key);
    });
    this.logs.set(key, { topicId, log, highWatermark });
    return log;
  }

}
