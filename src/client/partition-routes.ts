import { type LeaderHint, TributaryError } from '../errors/index.js';
import type { BrokerInfo, CompressionCodec, MetadataClient, TopicInfo } from '../rpc/clients/index.js';
import { checkPartition } from './partitioner.js';

/** The one metadata call the cache makes: MetadataClient.topics. */
export type TopicMetadataSource = Pick<MetadataClient, 'topics'>;

/** Where one partition is served: its leader's id and address, and the leader epoch. */
export interface PartitionRoute {
  readonly topic: string;
  readonly partition: number;
  /** 0 while the partition is offline. */
  readonly leaderId: number;
  /** Empty while the partition is offline or its leader's address is unknown. */
  readonly address: string;
  readonly leaderEpoch: number;
}

export interface TopicRoutes {
  readonly topic: string;
  readonly partitions: PartitionRoute[];
  /** The topic's configured codec, which a producer that names none uses. */
  readonly compression: CompressionCodec;
}

interface CachedTopic {
  readonly lookup: Promise<TopicRoutes>;
  routes: TopicRoutes | undefined;
}

/** Topics whose routes are cached at once; past it the oldest is dropped and looked up again when needed. */
export const cachedTopicsMax = 10_000;

/**
 * The SDK's metadata cache: each topic's partition leaders, looked up from the controllers once
 * and kept until a broker says they are wrong. Concurrent lookups of one topic share one call, so
 * records sent together wait for the same answer and keep their order.
 */
export class PartitionRoutes {
  private readonly topics = new Map<string, CachedTopic>();

  constructor(private readonly metadata: TopicMetadataSource) {}

  /** The topic's routes, from the cache or the controllers; TOPIC_NOT_FOUND when it does not exist. */
  topic(topic: string): Promise<TopicRoutes> {
    const cached = this.topics.get(topic);
    if (cached !== undefined) return cached.lookup;
    if (this.topics.size >= cachedTopicsMax) this.topics.delete(this.topics.keys().next().value ?? '');
    const entry: CachedTopic = { lookup: this.lookUp(topic), routes: undefined };
    this.topics.set(topic, entry);
    entry.lookup.then(
      (routes) => (entry.routes = routes),
      () => {
        if (this.topics.get(topic) === entry) this.topics.delete(topic);
      },
    );
    return entry.lookup;
  }

  /** The partition's route: PARTITION_NOT_FOUND naming the count, or a retriable NOT_LEADER while it has no leader. */
  async leaderOf(topic: string, partition: number): Promise<PartitionRoute> {
    const routes = await this.topic(topic);
    const route = routes.partitions[checkPartition(topic, partition, routes.partitions.length)];
    if (route === undefined || route.leaderId === 0 || route.address === '') {
      throw new TributaryError('NOT_LEADER', `partition ${topic}-${partition} has no leader now (or its address is unknown); retry shortly`, { retriable: true });
    }
    return route;
  }

  /** Takes a broker's NOT_LEADER hint as the partition's new route when it is newer than the cached one. */
  followHint(topic: string, partition: number, hint: LeaderHint): void {
    const routes = this.topics.get(topic)?.routes;
    const current = routes?.partitions[partition];
    if (routes === undefined || current === undefined || hint.nodeId === 0 || hint.address === '') return;
    if (hint.epoch !== 0 && hint.epoch < current.leaderEpoch) return;
    routes.partitions[partition] = { topic, partition, leaderId: hint.nodeId, address: hint.address, leaderEpoch: hint.epoch };
  }

  /** Forgets the topic, so the next use asks the controllers again. */
  invalidate(topic: string): void {
    const cached = this.topics.get(topic);
    // A lookup still running is already fresh; dropping it would only start a second one.
    if (cached?.routes !== undefined) this.topics.delete(topic);
  }

  private async lookUp(topic: string): Promise<TopicRoutes> {
    const { topics, brokers } = await this.metadata.topics([topic]);
    const [found] = topics;
    if (found === undefined) throw new TributaryError('UNKNOWN', `the controllers answered a lookup of topic "${topic}" without it`);
    if (found.error !== undefined) throw found.error;
    return routesOf(found.topic, brokers);
  }
}

/** A topic's routes from its metadata and the brokers the same answer named. */
export function routesOf(topic: TopicInfo, brokers: readonly BrokerInfo[]): TopicRoutes {
  const addresses = new Map(brokers.map((broker) => [broker.nodeId, broker.address]));
  return {
    topic: topic.name,
    compression: topic.config.compression,
    partitions: topic.partitions.map((partition) => ({
      topic: topic.name,
      partition: partition.partition,
      leaderId: partition.leader,
      address: partition.leader === 0 ? '' : (addresses.get(partition.leader) ?? ''),
      leaderEpoch: partition.leaderEpoch,
    })),
  };
}
