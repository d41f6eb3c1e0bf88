import type {
  BrokerRecord, CommandError, CompressionCodec, ControllerRole as DomainControllerRole, PartitionRecord, TopicConfig as DomainTopicConfig, TopicRecord,
} from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import type { RaftStatus } from '../../raft/index.js';
import { toErrorDetail } from '../error-status.js';
import { ControllerRole, type ControllerInfo, type PartitionInfo, type TopicConfig, type TopicInfo } from '../generated/tributary/common/v1/cluster.js';
import { type BrokerInfo, BrokerState, Codec, type ErrorDetail } from '../generated/tributary/common/v1/common.js';

/*
 * The one place where the controller's domain records become the cluster messages of the wire
 * contract (common/v1/cluster.proto, common.proto) and back, for AdminService and MetadataService.
 */

const codecOf: Record<CompressionCodec, Codec> = { none: Codec.NONE, lz4: Codec.LZ4, zstd: Codec.ZSTD };
const compressionOf: Partial<Record<Codec, CompressionCodec>> = { [Codec.NONE]: 'none', [Codec.LZ4]: 'lz4', [Codec.ZSTD]: 'zstd' };

/** A wire codec as the domain's compression; undefined for UNSPECIFIED (take the default). */
export function compressionFromProto(codec: Codec, field: string): CompressionCodec | undefined {
  if (codec === Codec.UNSPECIFIED) return undefined;
  const compression = compressionOf[codec];
  if (compression === undefined) throw new TributaryError('INVALID_REQUEST', `${field} ${codec} is not a known codec (use CODEC_NONE, CODEC_LZ4 or CODEC_ZSTD)`);
  return compression;
}

export function topicConfigToProto(config: DomainTopicConfig): TopicConfig {
  return {
    partitions: config.partitions,
    replicationFactor: config.replicationFactor,
    minInsyncReplicas: config.minInSyncReplicas,
    retentionMs: config.retentionMs,
    retentionBytes: config.retentionBytes,
    compression: codecOf[config.compression],
    maxMessageBytes: config.maxMessageBytes,
    uncleanLeaderElection: config.uncleanLeaderElection,
    labels: { ...config.labels },
  };
}

export function partitionToProto(topic: string, partition: PartitionRecord): PartitionInfo {
  return {
    topicPartition: { topic, partition: partition.partition },
    replicas: [...partition.replicas],
    leader: partition.leader,
    isr: [...partition.isr],
    leaderEpoch: partition.leaderEpoch,
    partitionEpoch: partition.partitionEpoch,
    // Reassignment is not built yet (docs/CONTROLLER.md), so no replica is ever being moved.
    addingReplicas: [],
    removingReplicas: [],
  };
}

export function topicToProto(topic: TopicRecord, options: { includePartitions: boolean }): TopicInfo {
  return {
    name: topic.name,
    topicId: topic.topicId,
    config: topicConfigToProto(topic.config),
    partitions: options.includePartitions ? topic.partitions.map((partition) => partitionToProto(topic.name, partition)) : [],
  };
}

export function brokerToProto(broker: BrokerRecord): BrokerInfo {
  let state = BrokerState.ACTIVE;
  if (broker.fenced) state = BrokerState.FENCED;
  else if (broker.shuttingDown) state = BrokerState.SHUTTING_DOWN;
  return { nodeId: broker.brokerId, address: broker.address, rack: broker.rack, incarnationEpoch: broker.brokerEpoch, state };
}

export function controllerRoleToProto(role: DomainControllerRole): ControllerRole {
  return role === 'voter' ? ControllerRole.VOTER : ControllerRole.LEARNER;
}

/**
 * The quorum as this controller's Raft status shows it, ordered by node id: roles from the
 * membership, addresses from `addressOf`, match indices only where the status has progress (the
 * leader; itself at its last index).
 */
export function controllersToProto(status: RaftStatus, addressOf: (nodeId: number) => string | undefined): ControllerInfo[] {
  const { voters, learners } = status.membership;
  const members = [...voters.map((nodeId) => ({ nodeId, role: 'voter' as const })), ...learners.map((nodeId) => ({ nodeId, role: 'learner' as const }))];
  members.sort((left, right) => left.nodeId - right.nodeId);
  return members.map(({ nodeId, role }) => ({
    nodeId,
    address: addressOf(nodeId) ?? '',
    role: controllerRoleToProto(role),
    isLeader: nodeId === status.leader,
    matchIndex: matchIndexOf(status, nodeId),
  }));
}

function matchIndexOf(status: RaftStatus, nodeId: number): number {
  if (status.role !== 'leader') return 0;
  if (nodeId === status.id) return status.lastIndex;
  return status.progress.get(nodeId)?.matchIndex ?? 0;
}

/** A per-item failure of the state machine as the inline ErrorDetail of a batched answer. */
export function commandErrorToProto(error: CommandError): ErrorDetail {
  return toErrorDetail(new TributaryError(error.code, error.message));
}
