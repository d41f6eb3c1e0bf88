import { noLeader } from '../../src/controller/index.js';
import type { MetadataWorkload } from './metadata-workload.js';
import { drawPartition } from './partition.js';
import type { Prng } from './prng.js';
import { ReplicaIsrProposer, ReplicationTopicCreator, replicationTopicName } from './replication-actors.js';
import type { ReplicationBug } from './replication-bugs.js';
import { cloneReplicationMessage, type ReplicationMessage } from './replication-messages.js';
import type { ReplicationObservation } from './replication-observation.js';
import { SimProducer, type ProducerCounters, type ProducerEvent } from './replication-producer.js';
import type { SimBroker } from './sim-broker.js';
import { SimReplica, type ReplicaTimer } from './sim-replica.js';
import { SimulatedNetwork, type LinkOptions } from './simulated-network.js';
import type { SwarmOptions } from './swarm-options.js';
import type { CrashFaults } from './simulated-disk.js';
import type { Trace } from './trace.js';

export type ReplicationEvent =
  | ReplicaTimer
  | ProducerEvent
  | { readonly type: 'replicationDeliver'; readonly message: ReplicationMessage }
  | { readonly type: 'replicationPoll'; readonly brokerId: number }
  | { readonly type: 'replicationCrash' }
  | { readonly type: 'replicationRestart'; readonly brokerId: number }
  | { readonly type: 'replicationCut' }
  | { readonly type: 'replicationHeal' };

/** The swarm knobs the replication workload reads (swarm-options.ts says what each means). */
export type ReplicationOptions = CrashFaults &
  Pick<
    SwarmOptions,
    | 'replicationPartitionCount' | 'replicationMinInSyncReplicas' | 'replicaLagTimeMaxMs' | 'replicaFsyncDelayMsMax' | 'replicaFetchIntervalMs'
    | 'replicaMetadataPollMs' | 'replicationProducerCount' | 'produceIntervalMsMax' | 'brokerCrashMeanIntervalMs' | 'brokerDownMsMax'
    | 'brokerOutageRate' | 'replicationCutMeanIntervalMs' | 'replicaRetainedRecordsMax' | 'partitionDurationMsMax' | 'operationTimeoutMs'
  >;

export interface ReplicationContext {
  readonly random: Prng;
  readonly trace: Trace;
  readonly bug: ReplicationBug | undefined;
  readonly metadata: MetadataWorkload;
  now(): number;
  schedule(delayMs: number, event: ReplicationEvent): void;
  observe(observation: ReplicationObservation): void;
  linkOptions(from: number, to: number): LinkOptions;
}

export interface ReplicationCounters extends ProducerCounters {
  crashes: number;
  /** Truncations by log reconciliation (not crashes): divergent suffixes removed. */
  truncations: number;
  highWatermarkMax: number;
  /** Followers that restarted their log at their leader's log start (OFFSET_OUT_OF_RANGE after retention). */
  logRestarts: number;
  /** Retries a leader recognised and answered with the original's offset. */
  duplicatesAnswered: number;
}

interface HostedBroker {
  readonly sim: SimBroker;
  readonly replicas: SimReplica[];
  down: boolean;
  /** The SimBroker incarnation this process belongs to: a newer one means the process restarted. */
  incarnation: number;
  /** The newest metadata version this broker applied: views never take it backwards. */
  seenVersion: number;
}

/** The network stays quiet after healing: no drops, and delays under this bound. */
const quietDelayMsMax = 20;

/**
 * The brokers' replication, run over the real metadata of the run (DESIGN.md §6 and §11): the
 * metadata workload's brokers each host a replica (sim-replica.ts) of every partition of one
 * topic, learning leaders, ISRs and epochs from committed metadata read from some controller,
 * which may lag; followers fetch from leaders over their own simulated network; idempotent
 * producers write acks=all and retry; leaders propose ISR changes through AlterPartition
 * (replication-actors.ts). Faults of its own: broker crashes, one at a time or all at once in an outage (the unsynced tail is lost,
 * the controller keeps the old incarnation until it re-registers or is fenced) and cuts of the replication network. After healing the
 * producers stop and every partition must settle: a leader whose high watermark reaches its
 * durable log end.
 */
export class ReplicationWorkload {
  readonly counters: ReplicationCounters = {
    produced: 0, acknowledged: 0, refused: 0, retried: 0, epochBumps: 0, crashes: 0, truncations: 0, highWatermarkMax: 0, logRestarts: 0, duplicatesAnswered: 0,
  };
  private readonly brokers = new Map<number, HostedBroker>();
  private readonly producers = new Map<number, SimProducer>();
  private readonly network: SimulatedNetwork<ReplicationMessage>;
  private readonly faultRandom: Prng;
  private topicId: string | undefined;
  private liveness = false;

  constructor(
    private readonly options: ReplicationOptions,
    private readonly context: ReplicationContext,
  ) {
    this.faultRandom = context.random.fork('faults');
    this.network = new SimulatedNetwork(context.random.fork('network'), (from, to) => context.linkOptions(from, to), cloneReplicationMessage);
    for (const sim of context.metadata.brokers) this.host(sim);
    const producerContext = {
      random: context.random.fork('producers'),
      view: () => context.metadata.view(),
      send: (message: ReplicationMessage) => this.send(message),
      schedule: (delayMs: number, event: ProducerEvent) => context.schedule(delayMs, event),
    };
    for (let slot = 0; slot < options.replicationProducerCount; slot++) {
      const producer = new SimProducer(slot, options.replicationPartitionCount, options.produceIntervalMsMax, options.operationTimeoutMs, producerContext, this.counters);
      this.producers.set(producer.address, producer);
    }
    context.metadata.addActors([
      new ReplicationTopicCreator(options.replicationPartitionCount, options.replicationMinInSyncReplicas),
      ...[...this.brokers.values()].map((broker) => new ReplicaIsrProposer(proposingBroker(broker), options.replicaLagTimeMaxMs)),
    ]);
    this.scheduleFaults();
  }

  handle(event: ReplicationEvent): void {
    switch (event.type) {
      case 'replicaTimer': {
        const broker = this.brokers.get(event.brokerId);
        if (broker !== undefined && !broker.down) broker.replicas[event.partition]?.timer(event);
        return;
      }
      case 'replicationProduce':
        return this.producers.get(event.producer)?.handle(event);
      case 'replicationDeliver':
        return this.deliver(event.message);
      case 'replicationPoll':
        return this.poll(event.brokerId);
      case 'replicationCrash':
        return this.crash();
      case 'replicationRestart':
        return this.restart(event.brokerId);
      case 'replicationCut':
        return this.cut();
      case 'replicationHeal':
        return this.heal();
    }
  }

  startLiveness(): void {
    this.liveness = true;
    this.network.heal();
    this.network.setQuiet(quietDelayMsMax);
    for (const producer of this.producers.values()) producer.stop();
    for (const [brokerId, broker] of this.brokers) if (broker.down) this.restart(brokerId);
  }

  /** Every partition has a leader, as the controller leader's metadata says, that has settled. */
  settled(): boolean {
    return this.unsettled().length === 0;
  }

  describePending(): string {
    return this.unsettled().join('; ');
  }

  /** Reports each partition's final leader log for the end-of-run checks. */
  finish(): void {
    const topic = this.context.metadata.view()?.topics.get(replicationTopicName);
    for (const partition of topic?.partitions ?? []) {
      const replica = this.brokers.get(partition.leader)?.replicas[partition.partition];
      if (replica === undefined) continue;
      this.context.observe({
        kind: 'replicationFinal', atMs: this.context.now(), brokerId: partition.leader, partition: partition.partition,
        logStartOffset: replica.log.logStartOffset(), recordIds: replica.log.recordIds(), highWatermark: replica.publishedHighWatermark() ?? 0,
      });
    }
  }

  private host(sim: SimBroker): void {
    const brokerId = sim.brokerId;
    const environment = {
      random: this.context.random.fork(`broker-${brokerId}`),
      now: () => this.context.now(),
      send: (message: ReplicationMessage) => this.send(message),
      schedule: (delayMs: number, timer: ReplicaTimer) => this.context.schedule(delayMs, timer),
      observe: (observation: ReplicationObservation) => this.observe(observation),
      committedIsr: (partition: number) => this.context.metadata.leaderView()?.topics.get(replicationTopicName)?.partitions[partition]?.isr,
    };
    const settings = {
      replicaLagTimeMaxMs: this.options.replicaLagTimeMaxMs,
      fsyncDelayMsMax: this.options.replicaFsyncDelayMsMax,
      fetchIntervalMs: this.options.replicaFetchIntervalMs,
      fetchTimeoutMs: this.options.operationTimeoutMs,
      retainedRecordsMax: this.options.replicaRetainedRecordsMax,
      bug: this.context.bug,
    };
    const replicas = Array.from({ length: this.options.replicationPartitionCount }, (_, partition) =>
      new SimReplica(brokerId, partition, `${replicationTopicName}-${partition}`, settings, environment));
    this.brokers.set(brokerId, { sim, replicas, down: false, incarnation: sim.incarnationNumber, seenVersion: 0 });
    this.context.schedule(this.context.random.range(1, this.options.replicaMetadataPollMs), { type: 'replicationPoll', brokerId });
  }

  private observe(observation: ReplicationObservation): void {
    if (observation.kind === 'replicaTruncated' && observation.why !== 'crash') this.counters.truncations++;
    if (observation.kind === 'replicaLogStartMoved' && observation.restarted) this.counters.logRestarts++;
    if (observation.kind === 'recordAcknowledged' && observation.duplicate) this.counters.duplicatesAnswered++;
    if (observation.kind === 'highWatermarkPublished') this.counters.highWatermarkMax = Math.max(this.counters.highWatermarkMax, observation.highWatermark);
    this.context.trace.log(this.context.now(), () => `replication ${describeObservation(observation)}`);
    this.context.observe(observation);
  }

  private send(message: ReplicationMessage): void {
    for (const delivery of this.network.send(message)) this.context.schedule(delivery.delayMs, { type: 'replicationDeliver', message: delivery.message });
  }

  private deliver(message: ReplicationMessage): void {
    if (!this.network.canDeliver(message.from, message.to)) return;
    if (message.type === 'produceResponse') {
      this.context.trace.log(this.context.now(), () => `replication producer ${message.to} answered by broker ${message.from}: ${message.code ?? `offset ${message.offset}`}`);
      return this.producers.get(message.to)?.answered(message);
    }
    const broker = this.brokers.get(message.to);
    if (broker === undefined || broker.down) return;
    broker.replicas[message.partition]?.receive(message);
  }

  /**
   * The broker reads committed metadata, as it would from its WatchMetadata stream: never an older
   * version than it applied, and nothing before its own registration (a restarted broker must not
   * act on its former incarnation's leaderships). A process restart of its SimBroker (a restart
   * or a controlled shutdown of the metadata workload) is a crash of its replicas first.
   */
  private poll(brokerId: number): void {
    this.context.schedule(this.options.replicaMetadataPollMs, { type: 'replicationPoll', brokerId });
    const broker = this.brokers.get(brokerId);
    if (broker === undefined || broker.down) return;
    if (broker.sim.incarnationNumber !== broker.incarnation) this.crashReplicas(broker);
    const view = this.context.metadata.view();
    if (view === undefined || broker.sim.brokerEpoch === 0 || view.version < Math.max(broker.seenVersion, broker.sim.brokerEpoch)) return;
    broker.seenVersion = view.version;
    const topic = view.topics.get(replicationTopicName);
    if (topic === undefined) return;
    this.topicId ??= topic.topicId;
    if (topic.topicId !== this.topicId) throw new Error(`the replication topic was re-created (${this.topicId}, then ${topic.topicId}); nothing deletes it`);
    for (const partition of topic.partitions) {
      // With more than three brokers a broker hosts only the partitions placed on it.
      if (partition.replicas.includes(brokerId)) broker.replicas[partition.partition]?.learn(partition, topic.config.minInSyncReplicas);
    }
  }

  // Faults, only before healing.

  private scheduleFaults(): void {
    const { brokerCrashMeanIntervalMs, replicationCutMeanIntervalMs } = this.options;
    if (brokerCrashMeanIntervalMs > 0) this.context.schedule(this.faultRandom.exponential(brokerCrashMeanIntervalMs), { type: 'replicationCrash' });
    if (replicationCutMeanIntervalMs > 0) this.context.schedule(this.faultRandom.exponential(replicationCutMeanIntervalMs), { type: 'replicationCut' });
  }

  private crash(): void {
    if (this.liveness) return;
    this.context.schedule(this.faultRandom.exponential(this.options.brokerCrashMeanIntervalMs), { type: 'replicationCrash' });
    const up = [...this.brokers.values()].filter((broker) => !broker.down);
    if (up.length === 0) return;
    // An outage (a rack losing power) takes every broker down at once: then only fsynced records survive anywhere.
    const victims = this.faultRandom.chance(this.options.brokerOutageRate) ? up : [this.faultRandom.pick(up)];
    for (const broker of victims) {
      const downMs = this.faultRandom.range(1, this.options.brokerDownMsMax);
      broker.down = true;
      broker.sim.crash(this.context.now(), downMs);
      this.crashReplicas(broker);
      this.context.schedule(downMs, { type: 'replicationRestart', brokerId: broker.sim.brokerId });
    }
  }

  private crashReplicas(broker: HostedBroker): void {
    this.counters.crashes++;
    broker.incarnation = broker.sim.incarnationNumber;
    broker.seenVersion = 0;
    this.context.trace.log(this.context.now(), () => `replication broker ${broker.sim.brokerId} CRASHED`);
    for (const replica of broker.replicas) replica.crash(this.faultRandom, this.options);
  }

  private restart(brokerId: number): void {
    const broker = this.brokers.get(brokerId);
    if (broker === undefined || !broker.down) return;
    broker.down = false;
    this.context.trace.log(this.context.now(), () => `replication broker ${brokerId} restarts`);
  }

  private cut(): void {
    if (this.liveness) return;
    const addresses = [...this.brokers.keys(), ...this.producers.keys()];
    const partition = drawPartition(this.faultRandom, addresses);
    this.network.setPartition(partition);
    this.context.trace.log(this.context.now(), () => `replication network PARTITION ${partition.describe()}`);
    this.context.schedule(this.faultRandom.range(1, this.options.partitionDurationMsMax), { type: 'replicationHeal' });
  }

  private heal(): void {
    if (this.liveness) return;
    this.network.heal();
    this.context.trace.log(this.context.now(), () => 'replication network HEAL');
    this.context.schedule(this.faultRandom.exponential(this.options.replicationCutMeanIntervalMs), { type: 'replicationCut' });
  }

  private unsettled(): string[] {
    const view = this.context.metadata.view();
    const topic = view?.topics.get(replicationTopicName);
    if (view === undefined || topic === undefined) return [`the ${replicationTopicName} topic is ${view === undefined ? 'not known (no controller leader)' : 'not created yet'}`];
    return topic.partitions.flatMap((partition) => {
      const broker = this.brokers.get(partition.leader);
      const replica = broker?.replicas[partition.partition];
      if (partition.leader === noLeader || broker === undefined || replica === undefined) return [`partition ${partition.partition} has no leader (ISR [${partition.isr.join(',')}])`];
      if (!broker.down && replica.settledAsLeader(partition.leaderEpoch)) return [];
      return [`partition ${partition.partition} leader ${partition.leader} epoch ${partition.leaderEpoch} ISR [${partition.isr.join(',')}] has not settled: ${this.describeReplicas(partition.partition)}`];
    });
  }

  private describeReplicas(partition: number): string {
    return [...this.brokers.values()].map((broker) => `${broker.down ? 'DOWN ' : ''}${broker.replicas[partition]?.describe() ?? ''}`).join(', ');
  }
}

function proposingBroker(broker: HostedBroker): { readonly brokerId: number; readonly brokerEpoch: number; replicas(): readonly SimReplica[] } {
  return {
    brokerId: broker.sim.brokerId,
    // A crashed process proposes nothing, nor does one whose SimBroker already restarted: its
    // replicas lead nothing until they learn metadata again as the new incarnation.
    get brokerEpoch() {
      return broker.down || broker.incarnation !== broker.sim.incarnationNumber ? 0 : broker.sim.brokerEpoch;
    },
    replicas: () => broker.replicas,
  };
}

function describeObservation(observation: ReplicationObservation): string {
  switch (observation.kind) {
    case 'replicaAppended':
      return `broker ${observation.brokerId} p${observation.partition} wrote ${observation.recordId} at ${observation.offset}`;
    case 'replicaTruncated':
      return `broker ${observation.brokerId} p${observation.partition} truncated to ${observation.endOffset} (${observation.why})${observation.inIsr ? ' in the ISR' : ''}`;
    case 'replicaLogStartMoved':
      return `broker ${observation.brokerId} p${observation.partition} log ${observation.restarted ? 'restarted' : 'starts'} at ${observation.logStartOffset}`;
    case 'replicaSynced':
      return `broker ${observation.brokerId} p${observation.partition} durable to ${observation.durableEndOffset}`;
    case 'replicaHighWatermark':
      return `broker ${observation.brokerId} p${observation.partition} follower high watermark ${observation.highWatermark}`;
    case 'highWatermarkPublished':
      return `broker ${observation.brokerId} p${observation.partition} epoch ${observation.leaderEpoch} high watermark ${observation.highWatermark}`;
    case 'recordAcknowledged':
      return `broker ${observation.brokerId} p${observation.partition} epoch ${observation.leaderEpoch} acknowledged ${observation.duplicate ? 'a retry of ' : ''}${observation.recordId} at ${observation.offset}`;
    case 'replicationFinal':
      return `final leader ${observation.brokerId} p${observation.partition}: log end ${observation.recordIds.length}, high watermark ${observation.highWatermark}`;
  }
}
