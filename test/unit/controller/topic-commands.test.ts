import { describe, expect, it } from 'vitest';
import { describeTopics, planCreateTopic, type CreateTopicCommand } from '../../../src/controller/index.js';
import { MetadataHarness, topicConfig } from './metadata-harness.js';

function create(name: string, overrides: Partial<CreateTopicCommand> = {}): CreateTopicCommand {
  return { type: 'createTopic', name, config: topicConfig(), replicaAssignment: [], idempotencyKey: '', ...overrides };
}

describe('createTopic', () => {
  it('creates partitions led by their first replica with the full ISR, epochs at 1, and emits topic then partitions', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3, ['a', 'b', 'c']);
    const deltasBefore = harness.deltas.length;
    const { topic, created } = harness.ok(create('orders'));
    expect(created).toBe(true);
    expect(topic.topicId).toMatch(/^[0-9a-f]{16}$/);
    for (const partition of topic.partitions) {
      expect(partition).toMatchObject({ leader: partition.replicas[0], isr: partition.replicas, leaderEpoch: 1, partitionEpoch: 1 });
    }
    expect(new Set(topic.partitions.map((partition) => partition.leader))).toEqual(new Set([1, 2, 3]));
    const kinds = harness.deltas.slice(deltasBefore).map((delta) => delta.kind);
    expect(kinds).toEqual(['topicCreated', 'partitionChanged', 'partitionChanged', 'partitionChanged']);
  });

  it('takes existing load into account', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(4);
    harness.createTopic('first', { partitions: 1, replicationFactor: 2, minInSyncReplicas: 1 });
    const second = harness.createTopic('second', { partitions: 1, replicationFactor: 2, minInSyncReplicas: 1 });
    expect([...(second.partitions[0]?.replicas ?? [])].sort()).toEqual([3, 4]);
  });

  it('rejects a replication factor above the live, unfenced brokers', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(2);
    harness.register(3);
    expect(harness.fail(create('orders'))).toEqual({
      code: 'NOT_ENOUGH_REPLICAS', message: 'topic "orders" needs replication factor 3 but only 2 brokers are live and unfenced (1, 2)',
    });
  });

  it('rejects bad names and configs naming the value', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    expect(harness.fail(create('bad name')).message).toBe('topic name "bad name" is invalid: use 1-249 characters of [a-zA-Z0-9._-]');
    expect(harness.fail(create('t', { config: topicConfig({ partitions: 0 }) })).message).toBe('topic "t": partitions 0 must be an integer from 1 to 10000');
    expect(harness.fail(create('t', { config: topicConfig({ minInSyncReplicas: 4 }) })).message)
      .toBe('topic "t": minInSyncReplicas 4 must be from 1 to the replication factor 3');
    expect(harness.fail(create('t', { config: topicConfig({ compression: 'gzip' as 'none' }) })).message).toBe('topic "t": compression "gzip" is not one of none, lz4, zstd');
  });

  it('refuses a duplicate name but answers a retry with the same idempotency key with the existing topic', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    const { topic } = harness.ok(create('orders', { idempotencyKey: 'k1' }));
    expect(harness.ok(create('orders', { idempotencyKey: 'k1' }))).toEqual({ topic, created: false });
    expect(harness.fail(create('orders', { idempotencyKey: 'k2' }))).toEqual({
      code: 'TOPIC_ALREADY_EXISTS', message: `topic "orders" already exists with id ${topic.topicId}`,
    });
  });

  it('accepts an explicit assignment of live brokers and rejects a bad one', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    const config = topicConfig({ partitions: 2, replicationFactor: 2, minInSyncReplicas: 1 });
    const { topic } = harness.ok(create('manual', { config, replicaAssignment: [[3, 1], [2, 3]] }));
    expect(topic.partitions.map((partition) => partition.leader)).toEqual([3, 2]);
    expect(harness.fail(create('dup', { config, replicaAssignment: [[1, 1], [2, 3]] })).message).toBe('topic "dup" partition 0: replicas [1, 1] name a broker twice');
    expect(harness.fail(create('gone', { config, replicaAssignment: [[1, 9], [2, 3]] })).message).toBe('topic "gone" partition 0: broker 9 is not registered');
    expect(harness.fail(create('short', { config, replicaAssignment: [[1, 2]] })).message).toBe('topic "short": the replica assignment lists 1 partitions but the config has 2');
  });

  it('bounds partitions per topic and in the cluster, naming the limit', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(1);
    const config = (partitions: number) => topicConfig({ partitions, replicationFactor: 1, minInSyncReplicas: 1 });
    expect(harness.fail(create('huge', { config: config(10_001) })).message).toBe('topic "huge": partitions 10001 must be an integer from 1 to 10000');
    for (let topic = 0; topic < 20; topic += 1) harness.ok(create(`t${topic}`, { config: config(10_000) }));
    expect(harness.fail(create('one-more', { config: config(1) }))).toEqual({
      code: 'RESOURCE_EXHAUSTED', message: 'partitions in the cluster: 200000 exist and 1 more would exceed the limit of 200000',
    });
  });

  it('plans without creating, for validate-only requests', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    const planned = planCreateTopic(harness.state, create('orders'), '');
    expect(planned.partitions).toHaveLength(3);
    expect(harness.state.topics.size).toBe(0);
    expect(() => planCreateTopic(harness.state, create('o r'), '')).toThrow('topic name "o r" is invalid');
  });
});

describe('deleteTopic', () => {
  it('deletes by name, refuses a mismatching id, and drops committed offsets of the topic', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    const topic = harness.createTopic('orders');
    harness.ok({ type: 'commitOffsets', groupId: 'g', memberId: '', generation: 0, nowMs: 1, offsets: [{ topic: 'orders', partition: 0, offset: 5, leaderEpoch: 1, metadata: '' }] });
    expect(harness.fail({ type: 'deleteTopic', name: 'orders', topicId: 'ffff' })).toEqual({
      code: 'TOPIC_NOT_FOUND', message: `topic "orders" has id ${topic.topicId}, not ffff: the topic was deleted and re-created`,
    });
    expect(harness.ok({ type: 'deleteTopic', name: 'orders', topicId: topic.topicId })).toEqual({ topicId: topic.topicId });
    expect(harness.state.groups.get('g')?.offsets.size).toBe(0);
    expect(harness.deltas.at(-1)).toEqual({ kind: 'topicDeleted', version: harness.index, topicId: topic.topicId, name: 'orders' });
    expect(harness.fail({ type: 'deleteTopic', name: 'orders', topicId: '' }).message).toBe('topic "orders" does not exist');
    expect(harness.createTopic('orders').topicId).not.toBe(topic.topicId);
  });
});

describe('updateTopicConfig', () => {
  it('changes mutable keys, validates the result, and emits the new config', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    harness.createTopic('orders');
    const { config } = harness.ok({ type: 'updateTopicConfig', name: 'orders', topicId: '', changes: { retentionMs: 3_600_000, compression: 'zstd' } });
    expect(config).toMatchObject({ retentionMs: 3_600_000, compression: 'zstd', partitions: 3 });
    expect(harness.deltas.at(-1)).toMatchObject({ kind: 'topicConfigChanged', name: 'orders', config });
    expect(harness.fail({ type: 'updateTopicConfig', name: 'orders', topicId: '', changes: { minInSyncReplicas: 5 } }).message)
      .toBe('topic "orders": minInSyncReplicas 5 must be from 1 to the replication factor 3');
    expect(harness.fail({ type: 'updateTopicConfig', name: 'orders', topicId: '', changes: {} }).code).toBe('INVALID_REQUEST');
    expect(describeTopics(harness.state, ['orders'])[0]?.topic?.config.retentionMs).toBe(3_600_000);
  });

  it('elects an out-of-sync leader for offline partitions once unclean election is turned on', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(2);
    harness.ok(create('t', { config: topicConfig({ partitions: 1, replicationFactor: 2, minInSyncReplicas: 1 }), replicaAssignment: [[1, 2]] }));
    harness.shrinkIsrToLeader('t', 0);
    harness.nowMs += 20_000;
    harness.heartbeat(2);
    harness.ok({ type: 'fenceExpiredBrokers', nowMs: harness.nowMs });
    expect(harness.partition('t', 0).leader).toBe(0);
    harness.ok({ type: 'updateTopicConfig', name: 't', topicId: '', changes: { uncleanLeaderElection: true } });
    expect(harness.partition('t', 0)).toMatchObject({ leader: 2, isr: [2] });
  });
});

describe('topic labels', () => {
  it('are created with the topic, copied out, and checked against the limits naming the label', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    const { topic } = harness.ok(create('orders', { config: topicConfig({ labels: { team: 'ingest', 'app.kubernetes.io/name': 'trib' } }) }));
    expect(topic.config.labels).toEqual({ team: 'ingest', 'app.kubernetes.io/name': 'trib' });
    topic.config.labels.team = 'changed by the caller';
    expect(harness.state.topics.get('orders')?.config.labels.team).toBe('ingest');
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`k${index}`, 'v']));
    expect(harness.fail(create('many', { config: topicConfig({ labels: tooMany }) })).message).toBe('topic "many": 17 labels exceed the limit of 16');
    expect(harness.fail(create('bad', { config: topicConfig({ labels: { __proto__x: 'v' } }) })).message).toContain('label key "__proto__x" is invalid');
    expect(harness.fail(create('long', { config: topicConfig({ labels: { ['k'.repeat(65)]: 'v' } }) })).message).toContain(`label key "${'k'.repeat(65)}" is invalid: use 1-64 characters`);
    expect(harness.fail(create('big', { config: topicConfig({ labels: { owner: 'é'.repeat(257) } }) })).message)
      .toBe('topic "big": label "owner" has a 514-byte value; the limit is 512 bytes');
  });

  it('are patched by updates: set overwrites, remove deletes, absent keys are ignored, both at once is refused', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    harness.ok(create('orders', { config: topicConfig({ labels: { team: 'ingest', tier: 'gold' } }) }));
    const { config } = harness.ok({ type: 'updateTopicConfig', name: 'orders', topicId: '', changes: {}, labels: { set: { team: 'storage', owner: 'ana' }, remove: ['tier', 'missing'] } });
    expect(config.labels).toEqual({ team: 'storage', owner: 'ana' });
    expect(harness.deltas.at(-1)).toMatchObject({ kind: 'topicConfigChanged', config: { labels: { team: 'storage', owner: 'ana' } } });
    expect(harness.fail({ type: 'updateTopicConfig', name: 'orders', topicId: '', changes: {}, labels: { set: { a: '1' }, remove: ['a'] } }).message)
      .toBe('topic "orders": label "a" is both set and removed');
    expect(harness.fail({ type: 'updateTopicConfig', name: 'orders', topicId: '', changes: {}, labels: { set: {}, remove: [] } }).code).toBe('INVALID_REQUEST');
  });
});

describe('describeTopics', () => {
  it('answers in the order asked, naming missing topics', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    harness.createTopic('b');
    harness.createTopic('a');
    expect(describeTopics(harness.state, []).map((entry) => entry.name)).toEqual(['a', 'b']);
    const [missing, found] = describeTopics(harness.state, ['zz', 'b']);
    expect(missing?.error).toEqual({ code: 'TOPIC_NOT_FOUND', message: 'topic "zz" does not exist' });
    expect(found?.topic?.name).toBe('b');
  });
});
