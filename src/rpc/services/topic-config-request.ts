import type {
  CreateTopicCommand, MetadataState, TopicConfig as DomainTopicConfig, UpdateTopicConfigCommand,
} from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import type { TopicConfig } from '../generated/tributary/common/v1/cluster.js';
import type { AlterTopicConfigRequest, CreateTopicRequest } from '../generated/tributary/controller/v1/admin_service.js';
import { compressionFromProto } from './cluster-metadata-mapping.js';

/**
 * The cluster defaults a CreateTopic fills into unset config fields (docs/CONTROLLER.md). proto3
 * cannot tell an unset number from 0, so every field whose 0 is meaningful defaults to that 0:
 * retention is unbounded unless asked for, and nothing is ever deleted by a default.
 */
export const topicConfigDefaults = {
  partitions: 1,
  /** Three copies, or as many as there are live brokers when fewer. */
  replicationFactorMax: 3,
  /** Two in-sync copies for an ACKS_ALL write once there are three; one below that. */
  minInSyncReplicasMax: 2,
  retentionMs: 0,
  retentionBytes: 0,
  compression: 'none',
  maxMessageBytes: 1_048_576,
  uncleanLeaderElection: false,
} as const;

/** The replication factor a topic gets when the request leaves it unset. */
export function defaultReplicationFactor(state: MetadataState): number {
  let live = 0;
  for (const broker of state.brokers.values()) if (!broker.fenced && !broker.shuttingDown) live += 1;
  return Math.max(1, Math.min(topicConfigDefaults.replicationFactorMax, live));
}

/** min(2, replication factor - 1), at least 1: a write survives losing one copy once there are three. */
export function defaultMinInSyncReplicas(replicationFactor: number): number {
  return Math.max(1, Math.min(topicConfigDefaults.minInSyncReplicasMax, replicationFactor - 1));
}

/** A CreateTopic request as the complete command the state machine applies, defaults filled from `state`. */
export function createTopicCommandOf(request: CreateTopicRequest, state: MetadataState): CreateTopicCommand {
  const assignment = replicaAssignmentOf(request);
  const wire = request.config;
  const partitions = wire?.partitions || assignment.length || topicConfigDefaults.partitions;
  const replicationFactor = wire?.replicationFactor || assignment[0]?.length || defaultReplicationFactor(state);
  const config: DomainTopicConfig = {
    partitions,
    replicationFactor,
    minInSyncReplicas: wire?.minInsyncReplicas || defaultMinInSyncReplicas(replicationFactor),
    retentionMs: wire?.retentionMs ?? topicConfigDefaults.retentionMs,
    retentionBytes: wire?.retentionBytes ?? topicConfigDefaults.retentionBytes,
    compression: compressionOrDefault(wire),
    maxMessageBytes: wire?.maxMessageBytes || topicConfigDefaults.maxMessageBytes,
    uncleanLeaderElection: wire?.uncleanLeaderElection ?? topicConfigDefaults.uncleanLeaderElection,
    labels: { ...wire?.labels },
  };
  return { type: 'createTopic', name: request.name, config, replicaAssignment: assignment, idempotencyKey: request.idempotencyKey };
}

function compressionOrDefault(wire: TopicConfig | undefined): DomainTopicConfig['compression'] {
  if (wire === undefined) return topicConfigDefaults.compression;
  return compressionFromProto(wire.compression, 'config.compression') ?? topicConfigDefaults.compression;
}

/** Explicit replicas by partition: every partition 0..n-1 exactly once, in any order on the wire. */
function replicaAssignmentOf(request: CreateTopicRequest): number[][] {
  const entries = request.replicaAssignment;
  const byPartition: number[][] = [];
  for (const entry of entries) {
    if (entry.partition >= entries.length || byPartition[entry.partition] !== undefined) {
      throw new TributaryError('INVALID_REQUEST',
        `topic "${request.name}": replica_assignment names partition ${entry.partition}; it must list partitions 0-${entries.length - 1} once each`);
    }
    byPartition[entry.partition] = [...entry.replicas];
  }
  return byPartition;
}

/** An AlterTopicConfig request as an updateTopicConfig command: only the fields it sets change. */
export function updateTopicConfigCommandOf(request: AlterTopicConfigRequest): UpdateTopicConfigCommand {
  const changes: UpdateTopicConfigCommand['changes'] = {};
  if (request.minInsyncReplicas !== undefined) changes.minInSyncReplicas = request.minInsyncReplicas;
  if (request.retentionMs !== undefined) changes.retentionMs = request.retentionMs;
  if (request.retentionBytes !== undefined) changes.retentionBytes = request.retentionBytes;
  if (request.maxMessageBytes !== undefined) changes.maxMessageBytes = request.maxMessageBytes;
  if (request.uncleanLeaderElection !== undefined) changes.uncleanLeaderElection = request.uncleanLeaderElection;
  if (request.compression !== undefined) {
    const compression = compressionFromProto(request.compression, 'compression');
    if (compression === undefined) throw new TributaryError('INVALID_REQUEST', `topic "${request.name}": compression CODEC_UNSPECIFIED is not a codec; leave the field unset to keep the current one`);
    changes.compression = compression;
  }
  return {
    type: 'updateTopicConfig',
    name: request.name,
    topicId: request.topicId,
    changes,
    labels: { set: { ...request.setLabels }, remove: [...request.removeLabels] },
  };
}
