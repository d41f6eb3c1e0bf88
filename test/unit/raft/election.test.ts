import { describe, expect, it } from 'vitest';
import { createRaftNode } from '../../../src/raft/create-raft-node.js';
import { MemoryRaftStorage } from '../../../src/raft/memory-raft-storage.js';
import type { Message, RaftNode } from '../../../src/raft/raft-types.js';
import { TestNetwork } from './raft-test-network.js';

function standaloneNode(options: { bug?: 'doubleVote'; nextInt?: (max: number) => number } = {}): RaftNode {
  return createRaftNode({
    id: 1,
    storage: new MemoryRaftStorage({ voters: [1, 2, 3], learners: [] }),
    random: { nextInt: options.nextInt ?? (() => 0) },
    electionTimeoutTicks: 10,
    heartbeatTimeoutTicks: 1,
    bug: options.bug,
  });
}

function voteRequest(from: number, term: number): Message {
  return { type: 'vote', from, to: 1, term, lastLogIndex: 0, lastLogTerm: 0, transfer: false };
}

function drainMessages(node: RaftNode): Message[] {
  const ready = node.ready();
  node.advance(ready);
  return [...ready.messages];
}

describe('leader election', () => {
  it('a single voter elects itself and commits its empty entry', () => {
    const network = new TestNetwork([1]);
    network.tick([1], 20);
    expect(network.node(1).status()).toMatchObject({ role: 'leader', leader: 1, term: 1, commitIndex: 1, appliedIndex: 1 });
  });

  it('three voters elect exactly one leader, and everyone learns it', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    expect(network.leaders()).toEqual([1]);
    for (const id of [1, 2, 3]) expect(network.node(id).status()).toMatchObject({ term: 1, leader: 1, commitIndex: 1 });
  });

  it('elects a leader when every node ticks, whatever the order of timeouts', () => {
    const network = new TestNetwork([1, 2, 3, 4, 5]);
    network.tick(undefined, 40);
    expect(network.leaders()).toHaveLength(1);
  });

  it('draws the election timeout from [e, 2e) with the injected Random', () => {
    for (const [drawn, ticksToCampaign] of [[0, 10], [9, 19]] as const) {
      const asked: number[] = [];
      const node = standaloneNode({ nextInt: (max) => (asked.push(max), drawn) });
      for (let tick = 1; tick < ticksToCampaign; tick++) node.tick();
      expect(node.status().role).toBe('follower');
      node.tick();
      expect(node.status().role).toBe('preCandidate');
      expect(asked.every((max) => max === 10)).toBe(true);
    }
  });

  it('with PreVote, a node cut off from the others does not raise its term', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.isolate(3);
    network.tick([3], 100);
    expect(network.node(3).status()).toMatchObject({ term: 1, role: 'preCandidate' });
  });

  it('without PreVote, the same node raises its term at every timeout', () => {
    const network = new TestNetwork([1, 2, 3], { preVote: false });
    network.elect(1);
    network.isolate(3);
    network.tick([3], 100);
    expect(network.node(3).status().term).toBeGreaterThan(3);
    expect(network.node(3).status().role).toBe('candidate');
  });

  it('a node whose log is behind cannot win (Raft §5.4.1)', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.isolate(3);
    network.propose(1, 'x');
    network.isolate(1);
    for (let tick = 0; tick < 60 && network.leaders().filter((id) => id !== 1).length === 0; tick++) {
      network.tick([3]);
      network.tick([2]);
      network.heal();
      network.isolate(1);
    }
    expect(network.node(2).status().role).toBe('leader');
    expect(network.appliedTexts(2)).toEqual(['x']);
  });

  it('grants one vote per term, to the first candidate asking', () => {
    const node = standaloneNode();
    node.step(voteRequest(2, 5));
    node.step(voteRequest(3, 5));
    const answers = drainMessages(node).map((message) => ({ to: message.to, type: message.type, reject: 'reject' in message && message.reject }));
    expect(answers).toEqual([
      { to: 2, type: 'voteResponse', reject: false },
      { to: 3, type: 'voteResponse', reject: true },
    ]);
    expect(node.status()).toMatchObject({ term: 5, vote: 2 });
  });

  it('persists the vote in the same Ready as the answer, marked mustSync', () => {
    const node = standaloneNode();
    node.step(voteRequest(2, 5));
    const ready = node.ready();
    expect(ready.hardState).toEqual({ term: 5, vote: 2, commit: 0 });
    expect(ready.mustSync).toBe(true);
    expect(ready.messages).toHaveLength(1);
  });

  it("test-only bug 'doubleVote' grants a second vote in the same term", () => {
    const node = standaloneNode({ bug: 'doubleVote' });
    node.step(voteRequest(2, 5));
    node.step(voteRequest(3, 5));
    const rejects = drainMessages(node).map((message) => 'reject' in message && message.reject);
    expect(rejects).toEqual([false, false]);
  });

  it('two leaders in one term follow from the double vote', () => {
    const network = new TestNetwork([1, 2, 3], { bug: 'doubleVote', preVote: false });
    // 1 and 3 both campaign in term 1; 2 grants both, and each has its own vote: two majorities.
    network.node(1).tick();
    for (let tick = 0; tick < 30; tick++) {
      network.node(1).tick();
      network.node(3).tick();
    }
    network.dropRule = (message) => (message.from === 1 && message.to === 3) || (message.from === 3 && message.to === 1);
    network.stabilize();
    const leaders = network.leaders().map((id) => network.node(id).status().term);
    expect(leaders).toHaveLength(2);
    expect(new Set(leaders).size).toBe(1);
  });
});
