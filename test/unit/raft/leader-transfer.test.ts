import { describe, expect, it } from 'vitest';
import { createRaftNode } from '../../../src/raft/create-raft-node.js';
import { decodeConfChange, encodeConfChange } from '../../../src/raft/entry-codec.js';
import { MemoryRaftStorage } from '../../../src/raft/memory-raft-storage.js';
import { errorOf, TestNetwork } from './raft-test-network.js';

describe('leader transfer', () => {
  it('hands leadership to an up-to-date follower with TimeoutNow', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.propose(1, 'a');
    network.node(1).transferLeadership(2);
    network.stabilize();
    expect(network.delivered.some((message) => message.type === 'timeoutNow' && message.to === 2)).toBe(true);
    expect(network.leaders()).toEqual([2]);
    expect(network.node(2).status().term).toBe(2);
    network.propose(2, 'b');
    for (const id of [1, 2, 3]) expect(network.appliedTexts(id)).toEqual(['a', 'b']);
  });

  it('first brings a lagging target up to date', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.isolate(3);
    for (const text of ['a', 'b', 'c']) network.propose(1, text);
    network.heal();
    network.node(1).transferLeadership(3);
    network.stabilize();
    expect(network.leaders()).toEqual([3]);
    expect(network.appliedTexts(3)).toEqual(['a', 'b', 'c']);
  });

  it('refuses proposals during the transfer and gives up after an election timeout', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.isolate(3);
    network.node(1).transferLeadership(3);
    expect(network.node(1).status().leadTransferee).toBe(3);
    expect(errorOf(() => network.node(1).propose(new Uint8Array([1]))).code).toBe('NOT_AVAILABLE');
    network.tick([1, 2], 10);
    expect(network.node(1).status()).toMatchObject({ role: 'leader', leadTransferee: 0 });
    network.propose(1, 'after');
    expect(network.appliedTexts(2)).toEqual(['after']);
  });

  it('refuses a target that is not a voter, and a request on a follower', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    expect(errorOf(() => network.node(1).transferLeadership(9)).code).toBe('INVALID_REQUEST');
    expect(errorOf(() => network.node(2).transferLeadership(3))).toMatchObject({ code: 'NOT_LEADER', leaderHint: { nodeId: 1, epoch: 1 } });
  });

  it('a target with a committed but unapplied membership change campaigns once the host applies it', () => {
    const storage = new MemoryRaftStorage({ voters: [1, 2, 3], learners: [] });
    storage.append([
      { index: 1, term: 1, type: 'normal', data: new Uint8Array(0) },
      { index: 2, term: 1, type: 'confChange', data: encodeConfChange({ type: 'removeNode', nodeId: 1 }) },
    ]);
    storage.setHardState({ term: 1, vote: 1, commit: 1 });
    const node = createRaftNode({ id: 2, storage, random: { nextInt: () => 0 }, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1, appliedIndex: 1 });
    node.step({ type: 'append', from: 1, to: 2, term: 1, prevLogIndex: 2, prevLogTerm: 1, entries: [], commit: 2 });
    node.step({ type: 'timeoutNow', from: 1, to: 2, term: 1 });
    expect(node.status().role).toBe('follower');
    const ready = node.ready();
    for (const entry of ready.committedEntries) if (entry.type === 'confChange') node.applyConfChange(decodeConfChange(entry.data));
    node.advance(ready);
    expect(node.status()).toMatchObject({ role: 'candidate', term: 2, membership: { voters: [2, 3], learners: [] } });
    expect(node.ready().messages).toEqual([{ type: 'vote', from: 2, to: 3, term: 2, lastLogIndex: 2, lastLogTerm: 1, transfer: true }]);
  });
});
