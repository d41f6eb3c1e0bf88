import { describe, expect, it } from 'vitest';
import { fetchCommittedOffsets, type CommitOffsetsCommand, type OffsetCommit } from '../../../src/controller/index.js';
import { MetadataHarness } from './metadata-harness.js';

function offset(partition: number, value: number, metadata = ''): OffsetCommit {
  return { topic: 'orders', partition, offset: value, leaderEpoch: 1, metadata };
}

function commit(harness: MetadataHarness, memberId: string, generation: number, offsets: OffsetCommit[]): CommitOffsetsCommand {
  return { type: 'commitOffsets', groupId: 'g', memberId, generation, offsets, nowMs: harness.nowMs };
}

/** Brokers 1-3, topic "orders" with 3 partitions, and group "g" stable at generation 1 with one member. */
function setup(): { harness: MetadataHarness; memberId: string } {
  const harness = new MetadataHarness();
  harness.liveBrokers(3);
  harness.createTopic('orders');
  const { memberId } = harness.ok({
    type: 'joinGroup', groupId: 'g', memberId: '', groupInstanceId: '', clientId: 'c', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
    protocolType: 'consumer', protocols: [{ name: 'range', metadata: new Uint8Array(0) }], nowMs: harness.nowMs,
  });
  harness.ok({ type: 'syncGroup', groupId: 'g', memberId, generation: 1, assignments: [], nowMs: harness.nowMs });
  return { harness, memberId };
}

describe('commitOffsets', () => {
  it('stores offsets with metadata and commit time, answered by fetch in topic-partition order', () => {
    const { harness, memberId } = setup();
    harness.ok(commit(harness, memberId, 1, [offset(2, 40, 'm2'), offset(0, 10)]));
    const fetched = fetchCommittedOffsets(harness.state, 'g', []);
    expect(fetched.map((entry) => [entry.partition, entry.committed?.offset, entry.committed?.metadata])).toEqual([[0, 10, ''], [2, 40, 'm2']]);
    expect(fetched[0]?.committed?.commitTimeMs).toBe(harness.nowMs);
    const named = fetchCommittedOffsets(harness.state, 'g', [{ topic: 'orders', partition: 1 }, { topic: 'orders', partition: 9 }]);
    expect(named[0]).toMatchObject({ committed: null, error: null });
    expect(named[1]?.error).toEqual({ code: 'PARTITION_NOT_FOUND', message: 'topic "orders" has 3 partitions; partition 9 does not exist' });
  });

  it('lets the current generation move an offset backwards (an explicit rewind)', () => {
    const { harness, memberId } = setup();
    harness.ok(commit(harness, memberId, 1, [offset(0, 100)]));
    harness.ok(commit(harness, memberId, 1, [offset(0, 20)]));
    expect(fetchCommittedOffsets(harness.state, 'g', [{ topic: 'orders', partition: 0 }])[0]?.committed?.offset).toBe(20);
  });

  it('never accepts a commit from a fenced generation or an unknown member', () => {
    const { harness, memberId } = setup();
    expect(harness.fail(commit(harness, memberId, 0, [offset(0, 1)]))).toEqual({
      code: 'ILLEGAL_GENERATION', message: `group "g" is at generation 1; member "${memberId}" sent generation 0`,
    });
    expect(harness.fail(commit(harness, 'zombie', 1, [offset(0, 1)])).code).toBe('UNKNOWN_MEMBER');
    expect(harness.fail(commit(harness, '', 0, [offset(0, 1)]))).toEqual({
      code: 'ILLEGAL_GENERATION', message: 'group "g" has 1 members at generation 1; a standalone commit (generation 0) is accepted only while it has none',
    });
  });

  it('refuses commits while the leader is assigning', () => {
    const { harness, memberId } = setup();
    harness.ok({
      type: 'joinGroup', groupId: 'g', memberId, groupInstanceId: '', clientId: 'c', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
      protocolType: 'consumer', protocols: [{ name: 'range', metadata: new Uint8Array([1]) }], nowMs: harness.nowMs,
    });
    expect(harness.fail(commit(harness, memberId, 2, [offset(0, 1)])).code).toBe('REBALANCE_IN_PROGRESS');
  });

  it('accepts standalone commits for a group without members, creating it', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    harness.createTopic('orders');
    harness.ok(commit(harness, '', 0, [offset(1, 7)]));
    expect(harness.state.groups.get('g')).toMatchObject({ state: 'empty', generation: 0 });
  });

  it('reports bad partitions one by one and commits the rest', () => {
    const { harness, memberId } = setup();
    const { results } = harness.ok(commit(harness, memberId, 1, [
      offset(0, 5), offset(7, 5), { ...offset(1, 5), topic: 'nope' }, offset(2, 5, 'x'.repeat(4097)), offset(0, 6),
    ]));
    expect(results.map((result) => result.error?.message ?? null)).toEqual([
      null,
      'topic "orders" has 3 partitions; partition 7 does not exist',
      'topic "nope" does not exist',
      'orders/2: offset metadata is 4097 bytes; at most 4096 are allowed',
      'orders/0 is named twice in one commit',
    ]);
    expect(fetchCommittedOffsets(harness.state, 'g', []).map((entry) => entry.partition)).toEqual([0]);
  });

  it('changes nothing when every partition fails', () => {
    const harness = new MetadataHarness();
    const { results } = harness.ok(commit(harness, '', 0, [offset(0, 5)]));
    expect(results[0]?.error?.code).toBe('TOPIC_NOT_FOUND');
    expect(harness.state.groups.size).toBe(0);
  });
});
