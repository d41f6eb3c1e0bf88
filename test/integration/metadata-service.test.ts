import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, defaultClientOptions, MetadataClient } from '../../src/rpc/clients/index.js';
import { startSingleControllerWithBrokers, type TestNode } from '../support/controller-quorum.js';

describe('MetadataService on a single-controller quorum with two live brokers', () => {
  let node: TestNode;
  let admin: AdminClient;
  let metadata: MetadataClient;

  beforeAll(async () => {
    node = await startSingleControllerWithBrokers([1, 2]);
    const options = { ...defaultClientOptions('metadata-service-test'), bootstrap: [node.grpcAddress] };
    admin = new AdminClient(options);
    metadata = new MetadataClient(options);
    for (const name of ['c-topic', 'a-topic', 'b-topic', 'other']) await admin.createTopic(name, { config: { partitions: 2 } });
  });
  afterAll(async () => {
    admin?.close();
    metadata?.close();
    await node?.stop();
  });

  it('returns the cluster id, brokers, quorum and leader, with linearizable freshness by default', async () => {
    const cluster = await metadata.clusterMetadata();
    expect(cluster.clusterId).toBe(node.identity.clusterId);
    expect(cluster.brokers.map((broker) => broker.nodeId)).toEqual([1, 2]);
    expect(cluster.controllers).toMatchObject([{ nodeId: 1, address: node.grpcAddress, role: 'voter', isLeader: true }]);
    expect(cluster.controllerLeader).toMatchObject({ nodeId: 1, address: node.grpcAddress });
    expect(cluster.freshness).toMatchObject({ responderId: 1, servedByLeader: true, linearizable: true, stalenessMs: 0 });
    expect(cluster.freshness.metadataVersion).toBeGreaterThan(0);
  });

  it('answers bounded-stale and local reads from the applied state, saying so', async () => {
    for (const consistency of ['bounded', 'local'] as const) {
      const { freshness } = await metadata.clusterMetadata({ consistency });
      expect(freshness).toMatchObject({ responderId: 1, servedByLeader: true, linearizable: false });
    }
  });

  it('returns named topics in request order with the brokers they use, and missing ones as per-topic errors', async () => {
    const { topics, brokers } = await metadata.topics(['b-topic', 'missing', 'a-topic']);
    expect(topics.map((lookup) => [lookup.name, lookup.topic?.partitions.length, lookup.error?.code])).toEqual([
      ['b-topic', 2, undefined], ['missing', undefined, 'TOPIC_NOT_FOUND'], ['a-topic', 2, undefined],
    ]);
    expect(brokers.map((broker) => broker.nodeId)).toEqual([1, 2]);
    await expect(metadata.topics([])).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(metadata.topics(['a-topic', 'a-topic'])).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: 'GetTopicMetadata names topic "a-topic" twice' });
  });

  it('pages topics in name order, filtered by prefix, partitions only when asked', async () => {
    const first = await metadata.listTopics({ pageSize: 2 });
    expect(first.topics.map((topic) => topic.name)).toEqual(['a-topic', 'b-topic']);
    expect(first.topics[0]?.partitions).toEqual([]);
    const second = await metadata.listTopics({ pageSize: 2, pageToken: first.nextPageToken, includePartitions: true });
    expect(second.topics.map((topic) => topic.name)).toEqual(['c-topic', 'other']);
    expect(second.topics[0]?.partitions).toHaveLength(2);
    expect(second.nextPageToken).toBe('');
    expect((await metadata.allTopics({ namePrefix: 'b-', pageSize: 1 })).map((topic) => topic.name)).toEqual(['b-topic']);
    await expect(metadata.listTopics({ pageToken: 'garbage' })).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('page token "garbage"') as unknown });
  });

  it('names the leader of a partition, and refuses unknown topics and partitions', async () => {
    const { topics, brokers } = await metadata.topics(['a-topic']);
    const partition = topics[0]?.topic?.partitions[1];
    const { leader } = await metadata.partitionLeader('a-topic', 1);
    expect(leader).toEqual({ nodeId: partition?.leader, address: brokers.find((broker) => broker.nodeId === partition?.leader)?.address, epoch: 1 });
    await expect(metadata.partitionLeader('nope', 0)).rejects.toMatchObject({ code: 'TOPIC_NOT_FOUND', message: 'topic "nope" does not exist' });
    await expect(metadata.partitionLeader('a-topic', 7)).rejects.toMatchObject({ code: 'PARTITION_NOT_FOUND', message: 'topic "a-topic" has 2 partitions; partition 7 does not exist' });
  });

  it('refuses a version floor no write has reached', async () => {
    const { freshness } = await metadata.clusterMetadata();
    expect((await metadata.clusterMetadata({ consistency: 'local', minMetadataVersion: freshness.metadataVersion })).freshness.metadataVersion).toBeGreaterThanOrEqual(freshness.metadataVersion);
    await expect(metadata.clusterMetadata({ minMetadataVersion: 1e12 })).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('read.min_metadata_version 1000000000000') as unknown });
  });
});
