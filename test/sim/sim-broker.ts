import type {
  AlterPartitionCommand, BrokerHeartbeatCommand, BrokerHeartbeatOutput, MetadataCommand, MetadataState, PartitionRecord, RegisterBrokerOutput, TopicRecord,
} from '../../src/controller/index.js';
import type { ActorContext, MetadataActor, MetadataCounters } from './metadata-actor.js';
import type { ProposalOutcome } from './metadata-proposer.js';
import type { Prng } from './prng.js';
import { isReplicationTopic } from './replication-actors.js';

/** Racks the brokers are spread over, so placement has failure domains to spread replicas across. */
const rackCount = 2;

export interface BrokerOptions {
  readonly brokerSessionTimeoutMs: number;
  readonly brokerHeartbeatsPerSession: number;
  readonly brokerPauseRate: number;
  readonly brokerRestartRate: number;
  readonly alterPartitionRate: number;
  readonly staleAlterPartitionRate: number;
  /** Partitions this broker hosts replicas of (replication-workload.ts): it then never rests. */
  readonly replicationPartitionCount: number;
}

/** Rejections of a heartbeat that mean another registration replaced this process. */
const replacedCodes: ReadonlySet<string> = new Set(['FENCED', 'STALE_EPOCH', 'NODE_NOT_FOUND']);

/**
 * A simulated broker process as the controller sees it: it registers (a new incarnation id per
 * process, so a restart gets a new broker epoch), heartbeats with the virtual time and the
 * metadata version it has seen, and, as a partition leader, proposes ISR shrinks and expansions
 * from the metadata it reads, which may be behind. In the safety phase it also stops heartbeating
 * for longer than its session (the controller's duty fences it), restarts, abruptly or through
 * controlled shutdown, and proposes ISR changes with an epoch it knows to be stale, which the
 * controller must reject. After healing it only heartbeats, until the controller calls it active,
 * and then rests.
 */
export class SimBroker implements MetadataActor {
  readonly name: string;
  private incarnation = 1;
  /** This incarnation's broker epoch; 0 until its registration is known to be applied. */
  private epoch = 0;
  /** The epoch of an earlier incarnation, certainly stale now; 0 before the first restart. */
  private staleEpoch = 0;
  /** The highest metadata version this broker has seen: what its heartbeats report. */
  private metadataVersion = 0;
  private pausedUntilMs = 0;
  /** The broker asked for controlled shutdown and restarts with a new incarnation next. */
  private exiting = false;
  private lastProposalStale = false;
  private heartbeatInLiveness = false;
  /** The standing after the last accepted heartbeat proposed after healing. */
  private livenessStanding: string | undefined;

  constructor(
    readonly brokerId: number,
    private readonly options: BrokerOptions,
    private readonly counters: MetadataCounters,
  ) {
    this.name = `broker ${brokerId}`;
  }

  next(context: ActorContext): MetadataCommand | undefined {
    // Done after healing, like the key-value clients: a log that keeps growing could keep a
    // lagging node installing snapshots for ever, which is not what the liveness phase is about.
    // A broker hosting replicas keeps heartbeating, or fencing would take its partitions offline.
    if (context.liveness && this.livenessStanding === 'active' && this.options.replicationPartitionCount === 0) return undefined;
    if (context.liveness) this.pausedUntilMs = 0;
    if (context.nowMs < this.pausedUntilMs) return undefined;
    if (this.exiting) this.restart();
    if (this.epoch === 0) return this.register(context.nowMs);
    this.lastProposalStale = false;
    return (context.liveness ? undefined : this.disrupt(context)) ?? this.heartbeat(context, false);
  }

  settle(command: MetadataCommand, outcome: ProposalOutcome, context: ActorContext): void {
    if (command.type === 'brokerHeartbeat' && command.wantsShutdown) this.exiting = true;
    if (outcome.kind !== 'applied') return;
    const { result } = outcome;
    if (command.type === 'registerBroker' && result.ok) this.epoch = (result.value as RegisterBrokerOutput).brokerEpoch;
    if (command.type === 'alterPartition' && this.lastProposalStale && !result.ok) this.counters.staleAlterPartitionsRejected++;
    if (command.type !== 'brokerHeartbeat') return;
    if (!result.ok && replacedCodes.has(result.code)) this.restart();
    if (result.ok && context.liveness && this.heartbeatInLiveness) this.livenessStanding = (result.value as BrokerHeartbeatOutput).standing;
  }

  /** This incarnation's broker epoch; 0 until its registration is known to be applied. */
  get brokerEpoch(): number {
    return this.epoch;
  }

  /** Bumped at every process restart, whatever caused it. */
  get incarnationNumber(): number {
    return this.incarnation;
  }

  /**
   * The process died (a crash of the replication workload): nothing is heard from it for `downMs`,
   * then it registers as a new incarnation. Meanwhile the controller still counts the old one.
   */
  crash(nowMs: number, downMs: number): void {
    this.restart();
    this.pausedUntilMs = nowMs + downMs;
  }

  delayMs(random: Prng): number {
    const intervalMs = Math.floor(this.options.brokerSessionTimeoutMs / this.options.brokerHeartbeatsPerSession);
    return random.range(Math.ceil(intervalMs / 2), intervalMs);
  }

  livenessPending(): string | undefined {
    return this.livenessStanding === 'active' ? undefined : `${this.name} (epoch ${this.epoch}) is ${this.livenessStanding ?? 'not yet heartbeating'}`;
  }

  /** The safety phase's trouble: a pause, a restart or an ISR change, or undefined for a plain heartbeat. */
  private disrupt(context: ActorContext): MetadataCommand | undefined {
    const { random } = context;
    if (random.chance(this.options.brokerPauseRate)) {
      this.pausedUntilMs = context.nowMs + Math.round(this.options.brokerSessionTimeoutMs * random.rangeFloat(1.5, 3));
      return undefined;
    }
    if (random.chance(this.options.brokerRestartRate)) {
      if (random.chance(0.5)) return this.heartbeat(context, true);
      this.restart();
      return this.register(context.nowMs);
    }
    return random.chance(this.options.alterPartitionRate) ? this.alterPartition(context) : undefined;
  }

  private restart(): void {
    this.incarnation++;
    if (this.epoch !== 0) this.staleEpoch = this.epoch;
    this.epoch = 0;
    this.exiting = false;
  }

  private register(nowMs: number): MetadataCommand {
    return {
      type: 'registerBroker',
      brokerId: this.brokerId,
      address: `10.0.0.${this.brokerId}:9092`,
      rack: `rack-${this.brokerId % rackCount}`,
      // The same id on every retry of one process's registration, so a retry returns the same epoch.
      incarnationId: `broker-${this.brokerId}-incarnation-${this.incarnation}`,
      nowMs,
      sessionTimeoutMs: this.options.brokerSessionTimeoutMs,
    };
  }

  private heartbeat(context: ActorContext, wantsShutdown: boolean): BrokerHeartbeatCommand {
    this.metadataVersion = Math.max(this.metadataVersion, context.view()?.version ?? 0);
    this.heartbeatInLiveness = context.liveness;
    return {
      type: 'brokerHeartbeat',
      brokerId: this.brokerId,
      brokerEpoch: this.epoch,
      metadataVersion: this.metadataVersion,
      wantsFence: false,
      wantsShutdown,
      nowMs: context.nowMs,
      sessionTimeoutMs: this.options.brokerSessionTimeoutMs,
    };
  }

  /** An ISR change of a partition this broker leads in the metadata it sees; sometimes stale on purpose. */
  private alterPartition(context: ActorContext): AlterPartitionCommand | undefined {
    const view = context.view();
    const led = view === undefined ? [] : partitionsLedBy(view, this.brokerId);
    if (view === undefined || led.length === 0) return undefined;
    const { random } = context;
    const { topic, partition } = random.pick(led);
    const isr = changedIsr(view, partition, this.brokerId, random);
    if (isr === undefined) return undefined;
    const command: AlterPartitionCommand = {
      type: 'alterPartition',
      brokerId: this.brokerId,
      brokerEpoch: this.epoch,
      topic: topic.name,
      topicId: topic.topicId,
      partition: partition.partition,
      leaderEpoch: partition.leaderEpoch,
      partitionEpoch: partition.partitionEpoch,
      newIsr: isr.map((brokerId) => ({ brokerId, brokerEpoch: view.brokers.get(brokerId)?.brokerEpoch ?? 0 })),
    };
    const stale = random.chance(this.options.staleAlterPartitionRate) ? staleVariant(command, this.staleEpoch, random) : undefined;
    this.lastProposalStale = stale !== undefined;
    if (stale !== undefined) this.counters.staleAlterPartitionsProposed++;
    return stale ?? command;
  }
}

function partitionsLedBy(view: MetadataState, brokerId: number): Array<{ topic: TopicRecord; partition: PartitionRecord }> {
  const led: Array<{ topic: TopicRecord; partition: PartitionRecord }> = [];
  for (const topic of view.topics.values()) {
    // The replication workload's leaders change that topic's ISR from their replicas' progress.
    if (isReplicationTopic(topic.name)) continue;
    for (const partition of topic.partitions) if (partition.leader === brokerId) led.push({ topic, partition });
  }
  return led;
}

/** Drops an in-sync follower, or adds an out-of-sync replica the view shows unfenced. */
function changedIsr(view: MetadataState, partition: PartitionRecord, leaderId: number, random: Prng): number[] | undefined {
  const followers = partition.isr.filter((id) => id !== leaderId);
  const joinable = partition.replicas.filter((id) => !partition.isr.includes(id) && view.brokers.get(id)?.fenced === false);
  if (followers.length > 0 && (joinable.length === 0 || random.chance(0.5))) {
    const leaving = random.pick(followers);
    return partition.isr.filter((id) => id !== leaving);
  }
  return joinable.length === 0 ? undefined : [...partition.isr, random.pick(joinable)];
}

/**
 * The same change built on an epoch that is certainly stale when it is applied: epochs only grow,
 * so one below what some controller already showed, or an earlier incarnation's broker epoch,
 * can never be current again.
 */
function staleVariant(command: AlterPartitionCommand, staleEpoch: number, random: Prng): AlterPartitionCommand | undefined {
  const variants: AlterPartitionCommand[] = [];
  if (command.partitionEpoch > 1) variants.push({ ...command, partitionEpoch: command.partitionEpoch - 1 });
  if (command.leaderEpoch > 1) variants.push({ ...command, leaderEpoch: command.leaderEpoch - 1 });
  if (staleEpoch > 0) variants.push({ ...command, brokerEpoch: staleEpoch });
  return variants.length === 0 ? undefined : random.pick(variants);
}
