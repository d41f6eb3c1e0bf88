import { describe, expect, it } from 'vitest';
import { describeGroup, type JoinGroupCommand } from '../../../src/controller/index.js';
import { MetadataHarness } from './metadata-harness.js';

const sessionTimeoutMs = 10_000;
const rebalanceTimeoutMs = 30_000;

function join(harness: MetadataHarness, clientId: string, overrides: Partial<JoinGroupCommand> = {}): JoinGroupCommand {
  return {
    type: 'joinGroup', groupId: 'g', memberId: '', groupInstanceId: '', clientId, sessionTimeoutMs, rebalanceTimeoutMs, protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: new Uint8Array([1]) }, { name: 'roundrobin', metadata: new Uint8Array([2]) }], nowMs: harness.nowMs, ...overrides,
  };
}

function sync(harness: MetadataHarness, memberId: string, assignments: Array<{ memberId: string; topic: string; partitions: number[] }> = []) {
  const generation = harness.state.groups.get('g')?.generation ?? 0;
  return harness.ok({
    type: 'syncGroup', groupId: 'g', memberId, generation, nowMs: harness.nowMs,
    assignments: assignments.map((entry) => ({ memberId: entry.memberId, partitions: [{ topic: entry.topic, partitions: entry.partitions }], userData: new Uint8Array(0) })),
  });
}

function heartbeat(harness: MetadataHarness, memberId: string, generation = harness.state.groups.get('g')?.generation ?? 0) {
  return harness.apply({ type: 'groupHeartbeat', groupId: 'g', memberId, generation, nowMs: harness.nowMs }).result;
}

/** A stable two-member group: a leads generation 2, b joined second. */
function stableGroup(harness: MetadataHarness): { a: string; b: string } {
  const a = harness.ok(join(harness, 'a')).memberId;
  sync(harness, a, [{ memberId: a, topic: 't', partitions: [0] }]);
  const joinedB = harness.ok(join(harness, 'b'));
  expect(joinedB.completed).toBe(false);
  const rejoinedA = harness.ok(join(harness, 'a', { memberId: a }));
  expect(rejoinedA).toMatchObject({ completed: true, generation: 2, leaderMemberId: a, protocolName: 'range' });
  sync(harness, a, [{ memberId: a, topic: 't', partitions: [0] }, { memberId: joinedB.memberId, topic: 't', partitions: [1] }]);
  return { a, b: joinedB.memberId };
}

describe('the join barrier', () => {
  it('completes the first generation at once for a lone member, which leads it', () => {
    const harness = new MetadataHarness();
    const joined = harness.ok(join(harness, 'a'));
    expect(joined).toEqual({ memberId: `a-${harness.index.toString(16)}`, completed: true, generation: 1, leaderMemberId: joined.memberId, protocolName: 'range' });
    expect(harness.state.groups.get('g')?.state).toBe('completingRebalance');
  });

  it('waits until every current member has rejoined, then bumps the generation once', () => {
    const harness = new MetadataHarness();
    const { a, b } = stableGroup(harness);
    const group = describeGroup(harness.state, 'g');
    expect(group).toMatchObject({ state: 'stable', generation: 2, leaderMemberId: a });
    expect(group?.members.map((member) => [member.memberId, member.assignment.partitions])).toEqual([
      [a, [{ topic: 't', partitions: [0] }]],
      [b, [{ topic: 't', partitions: [1] }]],
    ]);
    expect(group?.members[0]?.protocolMetadata).toEqual(new Uint8Array([1]));
  });

  it('tells members to rejoin through heartbeats while a rebalance is prepared', () => {
    const harness = new MetadataHarness();
    const { a, b } = stableGroup(harness);
    harness.ok(join(harness, 'c'));
    expect(heartbeat(harness, b)).toEqual({ ok: true, value: { rebalanceInProgress: true } });
    harness.ok(join(harness, 'b', { memberId: b }));
    expect(harness.ok(join(harness, 'a', { memberId: a })).completed).toBe(true);
    expect(heartbeat(harness, b, 2)).toMatchObject({ ok: false, code: 'ILLEGAL_GENERATION', message: `group "g" is at generation 3; member "${b}" sent generation 2` });
  });

  it('removes members that do not rejoin by the rebalance deadline and completes with the rest', () => {
    const harness = new MetadataHarness();
    const { a, b } = stableGroup(harness);
    harness.ok(join(harness, 'a', { memberId: a, protocols: [{ name: 'range', metadata: new Uint8Array([9]) }] }));
    // b stays alive (it heartbeats) but never rejoins.
    for (let elapsedMs = 0; elapsedMs < rebalanceTimeoutMs - 1; elapsedMs += 5_000) {
      harness.nowMs += Math.min(5_000, rebalanceTimeoutMs - 1 - elapsedMs);
      expect(heartbeat(harness, b)).toEqual({ ok: true, value: { rebalanceInProgress: true } });
    }
    expect(harness.ok({ type: 'expireGroupMembers', nowMs: harness.nowMs }).removed).toEqual([]);
    harness.nowMs += 1;
    expect(harness.ok({ type: 'expireGroupMembers', nowMs: harness.nowMs }).removed).toEqual([{ groupId: 'g', memberId: b }]);
    expect(describeGroup(harness.state, 'g')).toMatchObject({ state: 'completingRebalance', generation: 3, leaderMemberId: a });
  });

  it('keeps a known member rejoining a stable group with the same protocols where it is, without a rebalance', () => {
    const harness = new MetadataHarness();
    const { b } = stableGroup(harness);
    const again = harness.ok(join(harness, 'b', { memberId: b }));
    expect(again).toMatchObject({ completed: true, generation: 2 });
    expect(harness.state.groups.get('g')?.state).toBe('stable');
  });

  it('answers a retried JoinGroup with the generation awaiting its assignment instead of starting another', () => {
    const harness = new MetadataHarness();
    const { a, b } = stableGroup(harness);
    harness.ok(join(harness, 'b', { memberId: b, protocols: [{ name: 'range', metadata: new Uint8Array([3]) }] }));
    harness.ok(join(harness, 'a', { memberId: a }));
    expect(harness.state.groups.get('g')).toMatchObject({ state: 'completingRebalance', generation: 3 });
    const retried = harness.ok(join(harness, 'b', { memberId: b, protocols: [{ name: 'range', metadata: new Uint8Array([3]) }] }));
    expect(retried).toMatchObject({ completed: true, generation: 3, leaderMemberId: a });
    expect(harness.state.groups.get('g')?.state).toBe('completingRebalance');
    // The leader rejoining a stable generation asks for a new assignment.
    sync(harness, a);
    expect(harness.ok(join(harness, 'a', { memberId: a })).completed).toBe(false);
  });

  it('chooses a protocol every member supports, in the leader\'s order, and refuses a member sharing none', () => {
    const harness = new MetadataHarness();
    const { a } = stableGroup(harness);
    const onlyRoundRobin = [{ name: 'roundrobin', metadata: new Uint8Array(0) }];
    const c = harness.ok(join(harness, 'c', { protocols: onlyRoundRobin })).memberId;
    expect(c).toBeTruthy();
    expect(harness.fail(join(harness, 'd', { protocols: [{ name: 'sticky', metadata: new Uint8Array(0) }] })).message)
      .toBe('group "g": no member protocol of [sticky] is supported by every current member');
    expect(harness.fail(join(harness, 'e', { protocolType: 'connect' })).message).toBe('group "g" has protocol type "consumer"; the member sent "connect"');
    const members = describeGroup(harness.state, 'g')?.members ?? [];
    for (const member of members.filter((entry) => entry.memberId !== c)) harness.ok(join(harness, member.clientId, { memberId: member.memberId }));
    expect(describeGroup(harness.state, 'g')).toMatchObject({ protocolName: 'roundrobin', leaderMemberId: a });
  });
});

describe('SyncGroup', () => {
  it('gives followers their assignment only after the leader synced', () => {
    const harness = new MetadataHarness();
    const { a, b } = stableGroup(harness);
    harness.ok(join(harness, 'b', { memberId: b, protocols: [{ name: 'range', metadata: new Uint8Array([7]) }] }));
    harness.ok(join(harness, 'a', { memberId: a }));
    expect(sync(harness, b)).toMatchObject({ completed: false, generation: 3 });
    sync(harness, a, [{ memberId: b, topic: 't', partitions: [0, 1] }]);
    expect(sync(harness, b)).toMatchObject({ completed: true, assignment: { partitions: [{ topic: 't', partitions: [0, 1] }] } });
    expect(sync(harness, a).assignment.partitions).toEqual([]);
  });

  it('rejects assignments from followers, to unknown members, or of one partition twice', () => {
    const harness = new MetadataHarness();
    const { a, b } = stableGroup(harness);
    harness.ok(join(harness, 'b', { memberId: b, protocols: [{ name: 'range', metadata: new Uint8Array([7]) }] }));
    harness.ok(join(harness, 'a', { memberId: a }));
    const generation = 3;
    const assign = (memberId: string, targets: string[]) => harness.fail({
      type: 'syncGroup', groupId: 'g', memberId, generation, nowMs: harness.nowMs,
      assignments: targets.map((target) => ({ memberId: target, partitions: [{ topic: 't', partitions: [0] }], userData: new Uint8Array(0) })),
    }).message;
    expect(assign(b, [b])).toBe(`group "g": member "${b}" sent assignments but "${a}" leads generation 3`);
    expect(assign(a, ['ghost'])).toBe('group "g" generation 3: the assignment names unknown member "ghost"');
    expect(assign(a, [a, b])).toBe(`group "g" generation 3: t/0 is assigned to both "${a}" and "${b}"`);
  });

  it('answers REBALANCE_IN_PROGRESS while members are still joining', () => {
    const harness = new MetadataHarness();
    const { a } = stableGroup(harness);
    harness.ok(join(harness, 'c'));
    expect(harness.fail({ type: 'syncGroup', groupId: 'g', memberId: a, generation: 2, assignments: [], nowMs: harness.nowMs }).code).toBe('REBALANCE_IN_PROGRESS');
  });
});

describe('membership errors', () => {
  it('names unknown members and groups', () => {
    const harness = new MetadataHarness();
    expect(harness.fail({ type: 'groupHeartbeat', groupId: 'g', memberId: 'm', generation: 1, nowMs: 0 })).toEqual({
      code: 'UNKNOWN_MEMBER', message: 'group "g" does not exist; join it first',
    });
    expect(harness.fail(join(harness, 'x', { memberId: 'ghost' })).message).toBe('group "g" does not exist, so it has no member "ghost"; join with an empty member id');
    stableGroup(harness);
    expect(harness.fail(join(harness, 'x', { memberId: 'ghost' })).message).toBe('group "g" has no member "ghost"; join with an empty member id');
  });

  it('fences a member id that does not own the static instance id it names', () => {
    const harness = new MetadataHarness();
    const first = harness.ok(join(harness, 'a', { groupInstanceId: 'host-1' })).memberId;
    const other = harness.ok(join(harness, 'b')).memberId;
    expect(harness.fail(join(harness, 'b', { memberId: other, groupInstanceId: 'host-1' }))).toEqual({
      code: 'FENCED', message: `group "g": instance "host-1" belongs to member "${first}", not "${other}"`,
    });
    expect(harness.ok(join(harness, 'a', { groupInstanceId: 'host-1' })).memberId).toBe(first);
  });

  it('validates join fields naming the value', () => {
    const harness = new MetadataHarness();
    expect(harness.fail(join(harness, 'a', { sessionTimeoutMs: 10 })).message).toBe('group "g": session timeout 10 ms must be from 1000 to 1800000 ms');
    expect(harness.fail(join(harness, 'a', { protocols: [] })).message).toBe('group "g": a member must offer at least one protocol');
    expect(harness.fail(join(harness, 'a', { groupId: 'bad/id' })).message).toBe('group name "bad/id" is invalid: use 1-249 characters of [a-zA-Z0-9._-]');
  });
});

describe('leaving and expiry', () => {
  it('rebalances the rest when a member leaves; an emptied group with no offsets is deleted', () => {
    const harness = new MetadataHarness();
    const { a, b } = stableGroup(harness);
    const { results } = harness.ok({ type: 'leaveGroup', groupId: 'g', nowMs: harness.nowMs, members: [{ memberId: b, groupInstanceId: '' }, { memberId: 'ghost', groupInstanceId: '' }] });
    expect(results.map((result) => result.error?.code ?? null)).toEqual([null, 'UNKNOWN_MEMBER']);
    expect(describeGroup(harness.state, 'g')).toMatchObject({ state: 'preparingRebalance', generation: 2 });
    harness.ok(join(harness, 'a', { memberId: a }));
    expect(describeGroup(harness.state, 'g')).toMatchObject({ state: 'completingRebalance', generation: 3 });
    harness.ok({ type: 'leaveGroup', groupId: 'g', nowMs: harness.nowMs, members: [{ memberId: a, groupInstanceId: '' }] });
    expect(harness.state.groups.has('g')).toBe(false);
    expect(harness.deltas.at(-1)).toEqual({ kind: 'groupDeleted', version: harness.index, groupId: 'g' });
  });

  it('expires silent members by session timeout, but not a member waiting in its join', () => {
    const harness = new MetadataHarness();
    const { a, b } = stableGroup(harness);
    harness.nowMs += sessionTimeoutMs - 1;
    expect(heartbeat(harness, a).ok).toBe(true);
    harness.nowMs += 1;
    expect(harness.ok({ type: 'expireGroupMembers', nowMs: harness.nowMs }).removed).toEqual([{ groupId: 'g', memberId: b }]);
    // a is alone in a new rebalance; its session is not what ends it.
    expect(describeGroup(harness.state, 'g')).toMatchObject({ state: 'preparingRebalance' });
    harness.ok(join(harness, 'a', { memberId: a }));
    harness.nowMs += sessionTimeoutMs * 2;
    const group = harness.state.groups.get('g');
    expect(group?.state).toBe('completingRebalance');
    expect(harness.ok({ type: 'expireGroupMembers', nowMs: harness.nowMs }).removed).toEqual([{ groupId: 'g', memberId: a }]);
  });

  it('removes a leader that does not sync by the rebalance deadline', () => {
    const harness = new MetadataHarness();
    const { a, b } = stableGroup(harness);
    harness.ok(join(harness, 'b', { memberId: b, protocols: [{ name: 'range', metadata: new Uint8Array([5]) }] }));
    harness.ok(join(harness, 'a', { memberId: a }));
    harness.nowMs += rebalanceTimeoutMs - 1;
    heartbeat(harness, b);
    harness.nowMs += 1;
    heartbeat(harness, b);
    expect(harness.ok({ type: 'expireGroupMembers', nowMs: harness.nowMs }).removed).toEqual([{ groupId: 'g', memberId: a }]);
    expect(describeGroup(harness.state, 'g')).toMatchObject({ state: 'preparingRebalance', generation: 3 });
    expect(harness.ok(join(harness, 'b', { memberId: b, protocols: [{ name: 'range', metadata: new Uint8Array([5]) }] })))
      .toMatchObject({ completed: true, generation: 4, leaderMemberId: b });
  });
});
