import { type Actor, createActor } from 'xstate';
import type { Logger } from '../../observability/index.js';
import type { PartitionInfo } from '../../rpc/clients/index.js';
import { formatPartition, type PartitionId, type PartitionLog } from '../../storage/index.js';
import type { PartitionChange } from '../broker-metadata/broker-metadata-view.js';
import type { Clock } from '../clock.js';
import { xstateClockOf } from '../xstate-clock.js';
import type { IsrChangeProposal } from '../../broker/index.js';
import { type CommittedIsr, PartitionLeader } from './partition-leader.js';
import { partitionReplicaMachine, type ReplicaAssignment } from './partition-replica-machine.js';
import type { FollowedPartition } from './replica-fetcher.js';

export interface PartitionReplicasSettings {
  /** A follower that has not caught up for this long is proposed out of the ISR (Kafka's replica.lag.time.max.ms). */
  readonly replicaLagTimeMaxMs: number;
  /** Bound on acks=all writes waiting for the high watermark, per partition. */
  readonly pendingAcksMax: number;
}

export const partitionReplicasDefaults: PartitionReplicasSettings = { replicaLagTimeMaxMs: 30_000, pendingAcksMax: 10_000 };

export interface PartitionReplicasOptions {
  readonly brokerId: number;
  readonly openLog: (partition: PartitionId) => Promise<PartitionLog>;
  /** The topic's min in-sync replicas, from the broker's metadata view. */
  readonly minInSyncReplicasOf: (topic: string) => number | undefined;
  /** Fetching from another broker's leader (ReplicaFetchers). */
  readonly fetchers: {
    follow(leaderId: number, followed: FollowedPartition): void;
    unfollow(id: PartitionId): void;
  };
  /** Sends a leader's ISR proposal to the controller (PartitionLeaderOptions.alterIsr). */
  readonly alterIsr: (id: PartitionId, assignment: ReplicaAssignment, proposal: IsrChangeProposal) => Promise<CommittedIsr | undefined>;
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

/**
 * The partitions this broker hosts (Kafka's ReplicaManager): one partitionReplicaMachine per
 * partition whose replicas include this broker, fed every change the metadata view reports.
 * A partition that left this broker (reassigned, or its topic deleted) is removed; its log stays
 * on disk, since deleting data is for retention and topic deletion to decide.
 */
export class PartitionReplicas {
  private readonly replicas = new Map<string, Actor<typeof partitionReplicaMachine>>();
  /** Each partition's log is opened once and kept: a partition removed and assigned again must not open a second instance over the same keys. */
  private readonly logs = new Map<string, Promise<PartitionLog>>();

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

  /** The hosted partition, or undefined when this broker is not one of its replicas. */
  hosted(topic: string, partition: number): HostedPartition | undefined {
    const actor = this.replicas.get(formatPartition({ topic, partition }));
    if (actor === undefined) return undefined;
    const snapshot = actor.getSnapshot();
    return { role: String(snapshot.value), leader: snapshot.context.leader };
  }

  /** Every partition's role, for status and tests: "orders-3" → "leading". */
  roles(): Map<string, string> {
    return new Map([...this.replicas].map(([key, actor]) => [key, String(actor.getSnapshot().value)]));
  }

  /** Removes every replica: leaders resign, so their waiting writes fail with NOT_LEADER. */
  stop(): void {
    for (const key of [...this.replicas.keys()]) this.removeKey(key);
  }

  private assign(id: PartitionId, topicId: string, partition: PartitionInfo): void {
    const minInSyncReplicas = this.options.minInSyncReplicasOf(id.topic) ?? 1;
    const assignment: ReplicaAssignment = { topicId, partition, minInSyncReplicas };
    const key = formatPartition(id);
    const existing = this.replicas.get(key);
    // A replica that failed to open its log tries again with the next assignment.
    if (existing !== undefined && existing.getSnapshot().status !== 'done') {
      existing.send({ type: 'assigned', assignment });
      return;
    }
    existing?.stop();
    this.replicas.set(key, this.start(id, assignment));
  }

  private start(id: PartitionId, assignment: ReplicaAssignment): Actor<typeof partitionReplicaMachine> {
    const { clock, settings, brokerId, logger, fetchers, alterIsr } = this.options;
    const key = formatPartition(id);
    const actor = createActor(partitionReplicaMachine, {
      clock: xstateClockOf(clock),
      input: {
        assignment,
        effects: {
          brokerId,
          openLog: () => this.logOf(key, id),
          lead: (log, current) => new PartitionLeader({
            log, clock, leaderId: brokerId, leaderEpoch: current.partition.leaderEpoch, partitionEpoch: current.partition.partitionEpoch,
            replicas: current.partition.replicas, isr: current.partition.isr, minInSyncReplicas: current.minInSyncReplicas,
            highWatermark: 0, replicaLagTimeMaxMs: settings.replicaLagTimeMaxMs, pendingAcksMax: settings.pendingAcksMax,
            // Kafka checks for lagging followers every half lag window.
            isrCheckIntervalMs: Math.max(1, Math.floor(settings.replicaLagTimeMaxMs / 2)),
            alterIsr: (proposal) => alterIsr(id, current, proposal),
          }),
          follow: (log, current) => fetchers.follow(current.partition.leader, { id, topicId: current.topicId, leaderEpoch: current.partition.leaderEpoch, log }),
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
      // A machine error is a bug in it: the partition stops being served rather than served wrongly.
      error: (error) => logger.error({ err: error, partition: key }, 'partition replica failed'),
    });
    actor.start();
    return actor;
  }

  private logOf(key: string, id: PartitionId): Promise<PartitionLog> {
    let log = this.logs.get(key);
    if (log === undefined) {
      log = this.options.openLog(id);
      // A failed open is not kept: the next assignment tries again.
      log.catch(() => this.logs.delete(key));
      this.logs.set(key, log);
    }
    return log;
  }

  private remove(id: PartitionId): void {
    this.removeKey(formatPartition(id));
  }

  private removeKey(key: string): void {
    const actor = this.replicas.get(key);
    if (actor === undefined) return;
    actor.send({ type: 'removed' });
    actor.stop();
    this.replicas.delete(key);
  }
}
