import type { PartitionLeaderSource } from '../../actors/partition-replica/partition-leader-lookup.js';
import type { PartitionLeader } from '../../actors/partition-replica/partition-leader.js';
import type { ProducerIds } from '../../broker/index.js';
import { TributaryError } from '../../errors/index.js';
import type { TopicPartition } from '../generated/tributary/common/v1/common.js';

/**
 * What the produce and fetch services need of the running broker role (BrokerRole is one): where
 * the partitions it leads are, and each topic's settings from its metadata view.
 */
export interface ServedBroker {
  readonly leaders: PartitionLeaderSource;
  readonly metadata: { topic(name: string): { readonly config: { readonly maxMessageBytes: number; readonly labels: Readonly<Record<string, string>> } } | undefined };
  /** Hands out idempotent-producer identities (InitProducerId). */
  readonly producerIds: Pick<ProducerIds, 'init'>;
}

export interface BrokerPartitionsOptions {
  readonly nodeId: number;
  /**
   * The broker role once it runs. The services exist before the gRPC server binds and the broker
   * role starts after it (registration tells the controller the bound address), so this is
   * undefined for a moment at start.
   */
  readonly broker: () => ServedBroker | undefined;
  /** Aborted when the node begins to shut down: calls are answered SHUTTING_DOWN from then on. */
  readonly shutdownSignal: AbortSignal;
}

/**
 * The broker's partitions as the client-facing services reach them: the leader of a partition, or
 * the reason this broker cannot serve it now (starting, shutting down, or whatever the leader
 * source says: TOPIC_NOT_FOUND, PARTITION_NOT_FOUND, NOT_LEADER with the hint, STALE_EPOCH).
 */
export class BrokerPartitions {
  constructor(private readonly options: BrokerPartitionsOptions) {}

  get nodeId(): number {
    return this.options.nodeId;
  }

  get shutdownSignal(): AbortSignal {
    return this.options.shutdownSignal;
  }

  /** The running leader of `topicPartition` here; `currentLeaderEpoch` 0 skips the epoch check, as on the wire. */
  leaderFor(topicPartition: TopicPartition, currentLeaderEpoch: number): PartitionLeader {
    return this.running().leaders.leaderFor(topicPartition.topic, topicPartition.partition, currentLeaderEpoch);
  }

  /** The topic's max_message_bytes as this broker's metadata has it; undefined for a topic it does not know. */
  maxMessageBytesOf(topic: string): number | undefined {
    return this.running().metadata.topic(topic)?.config.maxMessageBytes;
  }

  /** Whether `topic` is an ingest topic (labelled tributary.ingest=true): its records are written through DataIngestService only. */
  isIngestTopic(topic: string): boolean {
    return this.running().metadata.topic(topic)?.config.labels['tributary.ingest'] === 'true';
  }

  /** The broker's producer-id allocator; SHUTTING_DOWN or NOT_AVAILABLE as for partitions. */
  producerIds(): Pick<ProducerIds, 'init'> {
    return this.running().producerIds;
  }

  /** Throws SHUTTING_DOWN or NOT_AVAILABLE when the broker role is not serving partitions. */
  assertServing(): void {
    this.running();
  }

  private running(): ServedBroker {
    const { nodeId, shutdownSignal } = this.options;
    if (shutdownSignal.aborted) {
      throw new TributaryError('SHUTTING_DOWN', `broker ${nodeId} is shutting down; refresh metadata and retry with the partition's leader`, { retriable: true });
    }
    const broker = this.options.broker();
    if (broker === undefined) {
      throw new TributaryError('NOT_AVAILABLE', `broker ${nodeId} is starting: it serves partitions once its broker role runs; retry shortly`, { retriable: true });
    }
    return broker;
  }
}
