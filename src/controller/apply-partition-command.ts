import { TributaryError, type ErrorCode } from '../errors/index.js';
import { rejectCommand, requireRoom, type ApplyContext } from './apply-context.js';
import { requireCurrentBroker } from './apply-broker-command.js';
import { requireTopic } from './apply-topic-command.js';
import type { AlterPartitionCommand, ElectLeadersCommand, IsrMember, TopicPartition } from './metadata-command.js';
import { copyPartition } from './metadata-delta.js';
import { metadataLimits } from './metadata-limits.js';
import { noLeader, sortedValues, type MetadataState, type PartitionRecord, type TopicRecord } from './metadata-state.js';
import { desiredLeadership, setLeadership } from './partition-leadership.js';

export interface AlterPartitionOutput {
  partition: PartitionRecord;
}

export interface CommandError {
  code: ErrorCode;
  message: string;
}

export interface ElectLeaderResult {
  topic: string;
  partition: number;
  changed: boolean;
  /** null on success. */
  error: CommandError | null;
  /** The partition after the election; null when it does not exist. */
  record: PartitionRecord | null;
}

export interface ElectLeadersOutput {
  results: ElectLeaderResult[];
}

export function requirePartition(topic: TopicRecord, partition: number): PartitionRecord {
  const record = topic.partitions[partition];
  if (!Number.isSafeInteger(partition) || record === undefined) {
    rejectCommand('PARTITION_NOT_FOUND', `topic "${topic.name}" has ${topic.partitions.length} partitions; partition ${partition} does not exist`);
  }
  return record;
}

/**
 * An ISR change from a partition's leader (Kafka's AlterPartition). Accepted only from the current
 * leader with its current broker epoch, based on the current leader and partition epochs; the new
 * ISR must contain the leader and only unfenced replicas at the epochs they replicated with.
 */
export function alterPartition(context: ApplyContext, command: AlterPartitionCommand): AlterPartitionOutput {
  const { state } = context;
  const broker = requireCurrentBroker(state, command.brokerId, command.brokerEpoch);
  if (broker.fenced) rejectCommand('FENCED', `broker ${broker.brokerId} is fenced; it leads nothing until a heartbeat unfences it`);
  const topic = requireTopic(state, command.topic, command.topicId);
  const partition = requirePartition(topic, command.partition);
  const where = `${topic.name}/${partition.partition}`;
  if (command.leaderEpoch !== partition.leaderEpoch) {
    rejectCommand('STALE_EPOCH', `${where}: leader epoch ${command.leaderEpoch} is not the current ${partition.leaderEpoch}`);
  }
  if (partition.leader !== broker.brokerId) {
    rejectCommand('NOT_LEADER', `${where}: broker ${broker.brokerId} does not lead it; the leader is ${partition.leader === noLeader ? 'none' : `broker ${partition.leader}`}`);
  }
  if (command.partitionEpoch !== partition.partitionEpoch) {
    rejectCommand('STALE_EPOCH', `${where}: partition epoch ${command.partitionEpoch} is not the current ${partition.partitionEpoch}`);
  }
  const isr = checkedIsr(state, partition, command.newIsr, where);
  setLeadership(context, topic, partition, { leader: partition.leader, isr });
  return { partition: copyPartition(partition) };
}

function checkedIsr(state: MetadataState, partition: PartitionRecord, newIsr: readonly IsrMember[], where: string): number[] {
  const ids = newIsr.map((member) => member.brokerId);
  if (new Set(ids).size !== ids.length) rejectCommand('INVALID_REQUEST', `${where}: the new ISR [${ids.join(', ')}] names a broker twice`);
  if (!ids.includes(partition.leader)) rejectCommand('INVALID_REQUEST', `${where}: the new ISR [${ids.join(', ')}] leaves out the leader ${partition.leader}`);
  for (const member of newIsr) {
    if (!partition.replicas.includes(member.brokerId)) {
      rejectCommand('INVALID_REQUEST', `${where}: broker ${member.brokerId} is not a replica (replicas are [${partition.replicas.join(', ')}])`);
    }
    const broker = state.brokers.get(member.brokerId);
    if (broker === undefined || broker.fenced || broker.brokerEpoch !== member.brokerEpoch) {
      const standing = broker === undefined ? 'is not registered' : broker.fenced ? 'is fenced' : `has epoch ${broker.brokerEpoch}`;
      rejectCommand('FENCED', `${where}: ISR member ${member.brokerId} replicated with epoch ${member.brokerEpoch} but ${standing}; it must catch up again`);
    }
    if (broker.shuttingDown && !partition.isr.includes(broker.brokerId)) {
      rejectCommand('INVALID_REQUEST', `${where}: broker ${broker.brokerId} is shutting down and cannot join the ISR`);
    }
  }
  return ids;
}

/**
 * Preferred election moves leadership to the first replica when it is live and in sync. Unclean
 * election gives an offline partition a leader: an in-sync replica if one is live, else any live
 * replica (which may lose acknowledged records; the operator asked for it, so the topic's setting
 * does not matter). Each partition succeeds or fails on its own.
 */
export function electLeaders(context: ApplyContext, command: ElectLeadersCommand): ElectLeadersOutput {
  requireRoom(0, command.partitions.length, metadataLimits.electLeadersPartitionsMax, 'partitions named in one election');
  if (command.election === 'unclean' && command.partitions.length === 0) {
    rejectCommand('INVALID_REQUEST', 'an unclean election must name its partitions; only a preferred election may name none');
  }
  const targets = command.partitions.length > 0 ? command.partitions : unpreferredPartitions(context.state);
  return { results: targets.map((target) => electOne(context, command.election, target)) };
}

function unpreferredPartitions(state: MetadataState): TopicPartition[] {
  const targets: TopicPartition[] = [];
  for (const topic of sortedValues(state.topics)) {
    for (const partition of topic.partitions) {
      if (partition.leader !== partition.replicas[0]) targets.push({ topic: topic.name, partition: partition.partition });
    }
  }
  return targets;
}

function electOne(context: ApplyContext, election: ElectLeadersCommand['election'], target: TopicPartition): ElectLeaderResult {
  const result: ElectLeaderResult = { topic: target.topic, partition: target.partition, changed: false, error: null, record: null };
  try {
    const topic = requireTopic(context.state, target.topic, '');
    const partition = requirePartition(topic, target.partition);
    result.changed = election === 'preferred' ? electPreferred(context, topic, partition) : electUnclean(context, topic, partition);
    result.record = copyPartition(partition);
  } catch (error) {
    if (!(error instanceof TributaryError)) throw error;
    result.error = { code: error.code, message: error.message };
  }
  return result;
}

function electPreferred(context: ApplyContext, topic: TopicRecord, partition: PartitionRecord): boolean {
  const preferred = partition.replicas[0] ?? noLeader;
  if (partition.leader === preferred) return false;
  const broker = context.state.brokers.get(preferred);
  if (broker === undefined || broker.fenced || broker.shuttingDown || !partition.isr.includes(preferred)) {
    rejectCommand('NOT_AVAILABLE', `${topic.name}/${partition.partition}: preferred replica ${preferred} is not live and in sync (ISR [${partition.isr.join(', ')}])`);
  }
  return setLeadership(context, topic, partition, { leader: preferred, isr: partition.isr });
}

function electUnclean(context: ApplyContext, topic: TopicRecord, partition: PartitionRecord): boolean {
  if (partition.leader !== noLeader) return false;
  const next = desiredLeadership(context.state, partition, true);
  if (next.leader === noLeader) {
    rejectCommand('NOT_AVAILABLE', `${topic.name}/${partition.partition}: no replica of [${partition.replicas.join(', ')}] is live`);
  }
  return setLeadership(context, topic, partition, next);
}
