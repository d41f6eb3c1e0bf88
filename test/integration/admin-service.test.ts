import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, defaultClientOptions, MetadataClient } from '../../src/rpc/clients/index.js';
import { startSingleControllerWithBrokers, type TestNode } from '../support/controller-quorum.js';
import { waitFor } from '../support/in-process-raft-cluster.js';

describe('AdminService on a single-controller quorum with three live brokers', () => {
  let node: TestNode;
  let admin: AdminClient;
  let metadata: MetadataClient;

  beforeAll(async () => {
    node = await startSingleControllerWithBrokers([1, 2, 3]);
    const options = { ...defaultClientOptions('admin-service-test'), bootstrap: [node.grpcAddress] };
    admin = new AdminClient(options);
    metadata = new MetadataClient(options);
  });
  afterAll(async () => {
    admin?.close();
    metadata?.close();
    await node?.stop();
  });

  it('creates a topic with the cluster defaults for every unset field', async () => {
    const { topic, metadataVersion } = await admin.createTopic('defaults');
    expect(topic.topicId).toMatch(/^[0-9a-f]{16}$/);
    expect(topic.config).toEqual({
      partitions: 1, replicationFactor: 3, minInSyncReplicas: 2, retentionMs: 0, retentionBytes: 0, compression: 'none',
      maxMessageBytes: 1_048_576, uncleanLeaderElection: false, labels: {},
    });
    expect(topic.partitions).toHaveLength(1);
    expect(topic.partitions[0]).toMatchObject({ partition: 0, leaderEpoch: 1, partitionEpoch: 1 });
    expect([...(topic.partitions[0]?.replicas ?? [])].sort()).toEqual([1, 2, 3]);
    expect(metadataVersion).toBeGreaterThan(0);
  });

  it('creates a topic with the given config and labels, and a retry with the same idempotency key returns it', async () => {
    const config = { partitions: 4, replicationFactor: 2, retentionMs: 86_400_000, compression: 'zstd' as const, labels: { team: 'ingest' } };
    const first = await admin.createTopic('orders', { config, idempotencyKey: 'key-1' });
    expect(first.topic.config).toMatchObject({ ...config, minInSyncReplicas: 1 });
    const again = await admin.createTopic('orders', { config, idempotencyKey: 'key-1' });
    expect(again.topic.topicId).toBe(first.topic.topicId);
    await expect(admin.createTopic('orders', { config })).rejects.toMatchObject({
      code: 'TOPIC_ALREADY_EXISTS', message: `topic "orders" already exists with id ${first.topic.topicId}`,
    });
  });

  it('plans without creating when validate_only is set', async () => {
    const { topic, metadataVersion } = await admin.createTopic('planned', { config: { partitions: 3 }, validateOnly: true });
    expect(topic).toMatchObject({ name: 'planned', topicId: '' });
    expect(topic.partitions.map((partition) => new Set(partition.replicas).size)).toEqual([3, 3, 3]);
    expect(metadataVersion).toBe(0);
    const [lookup] = (await metadata.topics(['planned'])).topics;
    expect(lookup?.error?.code).toBe('TOPIC_NOT_FOUND');
  });

  it('refuses a bad config naming the field and value', async () => {
    await expect(admin.createTopic('bad-isr', { config: { replicationFactor: 2, minInSyncReplicas: 3 } })).rejects.toMatchObject({
      code: 'INVALID_REQUEST', message: 'topic "bad-isr": minInSyncReplicas 3 must be from 1 to the replication factor 2',
    });
    await expect(admin.createTopic('too-wide', { config: { replicationFactor: 4 } })).rejects.toMatchObject({
      code: 'NOT_ENOUGH_REPLICAS', message: 'topic "too-wide" needs replication factor 4 but only 3 brokers are live and unfenced (1, 2, 3)',
    });
    await expect(admin.createTopic('bad name!')).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('topic name "bad name!" is invalid') as unknown });
    await expect(admin.createTopic('bad-label', { config: { labels: { 'bad key': 'v' } } })).rejects.toMatchObject({
      code: 'INVALID_REQUEST', message: expect.stringContaining('label key "bad key" is invalid') as unknown,
    });
  });

  it('alters mutable config and patches labels, refusing unknown topics and bad values', async () => {
    await admin.createTopic('alterable', { config: { labels: { team: 'ingest', tier: 'gold' } } });
    const { config } = await admin.alterTopicConfig('alterable', { retentionMs: 3_600_000, compression: 'lz4', setLabels: { owner: 'ana' }, removeLabels: ['tier'] });
    expect(config).toMatchObject({ retentionMs: 3_600_000, compression: 'lz4', labels: { team: 'ingest', owner: 'ana' } });
    await expect(admin.alterTopicConfig('alterable', { minInSyncReplicas: 9 })).rejects.toMatchObject({
      code: 'INVALID_REQUEST', message: 'topic "alterable": minInSyncReplicas 9 must be from 1 to the replication factor 3',
    });
    await expect(admin.alterTopicConfig('missing', { retentionMs: 1 })).rejects.toMatchObject({ code: 'TOPIC_NOT_FOUND', message: 'topic "missing" does not exist' });
  });

  it('deletes a topic, only when the id matches if one is given', async () => {
    const { topic } = await admin.createTopic('doomed');
    await expect(admin.deleteTopic('doomed', { topicId: 'ffffffffffffffff' })).rejects.toMatchObject({ code: 'TOPIC_NOT_FOUND' });
    expect(await admin.deleteTopic('doomed', { topicId: topic.topicId })).toMatchObject({ topicId: topic.topicId });
    await expect(admin.deleteTopic('doomed')).rejects.toMatchObject({ code: 'TOPIC_NOT_FOUND', message: 'topic "doomed" does not exist' });
  });

  it('describes the cluster from the leader and from this controller', async () => {
    for (const description of [await admin.describeCluster(), await admin.describeController(node.grpcAddress)]) {
      expect(description).toMatchObject({ clusterId: node.identity.clusterId, leaderId: 1, responderId: 1 });
      expect(description.controllers).toEqual([{ nodeId: 1, address: node.grpcAddress, role: 'voter', isLeader: true, matchIndex: expect.any(Number) as unknown }]);
      expect(description.brokers.map((broker) => [broker.nodeId, broker.state])).toEqual([[1, 'active'], [2, 'active'], [3, 'active']]);
      expect(description.appliedIndex).toBeLessThanOrEqual(description.commitIndex);
      expect(description.term).toBeGreaterThanOrEqual(1);
    }
  });

  it('elects preferred leaders per partition, reporting missing partitions inline', async () => {
    await admin.createTopic('elect', { config: { partitions: 2 } });
    const { results } = await admin.electLeaders('preferred', [{ topic: 'elect', partition: 0 }, { topic: 'elect', partition: 5 }]);
    expect(results[0]).toMatchObject({ topic: 'elect', partition: 0, changed: false, error: undefined });
    expect(results[1]?.error).toMatchObject({ code: 'PARTITION_NOT_FOUND' });
  });

  it('answers a transfer to itself at once and refuses a target outside the quorum', async () => {
    expect(await admin.transferLeadership(1)).toMatchObject({ leaderId: 1 });
    await expect(admin.transferLeadership(9)).rejects.toMatchObject({ code: 'NODE_NOT_FOUND', message: expect.stringContaining('controller 9 is not a voter') as unknown });
  });

  it('validates AddController and treats removing an absent controller as done', async () => {
    // The leader registers its own address in the metadata as a duty, shortly after it is elected.
    await waitFor(() => node.controller?.state.controllers.get(1)?.address, 10_000, 'the controller to register its own address');
    await expect(admin.addController(1, 'elsewhere:1')).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: `controller 1 is already in the quorum at ${node.grpcAddress}, not elsewhere:1; remove it first` });
    await expect(admin.addController(5, 'no-port')).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: 'address "no-port" is not host:port with a port from 1 to 65535' });
    expect((await admin.removeController(7)).controllers.map((controller) => controller.nodeId)).toEqual([1]);
  });
});
