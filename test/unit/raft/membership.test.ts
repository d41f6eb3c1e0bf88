import { describe, expect, it } from 'vitest';
import { MemoryRaftStorage } from '../../../src/raft/memory-raft-storage.js';
import type { ConfChange, RaftNode } from '../../../src/raft/raft-types.js';
import { errorOf, TestNetwork } from './raft-test-network.js';

/** 1 leads voters 1-3; node 4 has started, knowing it joins as a learner. */
function clusterWithJoiner(options = {}): TestNetwork {
  const network = new TestNetwork([1, 2, 3], options);
  network.elect(1);
  network.addPeer(4, new MemoryRaftStorage({ voters: [1, 2, 3], learners: [4] }), options);
  return network;
}

function change(network: TestNetwork, node: number, confChange: ConfChange): void {
  network.node(node).proposeConfChange(confChange);
  network.stabilize();
}

const membershipOf = (node: RaftNode) => node.status().membership;

describe('membership change, one server at a time', () => {
  it('adds a learner that receives the log but never votes or campaigns', () => {
    const network = clusterWithJoiner();
    network.propose(1, 'before');
    change(network, 1, { type: 'addLearner', nodeId: 4 });
    for (const id of [1, 2, 3, 4]) expect(membershipOf(network.node(id))).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(network.appliedTexts(4)).toEqual(['before']);
    network.isolate(1);
    network.tick([4], 100);
    expect(network.node(4).status().role).toBe('follower');
    expect(network.delivered.some((message) => message.from === 4 && (message.type === 'preVote' || message.type === 'vote'))).toBe(false);
  });

  it('does not count a learner towards a quorum', () => {
    const network = clusterWithJoiner();
    change(network, 1, { type: 'addLearner', nodeId: 4 });
    network.partitionLink(1, 2);
    network.partitionLink(1, 3);
    network.node(1).propose(new Uint8Array([7]));
    network.stabilize();
    expect(network.node(4).status().lastIndex).toBe(network.node(1).status().lastIndex);
    expect(network.node(1).status().commitIndex).toBeLessThan(network.node(1).status().lastIndex);
  });

  it('promotes a learner only once it has caught up', () => {
    const network = clusterWithJoiner({ entriesPerMessageMax: 4 });
    change(network, 1, { type: 'addLearner', nodeId: 4 });
    network.isolate(4);
    for (let count = 0; count < 10; count++) network.propose(1, `e${count}`);
    const refused = errorOf(() => network.node(1).proposeConfChange({ type: 'promoteLearner', nodeId: 4 }));
    expect(refused.code).toBe('INVALID_REQUEST');
    expect(refused.message).toBe('learner 4 is 10 entries behind (at most 4 allowed); promote it once it has caught up');
    network.heal();
    network.tick([1], 2);
    change(network, 1, { type: 'promoteLearner', nodeId: 4 });
    for (const id of [1, 2, 3, 4]) expect(membershipOf(network.node(id))).toEqual({ voters: [1, 2, 3, 4], learners: [] });
    // Four voters need three: 1 and 4 alone cannot commit.
    network.partitionLink(1, 2);
    network.partitionLink(1, 3);
    network.node(1).propose(new Uint8Array([1]));
    network.stabilize();
    expect(network.node(1).status().commitIndex).toBeLessThan(network.node(1).status().lastIndex);
  });

  it('removes a voter; a removed node that never learned it cannot disturb the rest', () => {
    // Without PreVote and CheckQuorum, only ignoring non-members keeps node 3 from deposing 1.
    const network = new TestNetwork([1, 2, 3], { preVote: false, checkQuorum: false });
    network.elect(1);
    network.isolate(3);
    change(network, 1, { type: 'removeNode', nodeId: 3 });
    expect(membershipOf(network.node(1))).toEqual({ voters: [1, 2], learners: [] });
    expect(membershipOf(network.node(3))).toEqual({ voters: [1, 2, 3], learners: [] });
    network.tick([3], 60);
    expect(network.node(3).status().term).toBeGreaterThan(2);
    network.heal();
    network.tick([1, 3], 30);
    expect(network.node(1).status()).toMatchObject({ role: 'leader', term: 1 });
    expect(network.node(2).status()).toMatchObject({ leader: 1, term: 1 });
    network.propose(1, 'two of two');
    expect(network.appliedTexts(2)).toEqual(['two of two']);
  });

  it('a leader that removes itself steps down once the change is applied, and another is elected', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    change(network, 1, { type: 'removeNode', nodeId: 1 });
    expect(network.node(1).status()).toMatchObject({ role: 'follower', membership: { voters: [2, 3], learners: [] } });
    for (const id of [2, 3]) expect(membershipOf(network.node(id))).toEqual({ voters: [2, 3], learners: [] });
    network.tick([1, 2, 3], 60);
    expect(network.leaders()).toHaveLength(1);
    expect(network.leaders()[0]).not.toBe(1);
  });

  it('a leader removing itself takes no more proposals, then hands over with TimeoutNow', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.node(1).proposeConfChange({ type: 'removeNode', nodeId: 1 });
    const refused = errorOf(() => network.node(1).propose(new Uint8Array([1])));
    expect(refused).toMatchObject({ code: 'NOT_AVAILABLE', message: 'node 1 is being removed from the cluster (index 2); retry the proposal with the next leader' });
    network.stabilize();
    expect(network.delivered.some((message) => message.type === 'timeoutNow' && message.from === 1)).toBe(true);
    expect(network.leaders()).toHaveLength(1);
    expect(network.node(1).status().role).toBe('follower');
  });

  it('a new node with no membership and no log learns the bootstrap membership from the leader’s snapshot', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.propose(1, 'before');
    network.addPeer(4, new MemoryRaftStorage());
    change(network, 1, { type: 'addLearner', nodeId: 4 });
    network.tick([1], 2);
    const snapshots = network.delivered.filter((message) => message.type === 'snapshot' && message.to === 4);
    expect(snapshots.map((message) => message.type === 'snapshot' && message.metadata.index)).toEqual([0]);
    expect(membershipOf(network.node(4))).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(network.peer(4).storage.initialState().membership).toEqual({ voters: [1, 2, 3], learners: [] });
    expect(network.appliedTexts(4)).toEqual(['before']);
  });

  it('a node that missed a membership change follows a leader it does not know as a member yet', () => {
    const network = clusterWithJoiner();
    network.isolate(3);
    change(network, 1, { type: 'addLearner', nodeId: 4 });
    change(network, 1, { type: 'promoteLearner', nodeId: 4 });
    network.node(1).transferLeadership(4);
    network.stabilize();
    expect(network.leaders()).toEqual([4]);
    expect(membershipOf(network.node(3))).toEqual({ voters: [1, 2, 3], learners: [] });
    network.heal();
    network.tick([4], 2);
    expect(network.node(3).status()).toMatchObject({ leader: 4, membership: { voters: [1, 2, 3, 4], learners: [] } });
    expect(network.node(3).status().lastIndex).toBe(network.node(4).status().lastIndex);
  });

  it('allows one unapplied change at a time', () => {
    const network = clusterWithJoiner();
    network.node(1).proposeConfChange({ type: 'addLearner', nodeId: 4 });
    const refused = errorOf(() => network.node(1).proposeConfChange({ type: 'addLearner', nodeId: 5 }));
    expect(refused).toMatchObject({ code: 'INVALID_REQUEST', retriable: true });
    expect(refused.message).toBe('a membership change at index 2 is not applied yet (applied 1); retry after it');
    network.stabilize();
    change(network, 1, { type: 'addLearner', nodeId: 5 });
    expect(membershipOf(network.node(1)).learners).toEqual([4, 5]);
  });

  it('waits until the leader has committed an entry of its term', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.dropRule = (message) => message.type === 'appendResponse';
    network.elect(1);
    const refused = errorOf(() => network.node(1).proposeConfChange({ type: 'addLearner', nodeId: 4 }));
    expect(refused.message).toBe('leader 1 has not committed an entry of term 1 yet; retry shortly');
  });

  it('refuses changes that make no sense, naming the node', () => {
    const network = new TestNetwork([1]);
    network.tick([1], 20);
    const node = network.node(1);
    expect(errorOf(() => node.proposeConfChange({ type: 'addLearner', nodeId: 1 })).message).toBe('node 1 is already a member; remove it before adding it again');
    expect(errorOf(() => node.proposeConfChange({ type: 'promoteLearner', nodeId: 2 })).message).toBe('node 2 is not a learner; add it as a learner first, then promote it');
    expect(errorOf(() => node.proposeConfChange({ type: 'removeNode', nodeId: 2 })).message).toBe('node 2 is not a member of this cluster');
    expect(errorOf(() => node.proposeConfChange({ type: 'removeNode', nodeId: 1 })).message).toBe('node 1 is the only voter; add and promote another node before removing it');
  });
});
