import type { TributaryError } from '../../errors/index.js';
import { ControllerRole } from '../generated/tributary/common/v1/cluster.js';
import {
  type AddControllerResponse, AdminServiceClient, type AlterTopicConfigResponse, type CreateTopicResponse, type DeleteTopicResponse,
  type DescribeClusterResponse, ElectionType, type ElectLeadersResponse, type RemoveControllerResponse, type TransferControllerLeadershipResponse,
} from '../generated/tributary/controller/v1/admin_service.js';
import {
  type BrokerInfo, brokerFromProto, codecToProto, type ControllerInfo, controllerFromProto, itemErrorFromProto, partitionFromProto,
  type PartitionInfo, type TopicConfig, topicConfigFromProto, type TopicInfo, topicFromProto,
} from './cluster-metadata-types.js';
import { ControllerChannels, type ControllerClientOptions } from './controller-channels.js';
import { newRequestHeader } from './request-header.js';

export interface CreateTopicOptions {
  /** Unset fields take the cluster defaults (docs/CONTROLLER.md). */
  config?: Partial<TopicConfig>;
  /** Explicit replicas per partition, in partition order. */
  replicaAssignment?: number[][];
  validateOnly?: boolean;
  /** A retry with the same key returns the existing topic, so the call is safe to retry after a timeout. */
  idempotencyKey?: string;
}

/** The mutable keys to change; unset keys keep their value. Labels are patched: set, then remove. */
export interface TopicConfigChanges {
  minInSyncReplicas?: number;
  retentionMs?: number;
  retentionBytes?: number;
  compression?: TopicConfig['compression'];
  maxMessageBytes?: number;
  uncleanLeaderElection?: boolean;
  setLabels?: Record<string, string>;
  removeLabels?: string[];
}

/** One controller's view of the cluster (DescribeCluster). */
export interface ClusterDescription {
  clusterId: string;
  /** 0 when the responder knows no leader. */
  leaderId: number;
  metadataVersion: number;
  controllers: ControllerInfo[];
  brokers: BrokerInfo[];
  responderId: number;
  term: number;
  commitIndex: number;
  appliedIndex: number;
}

export interface ElectLeaderOutcome {
  topic: string;
  partition: number;
  changed: boolean;
  /** The partition after the election; undefined when it does not exist. */
  partitionInfo: PartitionInfo | undefined;
  error: TributaryError | undefined;
}

/**
 * `tributary.controller.v1.AdminService` for the SDK and CLI. Every call goes to the controller
 * leader through a LeaderRouter over the bootstrap list; reads are retried after a timeout,
 * writes are not (they may have been applied), except a create that carries an idempotency key.
 */
export class AdminClient {
  private readonly channels: ControllerChannels<AdminServiceClient>;

  constructor(options: ControllerClientOptions) {
    this.channels = new ControllerChannels((address, credentials, channelOptions) => new AdminServiceClient(address, credentials, channelOptions), options);
  }

  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<{ topic: TopicInfo; metadataVersion: number }> {
    const idempotencyKey = options.idempotencyKey ?? '';
    const request = {
      header: this.header(),
      name,
      config: wireConfig(options.config ?? {}),
      replicaAssignment: (options.replicaAssignment ?? []).map((replicas, partition) => ({ partition, replicas })),
      validateOnly: options.validateOnly ?? false,
      idempotencyKey,
    };
    const response = await this.channels.routed<CreateTopicResponse>((stub, ...rest) => stub.createTopic(request, ...rest), { idempotent: idempotencyKey !== '' || request.validateOnly });
    return { topic: topicFromProto(response.topic), metadataVersion: response.metadataVersion };
  }

  /** With `topicId`, only that incarnation of the topic is deleted. */
  async deleteTopic(name: string, options: { topicId?: string } = {}): Promise<{ topicId: string; metadataVersion: number }> {
    const request = { header: this.header(), name, topicId: options.topicId ?? '' };
    const { topicId, metadataVersion } = await this.channels.routed<DeleteTopicResponse>((stub, ...rest) => stub.deleteTopic(request, ...rest), { idempotent: false });
    return { topicId, metadataVersion };
  }

  async alterTopicConfig(name: string, changes: TopicConfigChanges, options: { topicId?: string } = {}): Promise<{ config: TopicConfig; metadataVersion: number }> {
    const request = {
      header: this.header(),
      name,
      topicId: options.topicId ?? '',
      minInsyncReplicas: changes.minInSyncReplicas,
      retentionMs: changes.retentionMs,
      retentionBytes: changes.retentionBytes,
      compression: changes.compression === undefined ? undefined : codecToProto(changes.compression),
      maxMessageBytes: changes.maxMessageBytes,
      uncleanLeaderElection: changes.uncleanLeaderElection,
      setLabels: { ...changes.setLabels },
      removeLabels: [...(changes.removeLabels ?? [])],
    };
    const response = await this.channels.routed<AlterTopicConfigResponse>((stub, ...rest) => stub.alterTopicConfig(request, ...rest), { idempotent: false });
    return { config: topicConfigFromProto(response.config), metadataVersion: response.metadataVersion };
  }

  /** The leader's linearizable view of the cluster. */
  async describeCluster(options: { includeFenced?: boolean } = {}): Promise<ClusterDescription> {
    const request = { header: this.header(), allowFollower: false, includeFenced: options.includeFenced ?? false };
    return describedFromProto(await this.channels.routed<DescribeClusterResponse>((stub, ...rest) => stub.describeCluster(request, ...rest), { idempotent: true }));
  }

  /** What the controller at `address` itself knows, leader or not, without redirects (for status tools). */
  async describeController(address: string, options: { includeFenced?: boolean } = {}): Promise<ClusterDescription> {
    const request = { header: this.header(), allowFollower: true, includeFenced: options.includeFenced ?? false };
    return describedFromProto(await this.channels.direct<DescribeClusterResponse>(address, (stub, ...rest) => stub.describeCluster(request, ...rest)));
  }

  /** Empty `partitions` with 'preferred': every partition not led by its preferred replica. */
  async electLeaders(election: 'preferred' | 'unclean', partitions: Array<{ topic: string; partition: number }>): Promise<{ results: ElectLeaderOutcome[]; metadataVersion: number }> {
    const request = { header: this.header(), electionType: election === 'preferred' ? ElectionType.PREFERRED : ElectionType.UNCLEAN, partitions };
    const response = await this.channels.routed<ElectLeadersResponse>((stub, ...rest) => stub.electLeaders(request, ...rest), { idempotent: false });
    const results = response.results.map((result) => ({
      topic: result.topicPartition?.topic ?? '',
      partition: result.topicPartition?.partition ?? 0,
      changed: result.changed,
      partitionInfo: result.partition === undefined ? undefined : partitionFromProto(result.partition),
      error: itemErrorFromProto(result.error),
    }));
    return { results, metadataVersion: response.metadataVersion };
  }

  /** Hands Raft leadership to `targetNodeId` (0: the most caught-up voter); resolves once it leads. */
  async transferLeadership(targetNodeId: number): Promise<{ leaderId: number; term: number }> {
    const request = { header: this.header(), targetNodeId };
    const { leaderId, term } = await this.channels.routed<TransferControllerLeadershipResponse>((stub, ...rest) => stub.transferControllerLeadership(request, ...rest), { idempotent: false });
    return { leaderId, term };
  }

  /**
   * Adds a controller as a learner; as a voter (the default) it is promoted once it caught up, and
   * the call resolves after the promotion unless `waitForPromotion` is false.
   */
  async addController(
    nodeId: number, address: string, options: { role?: 'voter' | 'learner'; waitForPromotion?: boolean } = {},
  ): Promise<{ controller: ControllerInfo | undefined; metadataVersion: number }> {
    const targetRole = options.role === 'learner' ? ControllerRole.LEARNER : ControllerRole.VOTER;
    const request = { header: this.header(), nodeId, address, targetRole, waitForPromotion: options.waitForPromotion ?? true };
    // Idempotent on the server for the same id and address, so a timed-out call may be repeated.
    const response = await this.channels.routed<AddControllerResponse>((stub, ...rest) => stub.addController(request, ...rest), { idempotent: true });
    return { controller: response.controller === undefined ? undefined : controllerFromProto(response.controller), metadataVersion: response.metadataVersion };
  }

  /** Removes a voter or learner; removing one that is not in the quorum succeeds. */
  async removeController(nodeId: number): Promise<{ controllers: ControllerInfo[]; metadataVersion: number }> {
    const request = { header: this.header(), nodeId };
    const response = await this.channels.routed<RemoveControllerResponse>((stub, ...rest) => stub.removeController(request, ...rest), { idempotent: true });
    return { controllers: response.controllers.map(controllerFromProto), metadataVersion: response.metadataVersion };
  }

  close(): void {
    this.channels.close();
  }

  private header() {
    return newRequestHeader(this.channels.options.clientId);
  }
}

/** Unset fields travel as 0 / UNSPECIFIED, which the server reads as "take the default". */
function wireConfig(config: Partial<TopicConfig>) {
  return {
    partitions: config.partitions ?? 0,
    replicationFactor: config.replicationFactor ?? 0,
    minInsyncReplicas: config.minInSyncReplicas ?? 0,
    retentionMs: config.retentionMs ?? 0,
    retentionBytes: config.retentionBytes ?? 0,
    compression: config.compression === undefined ? 0 : codecToProto(config.compression),
    maxMessageBytes: config.maxMessageBytes ?? 0,
    uncleanLeaderElection: config.uncleanLeaderElection ?? false,
    labels: { ...config.labels },
  };
}

function describedFromProto(response: DescribeClusterResponse): ClusterDescription {
  return {
    clusterId: response.clusterId,
    leaderId: response.leaderId,
    metadataVersion: response.metadataVersion,
    controllers: response.controllers.map(controllerFromProto),
    brokers: response.brokers.map(brokerFromProto),
    responderId: response.responderId,
    term: response.term,
    commitIndex: response.commitIndex,
    appliedIndex: response.appliedIndex,
  };
}
