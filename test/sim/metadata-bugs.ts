import type {
  ElectLeadersOutput, MetadataCommand, MetadataCommandResult, MetadataState, PartitionRecord,
} from '../../src/controller/index.js';

/**
 * Deliberately broken controllers, so tests can prove the metadata checkers fire. They live here,
 * in the simulator's wrapper around the real state machine, not in src/controller: each one
 * rewrites a command before the real apply or changes the state after it, as a buggy controller
 * would, and every replica does the same (the bugs are deterministic, like the state machine).
 *
 *   acceptStaleAlterPartition  an alterPartition skips the partition epoch check
 *   electOutsideIsr            a preferred election that must fail (the preferred replica is live
 *                              but out of sync) elects it anyway
 *   reuseLeaderEpoch           a preferred election moves the leader without a new leader epoch
 *   unsortedPlacement          createTopic places replicas in the brokers' map order, which differs
 *                              between a replica that applied the registrations and one that
 *                              restored a snapshot (sorted): replicas diverge
 *   lossySnapshot              restoring a snapshot loses the brokers' racks: the restored replica
 *                              differs from the one that took the snapshot
 */
export const metadataBugs = ['acceptStaleAlterPartition', 'electOutsideIsr', 'reuseLeaderEpoch', 'unsortedPlacement', 'lossySnapshot'] as const;
export type MetadataBug = (typeof metadataBugs)[number];

export function isMetadataBug(bug: string | undefined): bug is MetadataBug {
  return metadataBugs.some((name) => name === bug);
}

/** The command a broken controller applies instead of `command`. */
export function commandUnderBug(bug: MetadataBug | undefined, state: MetadataState, command: MetadataCommand): MetadataCommand {
  if (bug === 'acceptStaleAlterPartition' && command.type === 'alterPartition') {
    const partition = state.topics.get(command.topic)?.partitions[command.partition];
    return partition === undefined ? command : { ...command, partitionEpoch: partition.partitionEpoch };
  }
  if (bug === 'unsortedPlacement' && command.type === 'createTopic' && command.replicaAssignment.length === 0) {
    return { ...command, replicaAssignment: mapOrderAssignment(state, command.config.partitions, command.config.replicationFactor) };
  }
  return command;
}

/** Round robin over live brokers in the map's insertion order: deliberately not the sorted order. */
function mapOrderAssignment(state: MetadataState, partitions: number, replicationFactor: number): number[][] {
  const live = [...state.brokers.values()].filter((broker) => !broker.fenced && !broker.shuttingDown).map((broker) => broker.brokerId);
  if (live.length < replicationFactor) return [];
  return Array.from({ length: partitions }, (_, partition) =>
    Array.from({ length: replicationFactor }, (_, offset) => live[(partition + offset) % live.length] as number));
}

/** What a broken controller does to the state after the real apply of `command` returned `result`. */
export function stateUnderBug(bug: MetadataBug | undefined, state: MetadataState, command: MetadataCommand, result: MetadataCommandResult<unknown>): void {
  if (!result.ok || command.type !== 'electLeaders' || command.election !== 'preferred') return;
  const { results } = result.value as ElectLeadersOutput;
  for (const elected of results) {
    const partition = state.topics.get(elected.topic)?.partitions[elected.partition];
    if (partition === undefined) continue;
    if (bug === 'reuseLeaderEpoch' && elected.changed) partition.leaderEpoch -= 1;
    if (bug === 'electOutsideIsr' && elected.error?.code === 'NOT_AVAILABLE') electPreferredAnyway(state, partition);
  }
}

function electPreferredAnyway(state: MetadataState, partition: PartitionRecord): void {
  const preferred = partition.replicas[0];
  const broker = preferred === undefined ? undefined : state.brokers.get(preferred);
  if (broker === undefined || broker.fenced || broker.shuttingDown) return;
  partition.leader = broker.brokerId;
  partition.leaderEpoch += 1;
  partition.partitionEpoch += 1;
}

/** What a broken controller does to a state it has just restored from a snapshot. */
export function restoredUnderBug(bug: MetadataBug | undefined, state: MetadataState): void {
  if (bug !== 'lossySnapshot') return;
  for (const broker of state.brokers.values()) broker.rack = '';
}
