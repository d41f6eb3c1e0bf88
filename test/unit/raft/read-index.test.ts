import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import type { Message } from '../../../src/raft/raft-types.js';
import { TestNetwork } from './raft-test-network.js';

const context = (text: string) => new TextEncoder().encode(text);

describe('ReadIndex', () => {
  it('the leader answers after a heartbeat round confirms it is still leader', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.propose(1, 'a');
    network.delivered = [];
    network.node(1).readIndex(context('r1'));
    network.stabilize();
    expect(network.peer(1).readStates).toEqual([{ index: 2, context: context('r1') }]);
    const rounds = network.delivered.filter((message) => message.type === 'heartbeat' && message.context.byteLength > 0);
    expect(rounds.map((message) => message.to).sort()).toEqual([2, 3]);
  });

  it('a leader cut off from the quorum never answers', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.isolate(1);
    network.node(1).readIndex(context('r1'));
    network.tick([1], 5);
    expect(network.peer(1).readStates).toEqual([]);
  });

  it('a follower forwards the read to the leader and surfaces its answer', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.propose(1, 'a');
    network.node(3).readIndex(context('from-3'));
    network.stabilize();
    expect(network.peer(3).readStates).toEqual([{ index: 2, context: context('from-3') }]);
    expect(network.peer(1).readStates).toEqual([]);
  });

  it('a new leader answers only after committing an entry of its term', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.dropRule = (message: Message) => message.type === 'appendResponse';
    network.elect(1);
    expect(network.node(1).status().commitIndex).toBe(0);
    network.node(1).readIndex(context('early'));
    network.stabilize();
    expect(network.peer(1).readStates).toEqual([]);
    network.heal();
    network.tick([1], 2);
    expect(network.peer(1).readStates).toEqual([{ index: 1, context: context('early') }]);
  });

  it('a single voter answers at once, with no messages', () => {
    const network = new TestNetwork([1]);
    network.tick([1], 20);
    network.node(1).readIndex(context('solo'));
    const ready = network.node(1).ready();
    expect(ready.readStates).toEqual([{ index: 1, context: context('solo') }]);
    expect(ready.messages).toEqual([]);
  });

  it('a node that knows no leader refuses with NOT_LEADER', () => {
    const network = new TestNetwork([1, 2, 3]);
    expect(() => network.node(2).readIndex(context('x'))).toThrow(TributaryError);
    try {
      network.node(2).readIndex(context('x'));
    } catch (error) {
      expect(error).toMatchObject({ code: 'NOT_LEADER', leaderHint: { nodeId: 0, address: '', epoch: 0 } });
    }
  });

  it('answers many reads with one index each, in order', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    for (let count = 0; count < 5; count++) network.node(1).readIndex(context(`r${count}`));
    network.propose(1, 'a');
    network.node(1).readIndex(context('after'));
    network.stabilize();
    const states = network.peer(1).readStates.map((state) => [new TextDecoder().decode(state.context), state.index]);
    expect(states).toEqual([['r0', 1], ['r1', 1], ['r2', 1], ['r3', 1], ['r4', 1], ['after', 2]]);
  });
});
