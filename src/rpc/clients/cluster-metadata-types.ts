import type { CompressionCodec, TopicConfig } from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import { fromErrorDetail } from '../error-status.js';
import { ControllerRole, type ControllerInfo as WireControllerInfo, type PartitionInfo as WirePartitionInfo, type TopicConfig as WireTopicConfig, type TopicInfo as WireTopicInfo } from '../generated/tributary/common/v1/cluster.js';
import { type BrokerInfo as WireBrokerInfo, BrokerState, Codec, type ErrorDetail } from '../generated/tributary/common/v1/common.js';

/*
 * Cluster metadata as the SDK and CLI see it: plain records, never generated protobuf types, and
 * the decoders that build them from the wire (the clients' one mapping place).
 */

export type { CompressionCodec, TopicConfig };

export interface PartitionInfo {
  partition: number;
  /** Node ids in preference order; the first is the preferred leader. */
  replicas: number[];
  /** 0 while the partition is offline. */
  leader: number;
  isr: number[];
  leaderEpoch: number;
  partitionEpoch: number;
}

export interface TopicInfo {
  name: string;
  /** Empty for a validate-only plan. */
  topicId: string;
  config: TopicConfig;
  /** Ordered by partition; empty when a listing left partitions out. */
  partitions: PartitionInfo[];
}

export type BrokerStanding = 'active' | 'fenced' | 'shuttingDown';

export interface BrokerInfo {
  nodeId: number;
  address: string;
  rack: string;
  incarnationEpoch: number;
  state: BrokerStanding;
}

export interface ControllerInfo {
  nodeId: number;
  address: string;
  role: 'voter' | 'learner';
  /** As the responder knows it. */
  isLeader: boolean;
  /** Known only to the leader; 0 elsewhere. */
  matchIndex: number;
}

const compressionOf: Partial<Record<Codec, CompressionCodec>> = { [Codec.NONE]: 'none', [Codec.LZ4]: 'lz4', [Codec.ZSTD]: 'zstd' };
const codecOf: Record<CompressionCodec, Codec> = { none: Codec.NONE, lz4: Codec.LZ4, zstd: Codec.ZSTD };
const standingOf: Partial<Record<BrokerState, BrokerStanding>> = {
  [BrokerState.ACTIVE]: 'active', [BrokerState.FENCED]: 'fenced', [BrokerState.SHUTTING_DOWN]: 'shuttingDown',
};

export function codecToProto(compression: CompressionCodec): Codec {
  return codecOf[compression];
}

export function topicConfigFromProto(config: WireTopicConfig | undefined): TopicConfig {
  if (config === undefined) throw new TributaryError('UNKNOWN', 'the server sent a topic without its configuration');
  const compression = compressionOf[config.compression];
  if (compression === undefined) throw new TributaryError('UNKNOWN', `the server sent codec ${config.compression}, which this client does not know`);
  return {
    partitions: config.partitions,
    replicationFactor: config.replicationFactor,
    minInSyncReplicas: config.minInsyncReplicas,
    retentionMs: config.retentionMs,
    retentionBytes: config.retentionBytes,
    compression,
    maxMessageBytes: config.maxMessageBytes,
    uncleanLeaderElection: config.uncleanLeaderElection,
    labels: { ...config.labels },
  };
}

export function partitionFromProto(partition: WirePartitionInfo): PartitionInfo {
  return {
    partition: partition.topicPartition?.partition ?? 0,
    replicas: [...partition.replicas],
    leader: partition.leader,
    isr: [...partition.isr],
    leaderEpoch: partition.leaderEpoch,
    partitionEpoch: partition.partitionEpoch,
  };
}

export function topicFromProto(topic: WireTopicInfo | undefined): TopicInfo {
  if (topic === undefined) throw new TributaryError('UNKNOWN', 'the server answered without the topic');
  return { name: topic.name, topicId: topic.topicId, config: topicConfigFromProto(topic.config), partitions: topic.partitions.map(partitionFromProto) };
}

export function brokerFromProto(broker: WireBrokerInfo): BrokerInfo {
  const { nodeId, address, rack, incarnationEpoch } = broker;
  const state = standingOf[broker.state];
  if (state === undefined) throw new TributaryError('UNKNOWN', `the server sent broker state ${broker.state} for broker ${nodeId}, which this client does not know; upgrade the client`);
  return { nodeId, address, rack, incarnationEpoch, state };
}

export function controllerFromProto(controller: WireControllerInfo): ControllerInfo {
  const { nodeId, address, isLeader, matchIndex } = controller;
  return { nodeId, address, role: controller.role === ControllerRole.LEARNER ? 'learner' : 'voter', isLeader, matchIndex };
}

/** An inline per-item error as a TributaryError; undefined when the item succeeded. */
export function itemErrorFromProto(error: ErrorDetail | undefined): TributaryError | undefined {
  return error === undefined ? undefined : fromErrorDetail(error);
}
