import { describe, expect, it } from 'vitest';
import type { AlterPartitionCommand } from '../../../src/controller/index.js';
import { brokerSessionTimeoutMs, MetadataHarness, topicConfig } from './metadata-harness.js';

/** Brokers 1-3 live; topic "t" with one partition on [1, 2, 3], led by 1. */
function setup(): MetadataHarness {
  const harness = new MetadataHarness();
  harness.liveBrokers(3);
  harness.ok({ type: 'createTopic', name: 't', config: topicConfig({ partitions: 1 }), replicaAssignment: [[1, 2, 3]], idempotencyKey: '' });
  return harness;
}

function alter(harness: MetadataHarness, isr: number[], overrides: Partial<AlterPartitionCommand> = {}): AlterPartitionCommand {
  const partition = harness.partition('t', 0);
  const epochOf = (id: number) => harness.state.brokers.get(id)?.brokerEpoch ?? 0;
  return {
    type: 'alterPartition', brokerId: partition.leader, brokerEpoch: epochOf(partition.leader), topic: 't', topicId: harness.state.topics.get('t')?.topicId ?? '',
    partition: 0, leaderEpoch: partition.leaderEpoch, partitionEpoch: partition.partitionEpoch,
    newIsr: isr.map((brokerId) => ({ brokerId, brokerEpoch: epochOf(brokerId) })), ...overrides,
  };
}

describe('alterPartition', () => {
  it('shrinks and expands the ISR from the leader, bumping only the partition epoch', () => {
    const harness = setup();
    const shrunk = harness.ok(alter(harness, [1, 3])).partition;
    expect(shrunk).toMatchObject({ leader: 1, isr: [1, 3], leaderEpoch: 1, partitionEpoch: 2 });
    const expanded = harness.ok(alter(harness, [3, 2, 1])).partition;
    expect(expanded).toMatchObject({ isr: [1, 2, 3], leaderEpoch: 1, partitionEpoch: 3 });
    expect(harness.deltas.at(-1)).toMatchObject({ kind: 'partitionChanged', topic: 't', partition: expanded });
  });

  it('rejects a stale partition epoch with STALE_EPOCH, so two racing proposals cannot both apply', () => {
    const harness = setup();
    const first = alter(harness, [1, 2]);
    const second = alter(harness, [1, 3]);
    harness.ok(first);
    expect(harness.fail(second)).toEqual({ code: 'STALE_EPOCH', message: 't/0: partition epoch 1 is not the current 2' });
  });

  it('accepts changes only from the current leader at its current epochs', () => {
    const harness = setup();
    const oldEpoch = harness.state.brokers.get(1)?.brokerEpoch ?? 0;
    expect(harness.fail(alter(harness, [2, 3], { brokerId: 2, brokerEpoch: harness.state.brokers.get(2)?.brokerEpoch ?? 0 }))).toEqual({
      code: 'NOT_LEADER', message: 't/0: broker 2 does not lead it; the leader is broker 1',
    });
    expect(harness.fail(alter(harness, [1], { leaderEpoch: 7 })).code).toBe('STALE_EPOCH');
    expect(harness.fail(alter(harness, [1], { brokerEpoch: oldEpoch - 1 })).code).toBe('FENCED');
    expect(harness.fail(alter(harness, [1], { partition: 4 }))).toEqual({
      code: 'PARTITION_NOT_FOUND', message: 'topic "t" has 1 partitions; partition 4 does not exist',
    });
    expect(harness.fail(alter(harness, [1], { topicId: 'other' })).code).toBe('TOPIC_NOT_FOUND');
  });

  it('requires the new ISR to hold the leader, only replicas, and only unfenced brokers at their current epochs', () => {
    const harness = setup();
    harness.register(4);
    harness.heartbeat(4);
    expect(harness.fail(alter(harness, [2, 3])).message).toBe('t/0: the new ISR [2, 3] leaves out the leader 1');
    expect(harness.fail(alter(harness, [1, 4])).message).toBe('t/0: broker 4 is not a replica (replicas are [1, 2, 3])');
    expect(harness.fail(alter(harness, [1, 1])).message).toBe('t/0: the new ISR [1, 1] names a broker twice');
    const stale = alter(harness, [1, 2]);
    harness.register(2, '', 'restarted');
    expect(harness.fail({ ...stale, partitionEpoch: harness.partition('t', 0).partitionEpoch })).toMatchObject({ code: 'FENCED' });
  });

  it('rejects any change from a fenced leader', () => {
    const harness = setup();
    harness.nowMs += brokerSessionTimeoutMs;
    harness.heartbeat(2);
    harness.heartbeat(3);
    const stale = alter(harness, [1]);
    harness.ok({ type: 'fenceExpiredBrokers', nowMs: harness.nowMs });
    expect(harness.fail(stale)).toEqual({ code: 'FENCED', message: 'broker 1 is fenced; it leads nothing until a heartbeat unfences it' });
  });
});

describe('electLeaders', () => {
  it('moves leadership back to the preferred replica once it is in sync again', () => {
    const harness = setup();
    harness.nowMs += brokerSessionTimeoutMs;
    harness.heartbeat(2);
    harness.heartbeat(3);
    harness.ok({ type: 'fenceExpiredBrokers', nowMs: harness.nowMs });
    expect(harness.partition('t', 0).leader).toBe(2);
    harness.heartbeat(1);
    const notInSync = harness.ok({ type: 'electLeaders', election: 'preferred', partitions: [] }).results;
    expect(notInSync[0]?.error).toEqual({ code: 'NOT_AVAILABLE', message: 't/0: preferred replica 1 is not live and in sync (ISR [2, 3])' });
    harness.ok(alter(harness, [1, 2, 3]));
    const { leaderEpoch, partitionEpoch } = harness.partition('t', 0);
    const [result] = harness.ok({ type: 'electLeaders', election: 'preferred', partitions: [{ topic: 't', partition: 0 }] }).results;
    expect(result).toMatchObject({ changed: true, error: null, record: { leader: 1, leaderEpoch: leaderEpoch + 1, partitionEpoch: partitionEpoch + 1 } });
    const again = harness.ok({ type: 'electLeaders', election: 'preferred', partitions: [{ topic: 't', partition: 0 }] }).results;
    expect(again[0]).toMatchObject({ changed: false, error: null });
  });

  it('elects an out-of-sync replica on request, whatever the topic setting', () => {
    const harness = setup();
    harness.ok(alter(harness, [1]));
    harness.nowMs += brokerSessionTimeoutMs;
    harness.heartbeat(3);
    harness.ok({ type: 'fenceExpiredBrokers', nowMs: harness.nowMs });
    expect(harness.partition('t', 0)).toMatchObject({ leader: 0, isr: [1] });
    const [result] = harness.ok({ type: 'electLeaders', election: 'unclean', partitions: [{ topic: 't', partition: 0 }] }).results;
    expect(result).toMatchObject({ changed: true, record: { leader: 3, isr: [3] } });
  });

  it('reports per partition and refuses an unclean election of everything', () => {
    const harness = setup();
    const results = harness.ok({ type: 'electLeaders', election: 'unclean', partitions: [{ topic: 'nope', partition: 0 }, { topic: 't', partition: 0 }] }).results;
    expect(results[0]?.error).toEqual({ code: 'TOPIC_NOT_FOUND', message: 'topic "nope" does not exist' });
    expect(results[1]).toMatchObject({ changed: false, error: null });
    expect(harness.fail({ type: 'electLeaders', election: 'unclean', partitions: [] }).code).toBe('INVALID_REQUEST');
  });
});
