import type { TributaryError } from '../../errors/index.js';
import type { LeaderHint } from '../../errors/index.js';
import {
  type GetClusterMetadataResponse, type GetPartitionLeaderResponse, type GetTopicMetadataResponse, type ListTopicsResponse, type MetadataFreshness,
  MetadataServiceClient, ReadConsistency, type ReadOptions,
} from '../generated/tributary/client/v1/metadata_service.js';
import {
  type BrokerInfo, brokerFromProto, type ControllerInfo, controllerFromProto, itemErrorFromProto, type TopicInfo, topicFromProto,
} from './cluster-metadata-types.js';
import { ControllerChannels, type ControllerClientOptions } from './controller-channels.js';
import { newRequestHeader } from './request-header.js';

/**
 * How fresh an answer must be. `linearizable` (the default) reflects every change committed
 * before the call; `bounded` accepts a controller's applied state at most `maxStalenessMs` old
 * (0: the server's default); `local` takes whatever the answering controller has applied.
 */
export interface ReadPreference {
  consistency?: 'linearizable' | 'bounded' | 'local';
  maxStalenessMs?: number;
  /** The answer reflects at least this metadata version (from an earlier answer or admin call). */
  minMetadataVersion?: number;
}

/** Which state an answer was built from, as the responder reports it. */
export interface Freshness {
  metadataVersion: number;
  responderId: number;
  servedByLeader: boolean;
  linearizable: boolean;
  /** 0 for linearizable answers; 4294967295 when the responder has never confirmed. */
  stalenessMs: number;
}

export interface ClusterMetadata {
  clusterId: string;
  brokers: BrokerInfo[];
  controllers: ControllerInfo[];
  /** node id 0 when the responder knows of no leader. */
  controllerLeader: LeaderHint;
  freshness: Freshness;
}

export type TopicLookup = { name: string; topic: TopicInfo; error: undefined } | { name: string; topic: undefined; error: TributaryError };

export interface TopicPage {
  topics: TopicInfo[];
  /** Empty on the last page. */
  nextPageToken: string;
  freshness: Freshness;
}

export interface ListTopicsOptions {
  namePrefix?: string;
  /** 0 or unset: the server's default; larger than the server's maximum is clamped. */
  pageSize?: number;
  pageToken?: string;
  includePartitions?: boolean;
  read?: ReadPreference;
}

/** Pages `allTopics` reads at most: 1000 pages of up to 1000 topics cover the cluster's 10 000-topic limit many times. */
export const allTopicsPagesMax = 1_000;

const consistencyOf = { linearizable: ReadConsistency.LINEARIZABLE, bounded: ReadConsistency.BOUNDED_STALENESS, local: ReadConsistency.LOCAL } as const;

/**
 * `tributary.client.v1.MetadataService` for the SDK and CLI: reads cluster metadata from the
 * controllers of a bootstrap list, through a LeaderRouter (reads are idempotent, so timeouts are
 * retried too).
 */
export class MetadataClient {
  private readonly channels: ControllerChannels<MetadataServiceClient>;

  constructor(options: ControllerClientOptions) {
    this.channels = new ControllerChannels((address, credentials, channelOptions) => new MetadataServiceClient(address, credentials, channelOptions), options);
  }

  async clusterMetadata(read: ReadPreference = {}): Promise<ClusterMetadata> {
    const request = { header: this.header(), read: readOptions(read) };
    const response = await this.channels.routed<GetClusterMetadataResponse>((stub, ...rest) => stub.getClusterMetadata(request, ...rest), { idempotent: true });
    return {
      clusterId: response.clusterId,
      brokers: response.brokers.map(brokerFromProto),
      controllers: response.controllers.map(controllerFromProto),
      controllerLeader: response.controllerLeader ?? { nodeId: 0, address: '', epoch: 0 },
      freshness: freshnessFromProto(response.freshness),
    };
  }

  /** The named topics in the order asked; a missing one carries its error (TOPIC_NOT_FOUND). */
  async topics(names: readonly string[], read: ReadPreference = {}): Promise<{ topics: TopicLookup[]; brokers: BrokerInfo[]; freshness: Freshness }> {
    const request = { header: this.header(), read: readOptions(read), topics: [...names] };
    const response = await this.channels.routed<GetTopicMetadataResponse>((stub, ...rest) => stub.getTopicMetadata(request, ...rest), { idempotent: true });
    const topics = response.topics.map((result): TopicLookup => {
      const error = itemErrorFromProto(result.error);
      return error === undefined ? { name: result.name, topic: topicFromProto(result.topic), error } : { name: result.name, topic: undefined, error };
    });
    return { topics, brokers: response.brokers.map(brokerFromProto), freshness: freshnessFromProto(response.freshness) };
  }

  async listTopics(options: ListTopicsOptions = {}): Promise<TopicPage> {
    const request = {
      header: this.header(),
      read: readOptions(options.read ?? {}),
      pageSize: options.pageSize ?? 0,
      pageToken: options.pageToken ?? '',
      namePrefix: options.namePrefix ?? '',
      includePartitions: options.includePartitions ?? false,
    };
    const response = await this.channels.routed<ListTopicsResponse>((stub, ...rest) => stub.listTopics(request, ...rest), { idempotent: true });
    return { topics: response.topics.map(topicFromProto), nextPageToken: response.nextPageToken, freshness: freshnessFromProto(response.freshness) };
  }

  /** Every topic in name order, page by page (at most `allTopicsPagesMax` pages). */
  async allTopics(options: Omit<ListTopicsOptions, 'pageToken'> = {}): Promise<TopicInfo[]> {
    const topics: TopicInfo[] = [];
    let pageToken = '';
    for (let page = 0; page < allTopicsPagesMax; page++) {
      const result = await this.listTopics({ ...options, pageToken });
      topics.push(...result.topics);
      if (result.nextPageToken === '') return topics;
      pageToken = result.nextPageToken;
    }
    return topics;
  }

  /** The partition's leader (node id 0 and no address while offline) and leader epoch. */
  async partitionLeader(topic: string, partition: number, options: { minLeaderEpoch?: number; read?: ReadPreference } = {}): Promise<{ leader: LeaderHint; freshness: Freshness }> {
    const request = { header: this.header(), read: readOptions(options.read ?? {}), topicPartition: { topic, partition }, minLeaderEpoch: options.minLeaderEpoch ?? 0 };
    const response = await this.channels.routed<GetPartitionLeaderResponse>((stub, ...rest) => stub.getPartitionLeader(request, ...rest), { idempotent: true });
    return { leader: response.leader ?? { nodeId: 0, address: '', epoch: 0 }, freshness: freshnessFromProto(response.freshness) };
  }

  close(): void {
    this.channels.close();
  }

  private header() {
    return newRequestHeader(this.channels.options.clientId);
  }
}

function readOptions(read: ReadPreference): ReadOptions {
  return {
    consistency: consistencyOf[read.consistency ?? 'linearizable'],
    maxStalenessMs: read.maxStalenessMs ?? 0,
    minMetadataVersion: read.minMetadataVersion ?? 0,
  };
}

function freshnessFromProto(freshness: MetadataFreshness | undefined): Freshness {
  if (freshness !== undefined) return { ...freshness };
  return { metadataVersion: 0, responderId: 0, servedByLeader: false, linearizable: false, stalenessMs: 4_294_967_295 };
}
