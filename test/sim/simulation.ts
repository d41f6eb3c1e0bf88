import { TributaryError } from '../../src/errors/index.js';
import type { ConfChange, Membership, Message } from '../../src/raft/raft-types.js';
import { createAllCheckers } from './checkers/all-checkers.js';
import type { Checker } from './checkers/checker.js';
import type { LinearizabilityCounters } from './checkers/linearizability-checker.js';
import { ClientHistory } from './client-history.js';
import { cloneMessage } from './clone-message.js';
import { EventQueue } from './event-queue.js';
import { MembershipDriver } from './membership-driver.js';
import { isMetadataBug } from './metadata-bugs.js';
import { MetadataWorkload } from './metadata-workload.js';
import type { Observation } from './observation.js';
import { drawPartition, Partition } from './partition.js';
import { Prng } from './prng.js';
import { isReplicationBug } from './replication-bugs.js';
import { ReplicationWorkload } from './replication-workload.js';
import { SimClients } from './sim-clients.js';
import type { SimEvent } from './sim-event.js';
import { CheckerViolation, type SimFailure } from './sim-failure.js';
import { SimHost, type HostListener, type HostSettings } from './sim-host.js';
import { SimulatedNetwork, type LinkOptions } from './simulated-network.js';
import { describeSwarmOptions, drawSwarmOptions, type SimBug, type SwarmOptions, type SwarmOverrides } from './swarm-options.js';
import { Trace } from './trace.js';
import { describeMessage } from './describe-message.js';

/** Events one run may process before it is declared a runaway (a livelock in the core or host). */
export const eventsPerRunMax = 1_000_000;
/**
 * Events in one virtual second before the run is declared a message storm: a healthy run of five
 * nodes needs a few thousand; a storm (messages answered at once, duplicates multiplying them, or
 * zero-delay ping-pong at one instant) needs far more.
 */
export const eventsPerVirtualSecondMax = 100_000;
/** How often the liveness phase checks whether the cluster has recovered. */
const livenessCheckIntervalMs = 50;

export interface SimulationSettings {
  readonly bug?: SimBug | undefined;
  readonly overrides?: SwarmOverrides;
  /** Receives trace lines; tracing is off without it. */
  readonly traceSink?: (line: string) => void;
}

export interface SimulationStats {
  events: number;
  virtualMs: number;
  elections: number;
  crashes: number;
  partitions: number;
  commitIndexMax: number;
  operations: number;
  unknownOperations: number;
  linearizabilityUnknown: number;
  /** Metadata commands whose entries were applied, and of those the ones the state machine rejected. */
  metadataCommands: number;
  metadataRejected: number;
  brokersFenced: number;
  /** ISR changes proposed with a stale epoch on purpose, and the ones seen rejected (the rest had unknown outcomes). */
  staleAlterPartitionsProposed: number;
  staleAlterPartitionsRejected: number;
  /**
   * The replication workload's: acks=all records produced, acknowledged, refused, resent with their
   * stamp, retries answered as duplicates, producer epoch bumps, broker crashes, reconciliation truncations.
   */
  recordsProduced: number;
  recordsAcknowledged: number;
  recordsRefused: number;
  recordsRetried: number;
  duplicatesAnswered: number;
  producerEpochBumps: number;
  brokerCrashes: number;
  replicaTruncations: number;
  highWatermarkMax: number;
  replicaLogRestarts: number;
}

export interface SimulationResult {
  readonly seed: number;
  readonly bug: SimBug | undefined;
  readonly options: SwarmOptions;
  readonly failure: SimFailure | undefined;
  readonly stats: SimulationStats;
  readonly traceDigest: string;
}

/** Runs one seed: a safety phase with faults, then a liveness phase after healing. */
export function runSimulation(seed: number, settings: SimulationSettings = {}): SimulationResult {
  return new Simulation(seed, settings).run();
}

class Simulation implements HostListener {
  private readonly root: Prng;
  readonly options: SwarmOptions;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly trace: Trace;
  private readonly linearizability: LinearizabilityCounters = { checked: 0, unknown: 0 };
  private readonly checkers: Checker[] = createAllCheckers(this.linearizability);
  private readonly network: SimulatedNetwork<Message>;
  private readonly hosts = new Map<number, SimHost>();
  private readonly removed = new Set<number>();
  private readonly history = new ClientHistory();
  private readonly clients: SimClients;
  private readonly metadata: MetadataWorkload;
  private readonly replication: ReplicationWorkload | undefined;
  private readonly membership: MembershipDriver;
  private readonly faultRandom: Prng;
  private readonly hostSettings: HostSettings;
  private phase: 'safety' | 'liveness' | 'done' = 'safety';
  private livenessDeadlineMs = Infinity;
  private readonly stats: SimulationStats = {
    events: 0, virtualMs: 0, elections: 0, crashes: 0, partitions: 0, commitIndexMax: 0, operations: 0, unknownOperations: 0, linearizabilityUnknown: 0,
    metadataCommands: 0, metadataRejected: 0, brokersFenced: 0, staleAlterPartitionsProposed: 0, staleAlterPartitionsRejected: 0,
    recordsProduced: 0, recordsAcknowledged: 0, recordsRefused: 0, recordsRetried: 0, duplicatesAnswered: 0, producerEpochBumps: 0, brokerCrashes: 0, replicaTruncations: 0, highWatermarkMax: 0, replicaLogRestarts: 0,
  };

  constructor(
    private readonly seed: number,
    private readonly settings: SimulationSettings,
  ) {
    this.root = new Prng(seed);
    this.options = drawSwarmOptions(this.root.fork('swarm'), settings.overrides);
    this.trace = new Trace(settings.traceSink);
    this.faultRandom = this.root.fork('faults');
    this.network = new SimulatedNetwork<Message>(this.root.fork('network'), (from, to) => this.linkOptions(from, to), cloneMessage);
    this.hostSettings = hostSettingsOf(this.options, settings.bug);
    this.clients = new SimClients({ ...this.options, staleReads: settings.bug === 'staleRead' }, {
      random: this.root.fork('clients'),
      history: this.history,
      trace: this.trace,
      now: () => this.queue.nowMs,
      schedule: (delayMs, event) => this.queue.schedule(delayMs, event),
      reachableHosts: () => [...this.hosts.values()].filter((host) => !this.removed.has(host.id)),
      host: (nodeId) => this.hosts.get(nodeId),
      acknowledged: (nodeId, index, term) => this.observe({ kind: 'acknowledged', atMs: this.queue.nowMs, nodeId, index, term }),
    });
    this.metadata = new MetadataWorkload(this.options, {
      random: this.root.fork('metadata'),
      trace: this.trace,
      now: () => this.queue.nowMs,
      schedule: (delayMs, event) => this.queue.schedule(delayMs, event),
      reachableHosts: () => [...this.hosts.values()].filter((host) => !this.removed.has(host.id)),
      host: (nodeId) => this.hosts.get(nodeId),
      leader: () => this.leader(),
    });
    this.replication = this.options.replicationPartitionCount === 0 ? undefined : new ReplicationWorkload(this.options, {
      random: this.root.fork('replication'),
      trace: this.trace,
      bug: isReplicationBug(settings.bug) ? settings.bug : undefined,
      metadata: this.metadata,
      now: () => this.queue.nowMs,
      schedule: (delayMs, event) => this.queue.schedule(delayMs, event),
      observe: (observation) => this.observe(observation),
      linkOptions: (from, to) => this.linkOptions(from, to),
    });
    const voterIds = Array.from({ length: this.options.voterCount }, (_, offset) => offset + 1);
    const spareIds = Array.from({ length: this.options.spareNodeCount }, (_, offset) => this.options.voterCount + offset + 1);
    this.membership = new MembershipDriver(spareIds, {
      random: this.root.fork('membership'),
      trace: this.trace,
      now: () => this.queue.nowMs,
      leader: () => this.leader(),
      spawn: (nodeId) => this.spawn(nodeId, { voters: [], learners: [] }),
      host: (nodeId) => this.hosts.get(nodeId),
    });
    this.trace.log(0, () => `seed ${seed} bug ${settings.bug ?? 'none'}; voters ${voterIds.join(',')}; spares ${spareIds.join(',') || '-'}`);
    this.trace.log(0, () => `swarm: ${describeSwarmOptions(this.options)}`);
    for (const id of voterIds) this.spawn(id, { voters: voterIds, learners: [] });
  }

  run(): SimulationResult {
    this.scheduleFaults();
    this.queue.schedule(this.options.safetyPhaseMs, { type: 'livenessStart' });
    const failure = this.loop();
    this.stats.virtualMs = this.queue.nowMs;
    this.stats.operations = this.history.history().length;
    this.stats.unknownOperations = this.history.unknownOperations;
    this.stats.linearizabilityUnknown = this.linearizability.unknown;
    const { commands, rejected, brokersFenced, staleAlterPartitionsProposed, staleAlterPartitionsRejected } = this.metadata.counters;
    Object.assign(this.stats, { metadataCommands: commands, metadataRejected: rejected, brokersFenced, staleAlterPartitionsProposed, staleAlterPartitionsRejected });
    if (this.replication !== undefined) {
      const { produced, acknowledged, refused, retried, duplicatesAnswered, epochBumps, crashes, truncations, highWatermarkMax, logRestarts } = this.replication.counters;
      Object.assign(this.stats, {
        recordsProduced: produced, recordsAcknowledged: acknowledged, recordsRefused: refused, recordsRetried: retried, duplicatesAnswered, producerEpochBumps: epochBumps,
        brokerCrashes: crashes, replicaTruncations: truncations, highWatermarkMax, replicaLogRestarts: logRestarts,
      });
    }
    if (failure !== undefined) this.trace.log(this.queue.nowMs, () => `FAILURE ${failure.failureClass} ${failure.checker}: ${failure.message}`);
    return { seed: this.seed, bug: this.settings.bug, options: this.options, failure, stats: this.stats, traceDigest: this.trace.digest() };
  }

  private loop(): SimFailure | undefined {
    try {
      let window = { second: 0, events: 0 };
      for (let event = this.queue.next(); event !== undefined && this.phase !== 'done'; event = this.queue.next()) {
        if (++this.stats.events > eventsPerRunMax) throw new Error(`the run exceeded eventsPerRunMax (${eventsPerRunMax}) events`);
        const second = Math.floor(event.atMs / 1000);
        window = second === window.second ? { second, events: window.events + 1 } : { second, events: 1 };
        if (window.events > eventsPerVirtualSecondMax) {
          throw new LivenessFailure(`message storm: over ${eventsPerVirtualSecondMax} events within virtual second ${second}`, 'livelock');
        }
        this.dispatch(event.payload);
      }
      if (this.phase !== 'done') throw new Error('the event queue ran dry');
      this.finish();
      return undefined;
    } catch (error) {
      return this.classify(error);
    }
  }

  private classify(error: unknown): SimFailure {
    const atMs = this.queue.nowMs;
    if (error instanceof CheckerViolation) return { failureClass: 'safety', checker: error.checker, message: error.message, atMs };
    if (error instanceof LivenessFailure) return { failureClass: 'liveness', checker: error.checker, message: error.message, atMs };
    const message = error instanceof Error ? `${error.message}\n${stackTop(error)}` : String(error);
    return { failureClass: 'crash', checker: 'exception', message, atMs };
  }

  private dispatch(event: SimEvent): void {
    switch (event.type) {
      case 'tick':
        return this.tick(event.nodeId);
      case 'deliver':
        return this.deliver(event.message);
      case 'partition':
        return this.partition();
      case 'heal':
        return this.heal();
      case 'crash':
        return this.crash();
      case 'restart':
        return this.restart(event.nodeId);
      case 'membership':
        return this.changeMembership();
      case 'transfer':
        return this.transferLeadership();
      case 'livenessStart':
        return this.startLiveness();
      case 'livenessCheck':
        return this.checkLiveness();
      case 'metadataWake':
      case 'metadataRetry':
      case 'metadataTimeout':
        return this.metadata.handle(event);
      case 'replicaTimer':
      case 'replicationProduce':
      case 'replicationDeliver':
      case 'replicationPoll':
      case 'replicationCrash':
      case 'replicationRestart':
      case 'replicationCut':
      case 'replicationHeal':
        return this.replication?.handle(event);
      default:
        return this.clients.handle(event);
    }
  }

  private spawn(nodeId: number, membership: Membership): SimHost {
    const host = new SimHost(nodeId, membership, this.hostSettings, this.root.fork(`host-${nodeId}`), this, () => this.queue.nowMs);
    this.hosts.set(nodeId, host);
    this.trace.log(this.queue.nowMs, () => `node ${nodeId} starts with voters [${membership.voters.join(',')}]`);
    host.start();
    this.queue.schedule(this.root.fork(`tick-${nodeId}`).range(1, this.options.tickMs), { type: 'tick', nodeId });
    return host;
  }

  private tick(nodeId: number): void {
    const host = this.hosts.get(nodeId) as SimHost;
    this.queue.schedule(this.options.tickMs, { type: 'tick', nodeId });
    if (!host.running) return;
    const sent = host.tick();
    // Only ticks that did something (a heartbeat, a campaign) are worth a trace line.
    if (sent > 0) this.trace.log(this.queue.nowMs, () => `tick node ${nodeId}: ${sent} messages`);
  }

  // HostListener: what the hosts report.

  send(message: Message): void {
    const deliveries = this.network.send(message);
    if (this.trace.enabled && deliveries.length === 0) this.trace.log(this.queue.nowMs, () => `drop ${describeMessage(message)}`);
    for (const delivery of deliveries) this.queue.schedule(delivery.delayMs, { type: 'deliver', message: delivery.message });
  }

  private deliver(message: Message): void {
    const host = this.hosts.get(message.to);
    if (host === undefined || !host.running || !this.network.canDeliver(message.from, message.to)) {
      this.trace.log(this.queue.nowMs, () => `lost ${describeMessage(message)}`);
      return;
    }
    this.trace.log(this.queue.nowMs, () => `deliver ${describeMessage(message)}`);
    host.step(message);
  }

  observe(observation: Observation): void {
    this.traceObservation(observation);
    for (const checker of this.checkers) {
      const violation = checker.observe(observation);
      if (violation !== undefined) throw new CheckerViolation(checker.name, violation);
    }
  }

  applied: HostListener['applied'] = (nodeId, entry, outcome) => {
    this.clients.applied(nodeId, entry, outcome?.kind === 'kv' ? outcome.proposal : undefined);
    this.metadata.applied(nodeId, entry, outcome);
  };

  snapshotRestored: HostListener['snapshotRestored'] = (nodeId, index, term) => {
    this.clients.snapshotRestored(nodeId, index, term);
    this.metadata.snapshotRestored(nodeId, index, term);
  };

  readReady: HostListener['readReady'] = (nodeId, context) => this.clients.readReady(nodeId, context);

  confChangeApplied(nodeId: number, change: ConfChange, membership: Membership): void {
    this.trace.log(this.queue.nowMs, () => `node ${nodeId} applied ${change.type} ${change.nodeId}: voters [${membership.voters.join(',')}] learners [${membership.learners.join(',')}]`);
    if (change.type === 'addLearner') this.membership.noteAdded(change.nodeId);
    if (change.type !== 'removeNode' || this.removed.has(change.nodeId)) return;
    this.removed.add(change.nodeId);
    this.clients.nodeLost(change.nodeId, `node ${change.nodeId} was removed`);
    this.metadata.nodeLost(change.nodeId, `node ${change.nodeId} was removed`);
  }

  private traceObservation(observation: Observation): void {
    if (observation.kind === 'role' && observation.role === 'leader') this.stats.elections++;
    if (observation.kind === 'commit') this.stats.commitIndexMax = Math.max(this.stats.commitIndexMax, observation.commit);
    if (!this.trace.enabled) return;
    const { atMs } = observation;
    switch (observation.kind) {
      case 'role':
        return this.trace.log(atMs, () => `node ${observation.nodeId} is ${observation.role} in term ${observation.term}`);
      case 'commit':
        return this.trace.log(atMs, () => `node ${observation.nodeId} commit ${observation.commit}`);
      case 'restoreSnapshot':
        return this.trace.log(atMs, () => `node ${observation.nodeId} restored snapshot ${observation.term}/${observation.index}`);
      case 'crash':
        return this.trace.log(atMs, () => `node ${observation.nodeId} CRASHED (acknowledged ${observation.acknowledgedIndex}, durable commit ${observation.durableCommit})`);
      case 'restart':
        return this.trace.log(atMs, () => `node ${observation.nodeId} up from its disk: log ${observation.log.snapshotIndex}..${observation.log.snapshotIndex + observation.log.terms.length}, commit ${observation.commit}, applied ${observation.appliedIndex}`);
      default:
        return undefined;
    }
  }

  // Faults, only in the safety phase.

  private scheduleFaults(): void {
    const { partitionMeanIntervalMs, crashMeanIntervalMs, membershipChangeMeanIntervalMs, leaderTransferMeanIntervalMs } = this.options;
    if (partitionMeanIntervalMs > 0) this.queue.schedule(this.faultRandom.exponential(partitionMeanIntervalMs), { type: 'partition' });
    if (crashMeanIntervalMs > 0) this.queue.schedule(this.faultRandom.exponential(crashMeanIntervalMs), { type: 'crash' });
    if (membershipChangeMeanIntervalMs > 0) this.queue.schedule(this.faultRandom.exponential(membershipChangeMeanIntervalMs), { type: 'membership' });
    if (leaderTransferMeanIntervalMs > 0) this.queue.schedule(this.faultRandom.exponential(leaderTransferMeanIntervalMs), { type: 'transfer' });
  }

  private partition(): void {
    if (this.phase !== 'safety') return;
    const leader = this.faultRandom.chance(this.options.leaderTargetRate) ? this.leader() : undefined;
    const nodeIds = [...this.hosts.keys()];
    const partition = leader === undefined ? drawPartition(this.faultRandom, nodeIds) : Partition.isolate(leader.id, nodeIds);
    this.network.setPartition(partition);
    this.stats.partitions++;
    this.trace.log(this.queue.nowMs, () => `PARTITION ${partition.describe()}`);
    this.queue.schedule(this.faultRandom.range(1, this.options.partitionDurationMsMax), { type: 'heal' });
  }

  private heal(): void {
    if (this.phase !== 'safety') return;
    this.network.heal();
    this.trace.log(this.queue.nowMs, () => 'HEAL');
    this.queue.schedule(this.faultRandom.exponential(this.options.partitionMeanIntervalMs), { type: 'partition' });
  }

  private crash(): void {
    if (this.phase !== 'safety') return;
    const running = [...this.hosts.values()].filter((host) => host.running);
    const leader = this.faultRandom.chance(this.options.leaderTargetRate) ? this.leader() : undefined;
    if (running.length > 0) {
      const host = leader ?? this.faultRandom.pick(running);
      host.crash(this.faultRandom, { tornWriteRate: this.options.tornWriteRate, unsyncedSurvivalRate: this.options.unsyncedSurvivalRate });
      this.stats.crashes++;
      this.clients.nodeLost(host.id, `node ${host.id} crashed`);
      this.metadata.nodeLost(host.id, `node ${host.id} crashed`);
      this.queue.schedule(this.faultRandom.range(1, this.options.restartDelayMsMax), { type: 'restart', nodeId: host.id });
    }
    this.queue.schedule(this.faultRandom.exponential(this.options.crashMeanIntervalMs), { type: 'crash' });
  }

  private restart(nodeId: number): void {
    const host = this.hosts.get(nodeId) as SimHost;
    if (!host.running) host.start();
  }

  private changeMembership(): void {
    if (this.phase !== 'safety') return;
    this.membership.step();
    this.queue.schedule(this.faultRandom.exponential(this.options.membershipChangeMeanIntervalMs), { type: 'membership' });
  }

  private transferLeadership(): void {
    if (this.phase !== 'safety') return;
    this.queue.schedule(this.faultRandom.exponential(this.options.leaderTransferMeanIntervalMs), { type: 'transfer' });
    const leader = this.leader();
    const others = leader?.status().membership.voters.filter((id) => id !== leader.id) ?? [];
    if (leader === undefined || others.length === 0) return;
    const target = this.faultRandom.pick(others);
    this.trace.log(this.queue.nowMs, () => `transfer leadership ${leader.id} -> ${target}`);
    try {
      leader.transferLeadership(target);
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
    }
  }

  /** The running, unremoved node that leads in the highest term. */
  private leader(): SimHost | undefined {
    let best: { host: SimHost; term: number } | undefined;
    for (const host of this.hosts.values()) {
      if (!host.running || this.removed.has(host.id)) continue;
      const { role, term } = host.status();
      if (role === 'leader' && (best === undefined || term > best.term)) best = { host, term };
    }
    return best?.host;
  }

  // The liveness phase.

  private startLiveness(): void {
    this.phase = 'liveness';
    this.livenessDeadlineMs = this.queue.nowMs + this.options.livenessPhaseMsMax;
    this.trace.log(this.queue.nowMs, () => 'LIVENESS PHASE: heal, stop dropping, restart every node');
    this.network.heal();
    this.network.setQuiet(Math.max(1, Math.floor((this.options.electionTimeoutTicks * this.options.tickMs) / 5)));
    for (const host of this.hosts.values()) if (!host.running) host.start();
    this.clients.startLiveness();
    this.metadata.startLiveness();
    this.replication?.startLiveness();
    this.queue.schedule(livenessCheckIntervalMs, { type: 'livenessCheck' });
  }

  private checkLiveness(): void {
    const leader = this.leader();
    const leaderIsVoter = leader !== undefined && leader.status().membership.voters.includes(leader.id);
    if (leaderIsVoter && this.clients.settled() && this.metadata.settled() && (this.replication?.settled() ?? true)) {
      this.phase = 'done';
      return;
    }
    if (this.queue.nowMs >= this.livenessDeadlineMs) {
      const leaderState = leader === undefined ? 'no leader' : `leader ${leader.id}${leaderIsVoter ? '' : ' (not a voter)'}`;
      throw new LivenessFailure(`not recovered ${this.options.livenessPhaseMsMax}ms after healing: ${leaderState}; ${this.clients.describePending()}; ${this.metadata.describePending()}; ${this.replication?.describePending() ?? ''}`);
    }
    this.queue.schedule(livenessCheckIntervalMs, { type: 'livenessCheck' });
  }

  private finish(): void {
    const leader = this.leader();
    this.observe({ kind: 'final', atMs: this.queue.nowMs, leaderId: leader?.id ?? 0, log: leader?.logView() });
    this.observe({ kind: 'history', atMs: this.queue.nowMs, history: this.history.history() });
    this.replication?.finish();
  }

  private linkOptions(from: number, to: number): LinkOptions {
    const random = this.root.fork(`link-${from}-${to}`);
    const slowness = random.rangeFloat(1, this.options.linkSlownessMax);
    return {
      delayMsMin: Math.round(this.options.delayMsMin * slowness),
      delayMsMax: Math.round(this.options.delayMsMax * slowness),
      dropRate: Math.min(0.5, this.options.dropRate * random.rangeFloat(0.5, 1.5)),
      duplicateRate: this.options.duplicateRate,
      reorderRate: this.options.reorderRate,
      reorderDelayMsMax: this.options.reorderDelayMsMax,
    };
  }
}

class LivenessFailure extends Error {
  constructor(
    message: string,
    readonly checker: 'liveness' | 'livelock' = 'liveness',
  ) {
    super(message);
  }
}

function hostSettingsOf(options: SwarmOptions, bug: SimBug | undefined): HostSettings {
  return {
    core: {
      electionTimeoutTicks: options.electionTimeoutTicks,
      heartbeatTimeoutTicks: options.heartbeatTimeoutTicks,
      preVote: options.preVote,
      checkQuorum: options.checkQuorum,
      inflightMessagesMax: options.inflightMessagesMax,
      entriesPerMessageMax: options.entriesPerMessageMax,
      messageBytesMax: options.messageBytesMax,
      uncommittedEntriesMax: options.uncommittedEntriesMax,
      snapshotChunkBytesMax: options.snapshotChunkBytesMax,
      bug: bug === 'skipFsync' || bug === 'staleRead' || isMetadataBug(bug) || isReplicationBug(bug) ? undefined : bug,
    },
    snapshotThresholdEntries: options.snapshotThresholdEntries,
    snapshotKeepEntries: options.snapshotKeepEntries,
    skipFsync: bug === 'skipFsync',
    metadata: { enabled: options.metadataBrokerCount > 0, bug: isMetadataBug(bug) ? bug : undefined },
  };
}

function stackTop(error: Error): string {
  return (error.stack ?? '').split('\n').slice(1, 6).join('\n');
}
