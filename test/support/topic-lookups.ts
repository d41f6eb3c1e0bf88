import type { BrokerInfo, MetadataClient, TopicInfo } from '../../src/rpc/clients/index.js';

/** Brokers 1 and 2 at `broker-<id>:9092`, as a metadata answer lists them. */
export const twoBrokers: BrokerInfo[] = [1, 2].map((nodeId) => ({ nodeId, address: `broker-${nodeId}:9092`, rack: '', incarnationEpoch: 1, state: 'active' }));

export function brokerAddress(nodeId: number): string {
  return `broker-${nodeId}:9092`;
}

/**
 * What MetadataClient.topics answers for one topic whose partitions are led as `leaders` says
 * (index = partition), replicated on brokers 1 and 2: for SDK tests that script the cluster.
 */
export function topicLookup(topic: string, leaders: ReadonlyArray<{ nodeId: number; epoch: number }>): Awaited<ReturnType<MetadataClient['topics']>> {
  const config = {
    partitions: leaders.length, replicationFactor: 2, minInSyncReplicas: 1, retentionMs: 0, retentionBytes: 0, compression: 'none' as const,
    maxMessageBytes: 1_048_576, uncleanLeaderElection: false, labels: {},
  };
  const partitions = leaders.map((leader, partition) => ({ partition, replicas: [1, 2], leader: leader.nodeId, isr: [1, 2], leaderEpoch: leader.epoch, partitionEpoch: leader.epoch }));
  const info: TopicInfo = { name: topic, topicId: 'id', config, partitions };
  const freshness = { metadataVersion: 1, responderId: 1, servedByLeader: true, linearizable: true, stalenessMs: 0 };
  return { topics: [{ name: topic, topic: info, error: undefined }], brokers: twoBrokers, freshness };
}
