import type { RaftBug } from '../../src/raft/raft-types.js';
import { metadataBugs, type MetadataBug } from './metadata-bugs.js';
import type { Prng } from './prng.js';
import { replicationBugs, type ReplicationBug } from './replication-bugs.js';

/**
 * Bugs the simulator can switch on: the core's, the host's own ('skipFsync': acknowledge before the
 * sync), the clients' ('staleRead': read a node's state machine without ReadIndex) and the
 * metadata state machine wrapper's (metadata-bugs.ts) and the replica hosts' (replication-bugs.ts).
 */
export type SimBug = RaftBug | 'skipFsync' | 'staleRead' | MetadataBug | ReplicationBug;
export const simBugs: readonly SimBug[] = ['doubleVote', 'commitPreviousTermByCount', 'applyBeyondCommit', 'skipFsync', 'staleRead', ...metadataBugs, ...replicationBugs];

/**
 * Every knob of one run, drawn from its seed (swarm testing: each run explores a different corner,
 * with some faults switched off entirely). A failure report prints all of them. Rates are chances
 * per message or per crash; "Mean" intervals are the means of exponential gaps, 0 meaning "never".
 */
export interface SwarmOptions {
  readonly voterCount: number;
  /** Node ids kept in reserve for membership changes (ids are never reused). */
  readonly spareNodeCount: number;
  readonly tickMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTimeoutTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly inflightMessagesMax: number;
  readonly entriesPerMessageMax: number;
  readonly messageBytesMax: number;
  readonly uncommittedEntriesMax: number;
  readonly snapshotChunkBytesMax: number;
  readonly delayMsMin: number;
  readonly delayMsMax: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly reorderRate: number;
  readonly reorderDelayMsMax: number;
  /** Each link's delays are scaled by a factor drawn in [1, linkSlownessMax]: some links are slow. */
  readonly linkSlownessMax: number;
  readonly partitionMeanIntervalMs: number;
  readonly partitionDurationMsMax: number;
  readonly crashMeanIntervalMs: number;
  /** Chance that a crash (or a partition) singles out the current leader rather than any node. */
  readonly leaderTargetRate: number;
  readonly restartDelayMsMax: number;
  readonly tornWriteRate: number;
  readonly unsyncedSurvivalRate: number;
  readonly leaderTransferMeanIntervalMs: number;
  /** The host snapshots once this many entries were applied since its last snapshot. */
  readonly snapshotThresholdEntries: number;
  /** Entries kept in the log behind a snapshot, for slow followers; 0 forces snapshot installs. */
  readonly snapshotKeepEntries: number;
  readonly clientCount: number;
  readonly keyCount: number;
  readonly operationIntervalMsMax: number;
  readonly readRate: number;
  /** Among writes, the share of appends (the rest are puts). */
  readonly appendRate: number;
  readonly operationTimeoutMs: number;
  readonly membershipChangeMeanIntervalMs: number;
  readonly safetyPhaseMs: number;
  readonly livenessPhaseMsMax: number;
  /** Simulated brokers of the metadata workload (metadata-workload.ts); 0 runs the key-value store alone. */
  readonly metadataBrokerCount: number;
  readonly brokerSessionTimeoutMs: number;
  /** Heartbeats a broker sends per session timeout, at most. */
  readonly brokerHeartbeatsPerSession: number;
  /** Chance per broker action that it stops heartbeating for 1.5 to 3 sessions (and is fenced). */
  readonly brokerPauseRate: number;
  /** Chance per broker action that its process restarts (a new incarnation), half of the time through controlled shutdown. */
  readonly brokerRestartRate: number;
  /** Chance per broker action that, leading a partition, it proposes an ISR shrink or expansion. */
  readonly alterPartitionRate: number;
  /** Share of ISR changes built on an epoch known to be stale, which the controller must reject. */
  readonly staleAlterPartitionRate: number;
  /** Chance that an actor reads metadata from a random node, which may lag, instead of the leader. */
  readonly staleViewRate: number;
  readonly operatorIntervalMsMax: number;
  readonly consumerCount: number;
  /** How often the leader's duty looks for expired broker sessions and group members. */
  readonly controllerDutyIntervalMs: number;
  /**
   * Partitions of the replication workload's topic (replication-workload.ts), whose replicas the
   * metadata workload's brokers host; 0 runs without it (always 0 without the metadata workload).
   */
  readonly replicationPartitionCount: number;
  readonly replicationMinInSyncReplicas: number;
  readonly replicaLagTimeMaxMs: number;
  readonly replicaFsyncDelayMsMax: number;
  readonly replicaFetchIntervalMs: number;
  /** How often a broker reads committed metadata (its WatchMetadata stream, as the simulator models it). */
  readonly replicaMetadataPollMs: number;
  readonly replicationProducerCount: number;
  readonly produceIntervalMsMax: number;
  /** Mean gap between broker process crashes (unsynced records lost); 0 never. */
  readonly brokerCrashMeanIntervalMs: number;
  readonly brokerDownMsMax: number;
  /** Chance that a broker crash is an outage of every broker at once (a rack losing power). */
  readonly brokerOutageRate: number;
  /** Mean gap between cuts of the replication network; 0 never. */
  readonly replicationCutMeanIntervalMs: number;
  /** Retention: records a replica keeps below its high watermark; 0 keeps them all. */
  readonly replicaRetainedRecordsMax: number;
}

/**
 * A metadata snapshot is kilobytes where the key-value store's is a hundred bytes: runs with the
 * metadata workload scale the drawn chunk size by this, so a snapshot still takes several chunks
 * but a lagging node can catch up within the liveness bound (at 8 bytes a chunk it could not).
 */
export const metadataSnapshotChunkScale = 32;

/** Knobs a test pins, e.g. more crashes to catch skipFsync sooner; the rest are still drawn. */
export type SwarmOverrides = Partial<SwarmOptions>;

/** Off with chance `offRate`, otherwise drawn. */
function sometimes(random: Prng, offRate: number, draw: () => number): number {
  return random.chance(offRate) ? 0 : draw();
}

export function drawSwarmOptions(random: Prng, overrides: SwarmOverrides = {}): SwarmOptions {
  const tickMs = 10;
  const delayMsMin = random.range(0, 5);
  const electionTimeoutTicks = random.range(5, 20);
  // Raft needs round trips well under the election timeout to make progress; delays are drawn
  // relative to it, and now and then close to it, where elections start to fail.
  const electionTimeoutMs = electionTimeoutTicks * tickMs;
  const drawn: SwarmOptions = {
    voterCount: random.pick([1, 2, 3, 3, 3, 4, 5, 5]),
    spareNodeCount: random.range(0, 3),
    tickMs,
    electionTimeoutTicks,
    heartbeatTimeoutTicks: random.range(1, Math.max(1, Math.floor(electionTimeoutTicks / 3))),
    preVote: random.chance(0.85),
    checkQuorum: random.chance(0.85),
    inflightMessagesMax: random.range(1, 8),
    entriesPerMessageMax: random.pick([1, 2, 4, 16, 64]),
    messageBytesMax: random.pick([64, 256, 1024, 65536]),
    uncommittedEntriesMax: random.pick([4, 16, 64, 1024]),
    snapshotChunkBytesMax: random.pick([8, 32, 128, 1024]),
    delayMsMin,
    delayMsMax: delayMsMin + Math.floor(electionTimeoutMs * random.pick([0, 0.05, 0.1, 0.2, 0.4])),
    dropRate: sometimes(random, 0.3, () => random.rangeFloat(0, 0.2)),
    duplicateRate: sometimes(random, 0.4, () => random.rangeFloat(0, 0.1)),
    reorderRate: sometimes(random, 0.4, () => random.rangeFloat(0, 0.3)),
    reorderDelayMsMax: random.range(0, electionTimeoutMs / 2),
    linkSlownessMax: random.pick([1, 1, 2, 3]),
    partitionMeanIntervalMs: sometimes(random, 0.25, () => random.range(100, 2000)),
    partitionDurationMsMax: random.range(50, 3000),
    crashMeanIntervalMs: sometimes(random, 0.25, () => random.range(200, 4000)),
    leaderTargetRate: random.pick([0, 0.3, 0.8]),
    restartDelayMsMax: random.range(10, 2000),
    tornWriteRate: random.pick([0, 0.1, 0.5, 1]),
    unsyncedSurvivalRate: random.pick([0, 0, 0.2, 0.5]),
    leaderTransferMeanIntervalMs: sometimes(random, 0.5, () => random.range(200, 3000)),
    snapshotThresholdEntries: random.pick([3, 8, 20, 50, 200]),
    snapshotKeepEntries: random.pick([0, 0, 2, 10]),
    clientCount: random.range(1, 5),
    keyCount: random.range(1, 4),
    operationIntervalMsMax: random.pick([5, 20, 50, 200]),
    readRate: random.rangeFloat(0, 0.5),
    appendRate: random.rangeFloat(0, 1),
    operationTimeoutMs: random.range(200, 3000),
    membershipChangeMeanIntervalMs: sometimes(random, 0.4, () => random.range(100, 3000)),
    safetyPhaseMs: random.range(1000, 4000),
    livenessPhaseMsMax: 30_000,
    // Drawn last, so every knob above keeps the value it had before the metadata workload existed.
    metadataBrokerCount: sometimes(random, 0.5, () => random.range(3, 5)),
    brokerSessionTimeoutMs: random.range(200, 1500),
    brokerHeartbeatsPerSession: random.range(3, 6),
    brokerPauseRate: random.pick([0, 0.01, 0.03]),
    brokerRestartRate: random.pick([0, 0.01, 0.03]),
    alterPartitionRate: random.rangeFloat(0, 0.5),
    staleAlterPartitionRate: random.pick([0, 0.2, 0.5]),
    staleViewRate: random.pick([0, 0.3, 0.8]),
    operatorIntervalMsMax: random.pick([50, 200, 500]),
    consumerCount: random.range(0, 3),
    controllerDutyIntervalMs: random.pick([20, 100, 250]),
    // Drawn after the metadata knobs, so they keep their values; a share of the metadata runs.
    replicationPartitionCount: sometimes(random, 0.6, () => random.range(1, 2)),
    replicationMinInSyncReplicas: random.pick([1, 2, 2]),
    replicaLagTimeMaxMs: random.range(100, 1000),
    replicaFsyncDelayMsMax: random.pick([0, 2, 10, 30]),
    replicaFetchIntervalMs: random.range(5, 50),
    replicaMetadataPollMs: random.range(5, 100),
    replicationProducerCount: random.range(1, 3),
    produceIntervalMsMax: random.pick([5, 20, 50]),
    brokerCrashMeanIntervalMs: sometimes(random, 0.3, () => random.range(200, 2000)),
    brokerDownMsMax: random.range(10, 1500),
    brokerOutageRate: random.pick([0, 0, 0.1, 0.3]),
    replicationCutMeanIntervalMs: sometimes(random, 0.4, () => random.range(200, 2000)),
    replicaRetainedRecordsMax: sometimes(random, 0.5, () => random.pick([2, 8, 32])),
  };
  const merged = { ...drawn, ...overrides };
  // A pinned election timeout keeps the drawn heartbeat below it, as the core requires.
  const heartbeatTimeoutTicks = overrides.heartbeatTimeoutTicks ?? Math.min(merged.heartbeatTimeoutTicks, Math.max(1, merged.electionTimeoutTicks - 1));
  const chunkScale = merged.metadataBrokerCount > 0 ? metadataSnapshotChunkScale : 1;
  const snapshotChunkBytesMax = overrides.snapshotChunkBytesMax ?? merged.snapshotChunkBytesMax * chunkScale;
  // The replication topic has three replicas on the metadata workload's brokers.
  const replicationPartitionCount = merged.metadataBrokerCount >= 3 ? merged.replicationPartitionCount : 0;
  return { ...merged, heartbeatTimeoutTicks, snapshotChunkBytesMax, replicationPartitionCount };
}

/** One line per knob, for failure reports. */
export function describeSwarmOptions(options: SwarmOptions): string {
  return Object.entries(options)
    .map(([name, value]) => `${name}=${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(3) : String(value)}`)
    .join(' ');
}
