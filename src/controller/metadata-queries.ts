import type { CommandError } from './apply-partition-command.js';
import type { TopicPartition } from './metadata-command.js';
import { copyPartition } from './metadata-delta.js';
import {
  copyTopicConfig, copyUploadSession, offsetKey, sortedValues, uploadSessionKey, type BrokerRecord, type CommittedOffset, type ControllerRecord, type GroupMember,
  type GroupState, type MemberAssignment, type MetadataState, type TopicRecord, type UploadSessionRecord,
} from './metadata-state.js';

/*
 * Read-only views for the services. Every answer is a copy in a defined order, so a caller can
 * keep it while later commands change the state.
 */

export function copyTopic(topic: TopicRecord): TopicRecord {
  return { ...topic, config: copyTopicConfig(topic.config), partitions: topic.partitions.map(copyPartition) };
}

export type TopicDescription = { name: string; topic: TopicRecord; error: null } | { name: string; topic: null; error: CommandError };

/** The named topics in the order asked, or every topic by name when `names` is empty. */
export function describeTopics(state: MetadataState, names: readonly string[]): TopicDescription[] {
  if (names.length === 0) return sortedValues(state.topics).map((topic) => ({ name: topic.name, topic: copyTopic(topic), error: null }));
  return names.map((name) => {
    const topic = state.topics.get(name);
    if (topic === undefined) return { name, topic: null, error: { code: 'TOPIC_NOT_FOUND', message: `topic "${name}" does not exist` } };
    return { name, topic: copyTopic(topic), error: null };
  });
}

/** Registered brokers by id; fenced ones only when asked for. */
export function listBrokers(state: MetadataState, options: { includeFenced: boolean }): BrokerRecord[] {
  return sortedValues(state.brokers).filter((broker) => options.includeFenced || !broker.fenced).map((broker) => ({ ...broker }));
}

/** Partitions the broker leads, by topic name then partition. */
export function partitionsLedBy(state: MetadataState, brokerId: number): TopicPartition[] {
  const led: TopicPartition[] = [];
  for (const topic of sortedValues(state.topics)) {
    for (const partition of topic.partitions) if (partition.leader === brokerId) led.push({ topic: topic.name, partition: partition.partition });
  }
  return led;
}

export interface CommittedOffsetLookup {
  topic: string;
  partition: number;
  /** null when the group committed nothing for the partition (or the group does not exist). */
  committed: CommittedOffset | null;
  error: CommandError | null;
}

/**
 * Committed offsets of a group: for the named partitions in the order asked, or every committed
 * partition by topic then partition when `partitions` is empty.
 */
export function fetchCommittedOffsets(state: MetadataState, groupId: string, partitions: readonly TopicPartition[]): CommittedOffsetLookup[] {
  const group = state.groups.get(groupId);
  if (partitions.length === 0) {
    if (group === undefined) return [];
    const all = [...group.offsets.values()].sort((left, right) => (left.topic < right.topic ? -1 : left.topic > right.topic ? 1 : left.partition - right.partition));
    return all.map((committed) => ({ topic: committed.topic, partition: committed.partition, committed: { ...committed }, error: null }));
  }
  return partitions.map(({ topic, partition }) => {
    const record = state.topics.get(topic);
    let error: CommandError | null = null;
    if (record === undefined) error = { code: 'TOPIC_NOT_FOUND', message: `topic "${topic}" does not exist` };
    else if (record.partitions[partition] === undefined) {
      error = { code: 'PARTITION_NOT_FOUND', message: `topic "${topic}" has ${record.partitions.length} partitions; partition ${partition} does not exist` };
    }
    const committed = group?.offsets.get(offsetKey(topic, partition));
    return { topic, partition, committed: error === null && committed !== undefined ? { ...committed } : null, error };
  });
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string;
  clientId: string;
  /** The member's metadata for the generation's protocol; what the leader assigns from. */
  protocolMetadata: Uint8Array;
  assignment: MemberAssignment;
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  generation: number;
  protocolType: string;
  protocolName: string;
  leaderMemberId: string;
  members: GroupMemberDescription[];
}

/** A group as JoinGroup and SyncGroup answers need it; null when the group does not exist. */
export function describeGroup(state: MetadataState, groupId: string): GroupDescription | null {
  const group = state.groups.get(groupId);
  if (group === undefined) return null;
  const { state: groupState, generation, protocolType, protocolName, leaderMemberId } = group;
  const members = sortedValues(group.members).map((member) => describeMember(member, protocolName));
  return { groupId, state: groupState, generation, protocolType, protocolName, leaderMemberId, members };
}

function describeMember(member: GroupMember, protocolName: string): GroupMemberDescription {
  const protocol = member.protocols.find((candidate) => candidate.name === protocolName);
  return {
    memberId: member.memberId,
    groupInstanceId: member.groupInstanceId,
    clientId: member.clientId,
    protocolMetadata: (protocol?.metadata ?? new Uint8Array(0)).slice(),
    assignment: {
      partitions: member.assignment.partitions.map((entry) => ({ topic: entry.topic, partitions: [...entry.partitions] })),
      userData: member.assignment.userData.slice(),
    },
  };
}

export function listControllers(state: MetadataState): ControllerRecord[] {
  return sortedValues(state.controllers).map((controller) => ({ ...controller }));
}

export function getUploadSession(state: MetadataState, deviceId: string, sessionId: string): UploadSessionRecord | null {
  const session = state.uploadSessions.get(uploadSessionKey(deviceId, sessionId));
  return session === undefined ? null : copyUploadSession(session);
}
