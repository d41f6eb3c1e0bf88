import { describe, expect, it } from 'vitest';
import { TestNetwork } from './raft-test-network.js';

/** Replaces a peer's core with a new one over the same storage, as a host does after a crash. */
function restart(network: TestNetwork, id: number, appliedIndex: number): void {
  const { storage, applied } = network.peer(id);
  const peer = network.addPeer(id, storage, {}, appliedIndex);
  peer.applied = applied.filter((entry) => entry.index <= appliedIndex);
}

describe('restart from storage', () => {
  it('a restarted node keeps its term, vote, log and commit, and applies only what it had not', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    for (const text of ['a', 'b', 'c']) network.propose(1, text);
    const before = network.node(2).status();
    restart(network, 2, 3);
    const after = network.node(2).status();
    expect(after).toMatchObject({ term: before.term, vote: before.vote, commitIndex: before.commitIndex, lastIndex: before.lastIndex, appliedIndex: 3, role: 'follower', leader: 0 });
    network.stabilize();
    expect(network.appliedTexts(2)).toEqual(['a', 'b', 'c']);
    expect(network.peer(2).applied.map((entry) => entry.index)).toEqual([1, 2, 3, 4]);
  });

  it('restarting with appliedIndex 0 hands every committed entry to the host again', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.propose(1, 'a');
    restart(network, 3, 0);
    network.stabilize();
    expect(network.appliedTexts(3)).toEqual(['a']);
  });

  it('a whole cluster restarted elects a leader and continues the same log', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    for (const text of ['a', 'b']) network.propose(1, text);
    for (const id of [1, 2, 3]) restart(network, id, network.node(id).status().appliedIndex);
    network.elect(2);
    expect(network.node(2).status().term).toBe(2);
    network.propose(2, 'c');
    for (const id of [1, 2, 3]) expect(network.appliedTexts(id)).toEqual(['a', 'b', 'c']);
  });

  it('replays membership changes between the snapshot and the applied index', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.node(1).proposeConfChange({ type: 'removeNode', nodeId: 3 });
    network.stabilize();
    restart(network, 2, network.node(2).status().appliedIndex);
    expect(network.node(2).status().membership).toEqual({ voters: [1, 2], learners: [] });
  });

  it('a node restarted from a snapshot starts after it', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    for (const text of ['a', 'b']) network.propose(1, text);
    const { storage } = network.peer(2);
    storage.createSnapshot(3, { voters: [1, 2, 3], learners: [] }, new Uint8Array([42]));
    storage.compact(3);
    restart(network, 2, 3);
    expect(network.node(2).status()).toMatchObject({ appliedIndex: 3, commitIndex: 3, lastIndex: 3 });
    network.propose(1, 'c');
    expect(network.appliedTexts(2)).toEqual(['a', 'b', 'c']);
  });
});
