import { afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import { sendableBeforePersist } from '../../../src/actors/raft-host/raft-host.js';
import type { HardState, Message, Ready } from '../../../src/raft/raft-types.js';
import { InProcessRaftCluster, waitFor } from '../../support/in-process-raft-cluster.js';

const encoder = new TextEncoder();
const threeVoters = { voters: [1, 2, 3], learners: [] };
let cluster: InProcessRaftCluster;

afterEach(async () => {
  await cluster.stopAll();
});

async function proposeAll(count: number, prefix: string): Promise<number[]> {
  const leader = await cluster.waitForLeader();
  return Promise.all(Array.from({ length: count }, (_, i) => cluster.host(leader).propose(encoder.encode(`${prefix}-${i}`))));
}

describe('raft host', () => {
  it('elects a leader and applies proposals on every node, answering each proposer with its result', async () => {
    cluster = new InProcessRaftCluster(threeVoters);
    await cluster.startAll();
    const results = await proposeAll(50, 'a');
    expect(results.toSorted((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    for (const id of [1, 2, 3]) {
      await waitFor(() => (cluster.stateMachine(id).items.length === 50 ? true : undefined), 5_000, `node ${id} to apply 50`);
    }
    expect(cluster.stateMachine(2).items).toEqual(cluster.stateMachine(1).items);
  });

  it('a follower refuses a proposal with NOT_LEADER naming the leader', async () => {
    cluster = new InProcessRaftCluster(threeVoters);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    // The hint is known once the follower heard from the leader: wait for that.
    const follower = [1, 2, 3].find((id) => id !== leader) ?? 0;
    await waitFor(() => (cluster.host(follower).status().leader === leader ? true : undefined), 5_000, 'the follower to know its leader');
    const refusal = (() => {
      try {
        void cluster.host(follower).propose(encoder.encode('x'));
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(TributaryError);
    expect((refusal as TributaryError).code).toBe('NOT_LEADER');
    expect((refusal as TributaryError).leaderHint?.nodeId).toBe(leader);
  });

  it('recovers its log and state machine from the stores after a crash', async () => {
    cluster = new InProcessRaftCluster(threeVoters);
    await cluster.startAll();
    await proposeAll(20, 'before');
    const leader = await cluster.waitForLeader();
    await cluster.crash(leader);
    const newLeader = await cluster.waitForLeader(leader);
    await cluster.host(newLeader).propose(encoder.encode('while-down'));
    await cluster.start(leader);
    await waitFor(() => (cluster.stateMachine(leader).items.length === 21 ? true : undefined), 5_000, 'the restarted node to catch up');
    expect(cluster.stateMachine(leader).items).toEqual(cluster.stateMachine(newLeader).items);
  });

  it('takes snapshots, compacts, and brings a node that lost its disk back through a snapshot', async () => {
    cluster = new InProcessRaftCluster(threeVoters, { snapshotThresholdEntries: 30, snapshotKeepEntries: 5 });
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    const lagging = [1, 2, 3].find((id) => id !== leader) ?? 0;
    await cluster.crash(lagging);
    for (let round = 0; round < 4; round++) await proposeAll(25, `r${round}`);
    expect(cluster.host(leader).status().lastIndex).toBeGreaterThan(100);
    // Restarted from its own store, the node is far behind the leader's compacted log.
    await cluster.start(lagging);
    await waitFor(() => (cluster.stateMachine(lagging).items.length === 100 ? true : undefined), 5_000, 'catch-up through a snapshot');
    expect(cluster.stateMachine(lagging).items).toEqual(cluster.stateMachine(leader).items);
  });

  it('snapshots after snapshotThresholdBytes of applied entries even below the entry threshold', async () => {
    cluster = new InProcessRaftCluster(threeVoters, { snapshotThresholdEntries: 10_000, snapshotThresholdBytes: 4_096, snapshotKeepEntries: 0 });
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    for (let i = 0; i < 5; i++) await cluster.host(leader).propose(encoder.encode(`${i}`.padEnd(1_024, '.')));
    // Five 1 KiB entries pass 4 KiB: the log is compacted behind a snapshot.
    expect(cluster.host(leader).status().lastIndex).toBeGreaterThan(5);
    await waitFor(() => (cluster.stateMachine(leader).items.length === 5 ? true : undefined), 5_000, 'the leader to apply');
    expect(cluster.snapshotIndex(leader)).toBeGreaterThan(1);
  });

  it('linearizable barrier on a follower waits until it applied every write committed before', async () => {
    cluster = new InProcessRaftCluster(threeVoters);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    const follower = [1, 2, 3].find((id) => id !== leader) ?? 0;
    await waitFor(() => (cluster.host(follower).status().leader === leader ? true : undefined), 5_000, 'the follower to know its leader');
    await proposeAll(10, 'w');
    await cluster.host(follower).linearizableBarrier();
    expect(cluster.stateMachine(follower).items).toHaveLength(10);
  });

  it('fails pending proposals with SHUTTING_DOWN on stop and refuses new ones', async () => {
    cluster = new InProcessRaftCluster(threeVoters);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    for (const id of [1, 2, 3]) if (id !== leader) cluster.isolated.add(id);
    const pending = cluster.host(leader).propose(encoder.encode('never-committed'));
    await cluster.host(leader).stop();
    await expect(pending).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(() => cluster.host(leader).propose(encoder.encode('late'))).toThrow(/shutting down/);
  });

  it('a proposal overwritten by a new leader fails with NOT_LEADER instead of hanging', async () => {
    cluster = new InProcessRaftCluster(threeVoters);
    await cluster.startAll();
    const oldLeader = await cluster.waitForLeader();
    cluster.isolated.add(oldLeader);
    const lost = cluster.host(oldLeader).propose(encoder.encode('lost'));
    const newLeader = await cluster.waitForLeader(oldLeader);
    await cluster.host(newLeader).propose(encoder.encode('kept-1'));
    await cluster.host(newLeader).propose(encoder.encode('kept-2'));
    cluster.isolated.delete(oldLeader);
    await expect(lost).rejects.toMatchObject({ code: 'NOT_LEADER' });
    await waitFor(() => (cluster.stateMachine(oldLeader).items.length === 2 ? true : undefined), 5_000, 'the old leader to catch up');
    expect(cluster.stateMachine(oldLeader).items).toEqual(['kept-1', 'kept-2']);
  });
});

describe('raft host membership', () => {
  it('a node added as a learner catches up through a snapshot and is promoted to voter', async () => {
    cluster = new InProcessRaftCluster(threeVoters);
    await cluster.startAll();
    await proposeAll(5, 'm');
    const leader = await cluster.waitForLeader();
    cluster.add(4);
    await cluster.start(4, undefined);
    await cluster.host(leader).proposeConfChange({ type: 'addLearner', nodeId: 4 });
    await waitFor(() => (cluster.stateMachine(4).items.length === 5 ? true : undefined), 5_000, 'the learner to catch up');
    await cluster.host(leader).proposeConfChange({ type: 'promoteLearner', nodeId: 4 });
    expect(cluster.host(leader).currentMembership().voters.toSorted()).toEqual([1, 2, 3, 4]);
    await proposeAll(3, 'after');
    await waitFor(() => (cluster.stateMachine(4).items.length === 8 ? true : undefined), 5_000, 'the new voter to apply');
  });

  it('a voter that lost its disk is refused until it is removed and added again', async () => {
    cluster = new InProcessRaftCluster(threeVoters);
    await cluster.startAll();
    await proposeAll(5, 'w');
    const leader = await cluster.waitForLeader();
    const wiped = [1, 2, 3].find((id) => id !== leader) ?? 0;
    await cluster.crash(wiped);
    cluster.wipe(wiped);
    await cluster.start(wiped, undefined);
    await proposeAll(2, 'x');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(cluster.stateMachine(wiped).items).toEqual([]);
    await cluster.host(leader).proposeConfChange({ type: 'removeNode', nodeId: wiped });
    await cluster.host(leader).proposeConfChange({ type: 'addLearner', nodeId: wiped });
    await waitFor(() => (cluster.stateMachine(wiped).items.length === 7 ? true : undefined), 5_000, 'the re-added node to catch up');
  });
});

describe('raft host leader writes in parallel with replication', () => {
  it('sends appends while its own write is in flight, and answers only once that write is durable', async () => {
    cluster = new InProcessRaftCluster(threeVoters);
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    await proposeAll(1, 'warm');
    const release = cluster.holdWrites(leader);
    const host = cluster.host(leader);
    let answered = false;
    const proposal = host.propose(encoder.encode('held')).then((result) => {
      answered = true;
      return result;
    });
    const index = host.status().lastIndex;
    // The followers got the entry and acknowledged it: the core counts a quorum, though the
    // leader's own copy is not written yet.
    await waitFor(() => (host.status().commitIndex >= index ? true : undefined), 5_000, 'a quorum to acknowledge the held entry');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    expect(cluster.stateMachine(leader).items).toEqual(['warm-0']);
    release();
    await expect(proposal).resolves.toBe(2);
    expect(cluster.stateMachine(leader).items).toEqual(['warm-0', 'held']);
  });
});

describe('sendableBeforePersist', () => {
  const persisted = { term: 3, vote: 1, commit: 7 };
  const append = { type: 'append', from: 1, to: 2, term: 3, index: 7, logTerm: 3, entries: [], commit: 7 } as unknown as Message;
  const heartbeat = { type: 'heartbeat', from: 1, to: 3, term: 3, commit: 7, context: new Uint8Array() } as unknown as Message;
  const voteResponse = { type: 'voteResponse', from: 1, to: 2, term: 3, reject: false } as unknown as Message;
  const readyWith = (messages: Message[], hardState?: HardState) => ({ softState: undefined, hardState, entries: [], snapshot: undefined, committedEntries: [], messages, readStates: [], mustSync: false }) as Ready;

  it('lets appends and heartbeats go first and keeps every other message for after the write', () => {
    const { early, late } = sendableBeforePersist(readyWith([append, voteResponse, heartbeat], { ...persisted, commit: 9 }), persisted);
    expect(early).toEqual([append, heartbeat]);
    expect(late).toEqual([voteResponse]);
  });

  it('keeps everything for after the write when the Ready changes term or vote', () => {
    expect(sendableBeforePersist(readyWith([append], { term: 4, vote: 0, commit: 7 }), persisted).early).toEqual([]);
    expect(sendableBeforePersist(readyWith([append], { term: 3, vote: 2, commit: 7 }), persisted).late).toEqual([append]);
  });
});
