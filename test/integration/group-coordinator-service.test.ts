import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, defaultClientOptions, GroupCoordinatorClient, type JoinGroupRequest } from '../../src/rpc/clients/index.js';
import { startSingleControllerWithBrokers, type TestNode } from '../support/controller-quorum.js';
import { waitFor } from '../support/in-process-raft-cluster.js';

/** The smallest session the coordinator accepts (metadataLimits.groupSessionTimeoutMsMin), so expiry shows quickly. */
const sessionTimeoutMs = 1_000;

const joinRequest: JoinGroupRequest = {
  groupId: 'readers',
  protocolType: 'consumer',
  protocols: [{ name: 'range', userData: new Uint8Array([7]) }],
  subscription: { topics: ['events'] },
  sessionTimeoutMs,
  rebalanceTimeoutMs: 5_000,
};

describe('GroupCoordinatorService on a single controller', () => {
  let node: TestNode;
  let groups: GroupCoordinatorClient;
  const timers: Array<ReturnType<typeof setInterval>> = [];

  beforeAll(async () => {
    node = await startSingleControllerWithBrokers([1, 2, 3]);
    const options = { ...defaultClientOptions('group-coordinator-test'), bootstrap: [node.grpcAddress] };
    groups = new GroupCoordinatorClient(options);
    const admin = new AdminClient(options);
    await admin.createTopic('events', { config: { partitions: 4, replicationFactor: 2 } });
    admin.close();
  });
  afterAll(async () => {
    for (const timer of timers) clearInterval(timer);
    groups?.close();
    await node?.stop();
  });

  /** Heartbeats for a member until the test ends; `rebalancing` turns true when it must rejoin. */
  function keepAlive(member: { memberId: string; generation: number; groupId?: string }): { rebalancing: boolean; generation: number } {
    const status = { rebalancing: false, generation: member.generation };
    timers.push(setInterval(() => {
      groups.heartbeat({ groupId: member.groupId ?? 'readers', generation: status.generation, memberId: member.memberId }).then(
        (answer) => { status.rebalancing = answer.rebalanceInProgress; },
        () => undefined,
      );
    }, sessionTimeoutMs / 4));
    return status;
  }

  it('runs a group through join, sync, commits and an expiry', async () => {
    const first = await groups.joinGroup(joinRequest);
    expect(first).toMatchObject({ generation: 1, leaderMemberId: first.memberId, protocolName: 'range', heartbeatIntervalMs: Math.floor(sessionTimeoutMs / 3) });
    const leader = keepAlive(first);

    // A second member starts a rebalance: its join waits at the barrier until the first rejoins.
    const secondJoin = groups.joinGroup({ ...joinRequest, subscription: { topics: ['events'], ownedPartitions: [] }, rack: 'r2' });
    await waitFor(() => leader.rebalancing || undefined, 5_000, 'the leader told to rejoin');
    const [leaderJoin, second] = await Promise.all([groups.joinGroup({ ...joinRequest, memberId: first.memberId }), secondJoin]);
    expect(leaderJoin.generation).toBe(2);
    expect(second.generation).toBe(2);
    expect(second.leaderMemberId).toBe(first.memberId);
    expect(second.members).toEqual([]);
    expect(leaderJoin.members.map((member) => member.memberId).sort()).toEqual([first.memberId, second.memberId].sort());
    expect(leaderJoin.members.find((member) => member.memberId === second.memberId)).toMatchObject({ rack: 'r2', subscription: { topics: ['events'] }, userData: new Uint8Array([7]) });
    leader.generation = 2;
    leader.rebalancing = false;
    keepAlive(second);

    // Nobody commits while the leader is assigning.
    const secondIdentity = { groupId: 'readers', generation: 2, memberId: second.memberId };
    await expect(groups.commitOffsets(secondIdentity, [{ topic: 'events', partition: 2, offset: 5, leaderEpoch: 1, metadata: '' }])).rejects.toMatchObject({ code: 'REBALANCE_IN_PROGRESS' });

    // The follower's sync waits for the leader's assignment.
    const followerSync = groups.syncGroup({ groupId: 'readers', generation: 2, memberId: second.memberId, rebalanceTimeoutMs: 5_000 });
    const assignments = [
      { memberId: first.memberId, partitions: [{ topic: 'events', partitions: [0, 1] }] },
      { memberId: second.memberId, partitions: [{ topic: 'events', partitions: [2, 3] }], userData: new Uint8Array([1, 2]) },
    ];
    const leaderSync = await groups.syncGroup({ groupId: 'readers', generation: 2, memberId: first.memberId, protocolType: 'consumer', protocolName: 'range', assignments });
    expect(leaderSync).toMatchObject({ generation: 2, protocolName: 'range', partitions: [{ topic: 'events', partitions: [0, 1] }] });
    expect(await followerSync).toMatchObject({ generation: 2, partitions: [{ topic: 'events', partitions: [2, 3] }], userData: new Uint8Array([1, 2]) });

    const committed = await groups.commitOffsets(secondIdentity, [
      { topic: 'events', partition: 2, offset: 42, leaderEpoch: 1, metadata: 'm' },
      { topic: 'events', partition: 9, offset: 1, leaderEpoch: 1, metadata: '' },
    ]);
    expect(committed[0]?.error).toBeUndefined();
    expect(committed[1]?.error?.code).toBe('PARTITION_NOT_FOUND');
    await expect(groups.commitOffsets({ ...secondIdentity, generation: 1 }, [{ topic: 'events', partition: 2, offset: 1, leaderEpoch: 1, metadata: '' }])).rejects.toMatchObject({
      code: 'ILLEGAL_GENERATION',
      message: `group "readers" is at generation 2; member "${second.memberId}" sent generation 1`,
    });
    const fetched = await groups.fetchOffsets('readers', [{ topic: 'events', partition: 2 }, { topic: 'events', partition: 3 }]);
    expect(fetched.offsets).toMatchObject([{ partition: 2, offset: 42, metadata: 'm' }, { partition: 3, offset: undefined }]);

    // The second member goes silent: it is removed and the leader rebalances alone.
    clearInterval(timers.pop());
    await waitFor(() => leader.rebalancing || undefined, 5_000, 'the leader told to rejoin after the expiry');
    const alone = await groups.joinGroup({ ...joinRequest, memberId: first.memberId });
    expect(alone).toMatchObject({ generation: 3, leaderMemberId: first.memberId });
    expect(alone.members.map((member) => member.memberId)).toEqual([first.memberId]);
    await expect(groups.heartbeat({ groupId: 'readers', generation: 2, memberId: second.memberId })).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER' });
  });

  it('completes the barrier without a member that does not rejoin by the rebalance deadline', async () => {
    const request = { ...joinRequest, groupId: 'laggards', rebalanceTimeoutMs: 1_500 };
    const first = await groups.joinGroup(request);
    keepAlive({ ...first, groupId: 'laggards' });
    const second = await groups.joinGroup(request);
    expect(second).toMatchObject({ generation: 2, leaderMemberId: second.memberId });
    expect(second.members.map((member) => member.memberId)).toEqual([second.memberId]);
  });

  it('answers a join whose own rebalance timeout passes with REBALANCE_IN_PROGRESS', async () => {
    const first = await groups.joinGroup({ ...joinRequest, groupId: 'patient', rebalanceTimeoutMs: 60_000 });
    keepAlive({ ...first, groupId: 'patient' });
    await expect(groups.joinGroup({ ...joinRequest, groupId: 'patient', rebalanceTimeoutMs: 500 })).rejects.toMatchObject({
      code: 'REBALANCE_IN_PROGRESS',
      message: expect.stringMatching(/^group "patient" did not complete its rebalance within \d+ ms; member ".+" must join again$/) as unknown,
    });
  });

  it('pages through every committed offset of a group', async () => {
    const standalone = { groupId: 'offsets-only', generation: 0, memberId: '' };
    const offsets = [0, 1, 2, 3].map((partition) => ({ topic: 'events', partition, offset: 10 + partition, leaderEpoch: 0, metadata: '' }));
    expect((await groups.commitOffsets(standalone, offsets)).every((result) => result.error === undefined)).toBe(true);
    const page1 = await groups.fetchOffsets('offsets-only', [], { pageSize: 3 });
    expect(page1.offsets.map((entry) => entry.offset)).toEqual([10, 11, 12]);
    const page2 = await groups.fetchOffsets('offsets-only', [], { pageSize: 3, pageToken: page1.nextPageToken });
    expect(page2).toMatchObject({ offsets: [{ partition: 3, offset: 13 }], nextPageToken: '' });
  });
});
