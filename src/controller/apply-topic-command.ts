import assert from 'node:assert/strict';
import { rejectCommand, requireRoom, type ApplyContext } from './apply-context.js';
import type { CreateTopicCommand, DeleteTopicCommand, TopicLabelChanges, UpdateTopicConfigCommand } from './metadata-command.js';
import { partitionChangedDelta, topicCreatedDelta } from './metadata-delta.js';
import { metadataLimits } from './metadata-limits.js';
import {
  copyTopicConfig, mutableTopicConfigKeys, sortedValues, topicIdFromIndex, type MetadataState, type PartitionRecord, type TopicConfig, type TopicRecord,
} from './metadata-state.js';
import { desiredLeadership, pickLeader, setLeadership } from './partition-leadership.js';
import { placeReplicas, type PlacementLoad } from './place-replicas.js';
import { copyTopic } from './metadata-queries.js';
import { validateLabelKey, validateName, validateTopicConfig } from './validate-topic-config.js';

export interface CreateTopicOutput {
  topic: TopicRecord;
  /** False when an earlier create with the same idempotency key already made the topic. */
  created: boolean;
}

export interface DeleteTopicOutput {
  topicId: string;
}

export interface UpdateTopicConfigOutput {
  config: TopicConfig;
}

export function createTopic(context: ApplyContext, command: CreateTopicCommand): CreateTopicOutput {
  const existing = context.state.topics.get(command.name);
  if (existing !== undefined && command.idempotencyKey !== '' && existing.idempotencyKey === command.idempotencyKey) {
    return { topic: copyTopic(existing), created: false };
  }
  const topic = planCreateTopic(context.state, command, topicIdFromIndex(context.index));
  context.state.topics.set(topic.name, topic);
  context.deltas.push(topicCreatedDelta(context.index, topic));
  for (const partition of topic.partitions) context.deltas.push(partitionChangedDelta(context.index, topic, partition));
  return { topic: copyTopic(topic), created: true };
}

/**
 * Validates a create and places its replicas without changing the state: the topic as it would be
 * created with id `topicId`. Services call it directly for validate-only requests; it throws a
 * TributaryError naming the problem.
 */
export function planCreateTopic(state: MetadataState, command: CreateTopicCommand, topicId: string): TopicRecord {
  const { name, config } = command;
  validateName(name, 'topic');
  validateTopicConfig(name, config);
  const existing = state.topics.get(name);
  if (existing !== undefined) rejectCommand('TOPIC_ALREADY_EXISTS', `topic "${name}" already exists with id ${existing.topicId}`);
  if (command.idempotencyKey.length > metadataLimits.identifierLengthMax) {
    rejectCommand('INVALID_REQUEST', `topic "${name}": idempotency key is longer than ${metadataLimits.identifierLengthMax} characters`);
  }
  requireRoom(state.topics.size, 1, metadataLimits.topicsMax, 'topics');
  requireRoom(countPartitions(state), config.partitions, metadataLimits.partitionsMax, 'partitions in the cluster');
  const assignment = command.replicaAssignment.length > 0 ? checkedAssignment(state, command) : placeTopic(state, name, config);
  const partitions = assignment.map((replicas, partition): PartitionRecord => {
    const leader = pickLeader(state, replicas);
    assert.ok(leader !== undefined, 'placement uses live brokers only');
    return { partition, replicas, leader, isr: [...replicas], leaderEpoch: 1, partitionEpoch: 1 };
  });
  return { topicId, name, config: copyTopicConfig(config), partitions, idempotencyKey: command.idempotencyKey };
}

function countPartitions(state: MetadataState): number {
  let count = 0;
  for (const topic of state.topics.values()) count += topic.partitions.length;
  return count;
}

function placeTopic(state: MetadataState, name: string, config: TopicConfig): number[][] {
  const eligible = sortedValues(state.brokers).filter((broker) => !broker.fenced && !broker.shuttingDown);
  if (eligible.length < config.replicationFactor) {
    const ids = eligible.map((broker) => broker.brokerId).join(', ');
    rejectCommand('NOT_ENOUGH_REPLICAS',
      `topic "${name}" needs replication factor ${config.replicationFactor} but only ${eligible.length} brokers are live and unfenced (${ids || 'none'})`);
  }
  const load = new Map<number, PlacementLoad>();
  for (const topic of state.topics.values()) {
    for (const partition of topic.partitions) {
      for (const id of partition.replicas) {
        const entry = load.get(id) ?? { replicas: 0, leaders: 0 };
        entry.replicas += 1;
        if (partition.leader === id) entry.leaders += 1;
        load.set(id, entry);
      }
    }
  }
  const brokers = eligible.map((broker) => ({ brokerId: broker.brokerId, rack: broker.rack }));
  return placeReplicas({ brokers, partitions: config.partitions, replicationFactor: config.replicationFactor, load });
}

function checkedAssignment(state: MetadataState, command: CreateTopicCommand): number[][] {
  const { name, config, replicaAssignment } = command;
  if (replicaAssignment.length !== config.partitions) {
    rejectCommand('INVALID_REQUEST', `topic "${name}": the replica assignment lists ${replicaAssignment.length} partitions but the config has ${config.partitions}`);
  }
  replicaAssignment.forEach((replicas, partition) => {
    if (replicas.length !== config.replicationFactor) {
      rejectCommand('INVALID_REQUEST', `topic "${name}" partition ${partition}: ${replicas.length} replicas given, replication factor is ${config.replicationFactor}`);
    }
    if (new Set(replicas).size !== replicas.length) {
      rejectCommand('INVALID_REQUEST', `topic "${name}" partition ${partition}: replicas [${replicas.join(', ')}] name a broker twice`);
    }
    for (const id of replicas) {
      const broker = state.brokers.get(id);
      if (broker === undefined || broker.fenced) {
        rejectCommand('INVALID_REQUEST', `topic "${name}" partition ${partition}: broker ${id} is ${broker === undefined ? 'not registered' : 'fenced'}`);
      }
    }
  });
  return replicaAssignment.map((replicas) => [...replicas]);
}

/** Deletes a topic and every group's committed offsets for it (they would refer to a topic that no longer exists). */
export function deleteTopic(context: ApplyContext, command: DeleteTopicCommand): DeleteTopicOutput {
  const topic = requireTopic(context.state, command.name, command.topicId);
  context.state.topics.delete(topic.name);
  for (const group of context.state.groups.values()) {
    for (const [key, committed] of group.offsets) if (committed.topic === topic.name) group.offsets.delete(key);
  }
  context.deltas.push({ kind: 'topicDeleted', version: context.index, topicId: topic.topicId, name: topic.name });
  return { topicId: topic.topicId };
}

export function requireTopic(state: MetadataState, name: string, topicId: string): TopicRecord {
  const topic = state.topics.get(name);
  if (topic === undefined) rejectCommand('TOPIC_NOT_FOUND', `topic "${name}" does not exist`);
  if (topicId !== '' && topic.topicId !== topicId) {
    rejectCommand('TOPIC_NOT_FOUND', `topic "${name}" has id ${topic.topicId}, not ${topicId}: the topic was deleted and re-created`);
  }
  return topic;
}

/**
 * Changes the mutable part of a topic's config. Turning unclean election on elects a leader at once
 * for offline partitions that have a live replica, as Kafka does.
 */
export function updateTopicConfig(context: ApplyContext, command: UpdateTopicConfigCommand): UpdateTopicConfigOutput {
  const topic = requireTopic(context.state, command.name, command.topicId);
  const next = copyTopicConfig(topic.config);
  let changed = 0;
  for (const key of mutableTopicConfigKeys) {
    const value = command.changes[key];
    if (value === undefined) continue;
    (next as unknown as Record<string, unknown>)[key] = value;
    changed += 1;
  }
  if (command.labels !== undefined) changed += patchLabels(topic.name, next.labels, command.labels);
  if (changed === 0) {
    rejectCommand('INVALID_REQUEST', `topic "${topic.name}": the update changes nothing; name at least one of ${mutableTopicConfigKeys.join(', ')}, labels`);
  }
  validateTopicConfig(topic.name, next);
  const uncleanTurnedOn = next.uncleanLeaderElection && !topic.config.uncleanLeaderElection;
  topic.config = next;
  context.deltas.push({ kind: 'topicConfigChanged', version: context.index, topicId: topic.topicId, name: topic.name, config: copyTopicConfig(next) });
  if (uncleanTurnedOn) {
    for (const partition of topic.partitions) setLeadership(context, topic, partition, desiredLeadership(context.state, partition, true));
  }
  return { config: copyTopicConfig(next) };
}

/** Applies a label patch to `labels` (a copy); returns how many keys it names. The result is validated with the config. */
function patchLabels(topic: string, labels: Record<string, string>, changes: TopicLabelChanges): number {
  const setKeys = Object.keys(changes.set);
  for (const key of [...setKeys, ...changes.remove]) validateLabelKey(topic, key);
  const both = changes.remove.find((key) => Object.hasOwn(changes.set, key));
  if (both !== undefined) rejectCommand('INVALID_REQUEST', `topic "${topic}": label "${both}" is both set and removed`);
  for (const key of setKeys) labels[key] = changes.set[key] as string;
  for (const key of changes.remove) delete labels[key];
  return setKeys.length + changes.remove.length;
}
