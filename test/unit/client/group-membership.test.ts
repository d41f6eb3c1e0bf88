import { describe, expect, it } from 'vitest';
import { rangeAssignor, roundRobinAssignor, TributaryError } from '../../../src/client/index.js';
import { GroupMembership } from '../../../src/client/group-membership.js';
import { joined, ScriptedCoordinator, synced } from '../../support/scripted-coordinator.js';

function membership(coordinator: ScriptedCoordinator, sleeps: number[] = []) {
  const settings = {
    groupId: 'g', topics: ['t'], sessionTimeoutMs: 1_000, rebalanceTimeoutMs: 2_000, assignors: [rangeAssignor, roundRobinAssignor], backoffMsMin: 10, backoffMsMax: 100, random: () => 0.5,
  };
  const sleep = (ms: number) => {
    sleeps.push(ms);
    return Promise.resolve();
  };
  return new GroupMembership(settings, coordinator.link(), () => Promise.resolve(new Map([['t', 4]])), sleep);
}

describe('GroupMembership', () => {
  it('as the leader, assigns every member with the assignor the coordinator chose, then syncs', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.joinAnswers.push(joined(1, 'm-a', 'm-a', ['m-b']));
    coordinator.syncAnswers.push(synced(1, [0, 1]));
    const member = membership(coordinator);
    expect(await member.join()).toEqual({ generation: 1, memberId: 'm-a', leaderMemberId: 'm-a', partitions: [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }], protocol: 'eager' });
    expect(coordinator.joins[0]).toMatchObject({ groupId: 'g', memberId: '', protocolType: 'consumer', protocols: [{ name: 'range' }, { name: 'roundrobin' }], subscription: { topics: ['t'] } });
    expect(coordinator.syncs[0]?.assignments).toEqual([
      { memberId: 'm-a', partitions: [{ topic: 't', partitions: [0, 1] }] },
      { memberId: 'm-b', partitions: [{ topic: 't', partitions: [2, 3] }] },
    ]);
    expect(member.state).toBe('stable');
  });

  it('rejoins with its member id when a heartbeat answers that a rebalance is in progress', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.joinAnswers.push(joined(1, 'm-b', 'm-a'), joined(2, 'm-b', 'm-a'));
    coordinator.syncAnswers.push(synced(1, [0, 1, 2, 3]), synced(2, [2, 3]));
    coordinator.heartbeatAnswers.push(false, true);
    const member = membership(coordinator);
    await member.join();
    await member.heartbeat();
    expect(member.needsJoin).toBe(false);
    await member.heartbeat();
    expect(member.state).toBe('rejoinRequired');
    expect(member.ownsPartitions()).toBe(true);
    expect((await member.join())?.partitions).toEqual([{ topic: 't', partition: 2 }, { topic: 't', partition: 3 }]);
    expect(coordinator.calls).toEqual(['join ', 'sync m-b g1', 'heartbeat m-b g1', 'heartbeat m-b g1', 'join m-b', 'sync m-b g2']);
  });

  it('rejoins at once after REBALANCE_IN_PROGRESS and ILLEGAL_GENERATION, with a new member id after UNKNOWN_MEMBER, and backs off only when the coordinator is unavailable', async () => {
    const coordinator = new ScriptedCoordinator();
    const sleeps: number[] = [];
    coordinator.joinAnswers.push(
      joined(3, 'm-b', 'm-a'),
      new TributaryError('UNKNOWN_MEMBER', 'group "g" has no member "m-b"'),
      new TributaryError('NOT_AVAILABLE', 'no controller leader answered'),
      joined(5, 'm-c', 'm-a'),
      joined(6, 'm-c', 'm-a'),
    );
    coordinator.syncAnswers.push(
      new TributaryError('REBALANCE_IN_PROGRESS', 'group "g" is rebalancing'),
      new TributaryError('ILLEGAL_GENERATION', 'group "g" is at generation 6'),
      synced(6, [1]),
    );
    const member = membership(coordinator, sleeps);
    expect(await member.join()).toMatchObject({ generation: 6, memberId: 'm-c', partitions: [{ topic: 't', partition: 1 }] });
    expect(coordinator.calls).toEqual(['join ', 'sync m-b g3', 'join m-b', 'join ', 'join ', 'sync m-c g5', 'join m-c', 'sync m-c g6']);
    expect(sleeps).toHaveLength(1);
  });

  it('throws what it cannot recover from by rejoining', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.joinAnswers.push(new TributaryError('INVALID_REQUEST', 'group "g": session timeout 10 ms must be from 1000 to 1800000 ms'));
    await expect(membership(coordinator).join()).rejects.toThrow('session timeout 10 ms must be from 1000 to 1800000 ms');
  });

  it('surfaces a fenced commit as ILLEGAL_GENERATION naming member and generation, and must rejoin', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.joinAnswers.push(joined(4, 'm-b', 'm-a'));
    coordinator.syncAnswers.push(synced(4, [0]));
    coordinator.commitAnswers.push(new TributaryError('ILLEGAL_GENERATION', 'group "g" is at generation 5; member "m-b" sent generation 4'));
    const member = membership(coordinator);
    await member.join();
    const refused = await member.commit([{ topic: 't', partition: 0, offset: 7 }]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TributaryError);
    expect(refused).toMatchObject({ code: 'ILLEGAL_GENERATION', message: 'group "g": the commit of member "m-b" at generation 4 was refused: group "g" is at generation 5; member "m-b" sent generation 4' });
    expect(member.state).toBe('lost');
    expect(member.needsJoin).toBe(true);
    expect(member.ownsPartitions()).toBe(false);
  });

  it('ignores a heartbeat answer about a generation it has already left behind', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.joinAnswers.push(joined(1, 'm-b', 'm-a'), joined(2, 'm-b', 'm-a'));
    coordinator.syncAnswers.push(synced(1, [0]), synced(2, [1]));
    const member = membership(coordinator);
    await member.join();
    coordinator.holdHeartbeats = true;
    const beat = member.heartbeat();
    // A commit learns of the rebalance first, and the member joins generation 2 before the heartbeat of generation 1 is answered.
    coordinator.commitAnswers.push(new TributaryError('REBALANCE_IN_PROGRESS', 'group "g" is rebalancing'));
    await expect(member.commit([{ topic: 't', partition: 0, offset: 1 }])).rejects.toMatchObject({ code: 'REBALANCE_IN_PROGRESS' });
    expect(member.state).toBe('rejoinRequired');
    await member.join();
    coordinator.heldHeartbeat?.(new TributaryError('ILLEGAL_GENERATION', 'group "g" is at generation 2; member "m-b" sent generation 1'));
    await beat;
    expect(member.state).toBe('stable');
    expect(member.identity).toEqual({ groupId: 'g', generation: 2, memberId: 'm-b' });
  });

  it('gives its partitions up as lost once heartbeats have failed for a whole session', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.joinAnswers.push(joined(1, 'm-b', 'm-a'));
    coordinator.syncAnswers.push(synced(1, [0]));
    let nowMs = 10_000;
    const member = new GroupMembership(
      { groupId: 'g', topics: ['t'], sessionTimeoutMs: 1_000, rebalanceTimeoutMs: 2_000, assignors: [rangeAssignor], backoffMsMin: 1, backoffMsMax: 2, random: () => 0.5 },
      coordinator.link(),
      () => Promise.resolve(new Map([['t', 4]])),
      () => Promise.resolve(),
      () => nowMs,
    );
    await member.join();
    const unavailable = () => new TributaryError('NOT_AVAILABLE', 'no controller leader answered after 10 attempts');
    nowMs += 600;
    coordinator.heartbeatAnswers.push(unavailable());
    await member.heartbeat();
    expect(member.state).toBe('stable');
    nowMs += 400;
    coordinator.heartbeatAnswers.push(unavailable());
    await member.heartbeat();
    expect(member.state).toBe('lost');
    expect(member.ownsPartitions()).toBe(false);
  });

  it('leaves once its first join answers when leave() comes while it has no member id yet', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.holdJoins = true;
    const member = membership(coordinator);
    const joining = member.join();
    await Promise.resolve();
    await member.leave();
    expect(coordinator.calls).toEqual(['join ']);
    coordinator.heldJoin?.(joined(1, 'm-a', 'm-a'));
    expect(await joining).toBeUndefined();
    expect(coordinator.calls).toEqual(['join ', 'leave m-a']);
    member.finishLeaving();
    expect(member.state).toBe('left');
  });
});
