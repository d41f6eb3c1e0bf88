import {
  AdminClient, type BrokerInfo, type ClusterDescription, ConsumerClient, type CreateTopicOptions, type ElectLeaderOutcome, type ListTopicsOptions,
  MetadataClient, type TopicInfo, type TopicLookup,
} from '../rpc/clients/index.js';
import { type ConnectionOptions, controllerOptionsOf } from './client-settings.js';
import { listPartitionOffsets, type PartitionOffsets } from './partition-offsets.js';

/**
 * Cluster administration for applications: topics through the controller quorum (AdminService,
 * MetadataService) and partition offsets from their leaders (ConsumerService.ListOffsets).
 */
export class Admin {
  private readonly admin: AdminClient;
  private readonly metadata: MetadataClient;
  private readonly consumer: ConsumerClient;

  constructor(options: ConnectionOptions) {
    const connection = controllerOptionsOf(options, 'tributary-admin');
    this.admin = new AdminClient(connection);
    this.metadata = new MetadataClient(connection);
    this.consumer = new ConsumerClient(connection);
  }

  createTopic(name: string, options: CreateTopicOptions = {}): Promise<{ topic: TopicInfo; metadataVersion: number }> {
    return this.admin.createTopic(name, options);
  }

  deleteTopic(name: string, options: { topicId?: string } = {}): Promise<{ topicId: string; metadataVersion: number }> {
    return this.admin.deleteTopic(name, options);
  }

  /** The named topics in the order asked; a missing one carries TOPIC_NOT_FOUND. */
  describeTopics(names: readonly string[]): Promise<{ topics: TopicLookup[]; brokers: BrokerInfo[] }> {
    return this.metadata.topics(names);
  }

  /** Every topic in name order (paged underneath). */
  listTopics(options: Omit<ListTopicsOptions, 'pageToken'> = {}): Promise<TopicInfo[]> {
    return this.metadata.allTopics(options);
  }

  describeCluster(): Promise<ClusterDescription> {
    return this.admin.describeCluster();
  }

  /** Preferred (or unclean) leader election; empty `partitions` with 'preferred' means every partition. */
  electLeaders(election: 'preferred' | 'unclean', partitions: Array<{ topic: string; partition: number }>): Promise<{ results: ElectLeaderOutcome[]; metadataVersion: number }> {
    return this.admin.electLeaders(election, partitions);
  }

  /** Each partition's log start offset, high watermark and log end offset, asked of its leader; TOPIC_NOT_FOUND when the topic does not exist. */
  async listOffsets(topic: string): Promise<PartitionOffsets[]> {
    const { topics, brokers } = await this.metadata.topics([topic]);
    const [lookup] = topics;
    if (lookup?.topic === undefined) throw lookup?.error ?? new Error(`the controllers answered a lookup of topic "${topic}" without it`);
    return listPartitionOffsets(this.consumer, lookup.topic, brokers);
  }

  close(): void {
    this.admin.close();
    this.metadata.close();
    this.consumer.close();
  }
}
