import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import type { Message } from '../../../src/raft/raft-types.js';
import { TestNetwork } from './raft-test-network.js';

describe('CheckQuorum and leader stickiness', () => {
  it('a leader that hears from no quorum for an election timeout steps down', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.isolate(1);
    network.tick([1], 9);
    expect(network.node(1).status().role).toBe('leader');
    network.tick([1], 11);
    expect(network.node(1).status()).toMatchObject({ role: 'follower', leader: 0, term: 1 });
    expect(() => network.node(1).propose(new Uint8Array([1]))).toThrow(TributaryError);
  });

  it('a leader that hears from a majority stays leader', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.isolate(3);
    network.tick([1, 2, 3], 50);
    expect(network.node(1).status()).toMatchObject({ role: 'leader', term: 1 });
  });

  it('with CheckQuorum off, a cut-off leader stays leader', () => {
    const network = new TestNetwork([1, 2, 3], { checkQuorum: false });
    network.elect(1);
    network.isolate(1);
    network.tick([1], 50);
    expect(network.node(1).status().role).toBe('leader');
  });

  it('a partitioned node rejoining does not disturb a healthy leader', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.isolate(3);
    network.tick([1, 2, 3], 100);
    network.heal();
    network.tick([1, 2, 3], 30);
    for (const id of [1, 2, 3]) expect(network.node(id).status()).toMatchObject({ term: 1, leader: 1 });
    network.propose(1, 'after');
    expect(network.appliedTexts(3)).toEqual(['after']);
  });

  it('a follower hearing from its leader ignores a higher-term vote request, unless it is a transfer', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    const request = (transfer: boolean): Message => ({ type: 'vote', from: 3, to: 2, term: 5, lastLogIndex: 9, lastLogTerm: 9, transfer });
    network.node(2).step(request(false));
    expect(network.node(2).status()).toMatchObject({ term: 1, leader: 1 });
    expect(network.node(2).ready().messages).toEqual([]);
    network.node(2).step(request(true));
    expect(network.node(2).status()).toMatchObject({ term: 5, vote: 3 });
  });

  it('a stale leader learns the newer term from a follower and steps down', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.isolate(1);
    network.tick([2, 3], 40);
    const newLeader = network.leaders().find((id) => id !== 1);
    expect(newLeader).toBeDefined();
    network.heal();
    network.tick([1], 1);
    expect(network.node(1).status()).toMatchObject({ role: 'follower', term: 2 });
    network.tick([newLeader ?? 0], 1);
    expect(network.node(1).status().leader).toBe(newLeader);
  });
});
