import {
  applyMetadataCommand, checkMetadataInvariants, createMetadataState, decodeMetadataCommand, decodeMetadataSnapshot, encodeMetadataSnapshot,
  metadataWatermarks, noLeader, type AlterPartitionCommand, type MetadataCommand, type MetadataCommandResult, type MetadataState,
  type MetadataWatermarks,
} from '../../src/controller/index.js';
import { crc32 } from './crc32.js';
import { commandUnderBug, restoredUnderBug, stateUnderBug, type MetadataBug } from './metadata-bugs.js';
import type { LeadershipChange, Observation, PartitionLeadership } from './observation.js';

/**
 * Applied entries between two digests of a replica's metadata snapshot. Every replica samples the
 * same indices, so two replicas that diverged are caught within this many entries of applying the
 * same index, at one snapshot encoding per interval (plus one per snapshot taken or restored).
 */
export const metadataDigestIntervalEntries = 8;

/**
 * One controller's copy of the metadata state machine (src/controller), run by a simulated host.
 * It applies committed commands as the controller does (decode, then applyMetadataCommand at the
 * entry's index) and reports to the checkers: after every apply and restore, the invariant
 * violations against the watermarks of its state before and the leaderships that changed; every
 * few entries, a digest of its snapshot bytes; for every alterPartition, whether the epochs it
 * carried were current. `bug` turns it into a broken controller on purpose (metadata-bugs.ts).
 */
export class MetadataReplica {
  private state: MetadataState = createMetadataState();
  /** Undefined until the first check: a restarted replica lost its memory of earlier states. */
  private watermarks: MetadataWatermarks | undefined;
  /** `${topicId}/${partition}` → the leadership last reported, so only changes are reported. */
  private readonly reported = new Map<string, { leaderEpoch: number; leader: number }>();

  constructor(
    private readonly nodeId: number,
    private readonly bug: MetadataBug | undefined,
    private readonly observe: (observation: Observation) => void,
    private readonly now: () => number,
  ) {}

  /** The live state, for simulated brokers reading metadata from this controller: never change it. */
  get view(): MetadataState {
    return this.state;
  }

  apply(index: number, data: Uint8Array): MetadataCommandResult<unknown> {
    // The simulator encoded the command itself: a decode failure is a simulator bug, so it throws.
    const command = decodeMetadataCommand(data);
    const judged = command.type === 'alterPartition' ? judgeAlterPartition(this.state, command) : undefined;
    const before = leadershipsOf(this.state);
    const { result } = applyMetadataCommand(this.state, commandUnderBug(this.bug, this.state, command), index);
    stateUnderBug(this.bug, this.state, command, result);
    if (judged !== undefined) {
      this.observe({
        kind: 'alterPartitionApplied', atMs: this.now(), nodeId: this.nodeId, index, ...judged,
        accepted: result.ok, code: result.ok ? undefined : result.code,
      });
    }
    this.check(index, command.type, leadershipChanges(this.state, before, command));
    return result;
  }

  /** Called once per applied entry of any kind: samples the digest at the shared indices. */
  sample(index: number): void {
    if (index % metadataDigestIntervalEntries === 0) this.reportDigest(index, encodeMetadataSnapshot(this.state));
  }

  /** The snapshot bytes with entries up to `index` applied. */
  serialize(index: number): Uint8Array {
    const bytes = encodeMetadataSnapshot(this.state);
    this.reportDigest(index, bytes);
    return bytes;
  }

  /** Replaces the state with a snapshot taken at `index`; empty bytes are the empty state. */
  restore(index: number, bytes: Uint8Array): void {
    this.state = bytes.length === 0 ? createMetadataState() : decodeMetadataSnapshot(bytes);
    restoredUnderBug(this.bug, this.state);
    // A jump over many entries can hide a group deleted and created again, whose generation
    // legitimately starts over; groups carry no incarnation id (topics do), so their generations
    // are compared only between consecutive entries.
    if (this.watermarks !== undefined) this.watermarks = { ...this.watermarks, groupGenerations: new Map() };
    this.check(index, 'restore', []);
    // Re-encoded rather than hashed as received: decode then encode must give the same bytes.
    this.reportDigest(index, encodeMetadataSnapshot(this.state));
  }

  private check(index: number, command: string, changes: LeadershipChange[]): void {
    const violations = checkMetadataInvariants(this.state, this.watermarks);
    this.watermarks = metadataWatermarks(this.state);
    const leaderships = this.changedLeaderships();
    this.observe({ kind: 'metadataApplied', atMs: this.now(), nodeId: this.nodeId, index, command, violations, leaderships, changes });
  }

  private changedLeaderships(): PartitionLeadership[] {
    const changed: PartitionLeadership[] = [];
    for (const topic of this.state.topics.values()) {
      for (const { partition, leader, leaderEpoch } of topic.partitions) {
        const key = `${topic.topicId}/${partition}`;
        const last = this.reported.get(key);
        if (last?.leader === leader && last.leaderEpoch === leaderEpoch) continue;
        this.reported.set(key, { leader, leaderEpoch });
        changed.push({ topicId: topic.topicId, partition, leaderEpoch, leader });
      }
    }
    return changed;
  }

  private reportDigest(index: number, bytes: Uint8Array): void {
    this.observe({ kind: 'metadataDigest', atMs: this.now(), nodeId: this.nodeId, index, digest: crc32(bytes) });
  }
}

/**
 * The test's own oracle for an alterPartition, from the state just before it is applied: which of
 * its epochs are not current. Undefined when the broker or the partition does not exist (those are
 * rejected for other reasons, which this oracle does not judge).
 */
function judgeAlterPartition(state: MetadataState, command: AlterPartitionCommand): { where: string; staleness: string | undefined; proposerLeads: boolean } | undefined {
  const broker = state.brokers.get(command.brokerId);
  const topic = state.topics.get(command.topic);
  const partition = topic?.topicId === command.topicId ? topic.partitions[command.partition] : undefined;
  if (broker === undefined || partition === undefined) return undefined;
  const stale: string[] = [];
  if (command.brokerEpoch !== broker.brokerEpoch) stale.push(`broker epoch ${command.brokerEpoch} (current ${broker.brokerEpoch})`);
  if (command.leaderEpoch !== partition.leaderEpoch) stale.push(`leader epoch ${command.leaderEpoch} (current ${partition.leaderEpoch})`);
  if (command.partitionEpoch !== partition.partitionEpoch) stale.push(`partition epoch ${command.partitionEpoch} (current ${partition.partitionEpoch})`);
  return {
    where: `${command.topic}/${command.partition} by broker ${command.brokerId}`,
    staleness: stale.length === 0 ? undefined : stale.join(', '),
    proposerLeads: partition.leader === command.brokerId,
  };
}

type Leaderships = Map<string, { leader: number; isr: number[] }>;

/** Every partition's leader and ISR (copied), keyed by topic id and partition. */
function leadershipsOf(state: MetadataState): Leaderships {
  const leaderships: Leaderships = new Map();
  for (const topic of state.topics.values()) {
    for (const { partition, leader, isr } of topic.partitions) leaderships.set(`${topic.topicId}/${partition}`, { leader, isr: [...isr] });
  }
  return leaderships;
}

/** The partitions that existed before `command` and now have another leader or a larger ISR. */
function leadershipChanges(state: MetadataState, before: Leaderships, command: MetadataCommand): LeadershipChange[] {
  const changes: LeadershipChange[] = [];
  const uncleanElection = command.type === 'electLeaders' && command.election === 'unclean';
  for (const topic of state.topics.values()) {
    for (const { partition, leader, isr } of topic.partitions) {
      const previous = before.get(`${topic.topicId}/${partition}`);
      if (previous === undefined) continue;
      const moved = leader !== noLeader && leader !== previous.leader;
      if (!moved && isr.every((id) => previous.isr.includes(id))) continue;
      changes.push({
        where: `${topic.name}/${partition}`,
        previousLeader: previous.leader,
        leader,
        previousIsr: previous.isr,
        isr: [...isr],
        uncleanAllowed: uncleanElection || topic.config.uncleanLeaderElection,
      });
    }
  }
  return changes;
}
