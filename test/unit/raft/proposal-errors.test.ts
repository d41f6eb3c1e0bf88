import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/raft/raft-types.js';
import { errorOf, TestNetwork } from './raft-test-network.js';

describe('proposals', () => {
  it('returns the index and term the proposal landed at', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    expect(network.node(1).propose(new Uint8Array([1]))).toEqual({ index: 2, term: 1 });
  });

  it('a follower refuses with NOT_LEADER and a hint naming the leader and term', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    const error = errorOf(() => network.node(2).propose(new Uint8Array([1])));
    expect(error).toMatchObject({ code: 'NOT_LEADER', retriable: true, leaderHint: { nodeId: 1, address: '', epoch: 1 } });
    expect(error.message).toBe('node 2 is not the Raft leader (the leader is node 1); send the proposal there');
  });

  it('a node that knows no leader says so', () => {
    const network = new TestNetwork([1, 2, 3]);
    const error = errorOf(() => network.node(2).propose(new Uint8Array([1])));
    expect(error.message).toBe('node 2 is not the Raft leader (no leader is known yet); send the proposal there');
    expect(error.leaderHint).toEqual({ nodeId: 0, address: '', epoch: 0 });
  });

  it('bounds uncommitted proposals with RESOURCE_EXHAUSTED, and accepts again once they commit', () => {
    const network = new TestNetwork([1, 2, 3], { uncommittedEntriesMax: 3 });
    network.elect(1);
    network.isolate(1);
    for (let count = 0; count < 3; count++) network.node(1).propose(new Uint8Array([count]));
    const error = errorOf(() => network.node(1).propose(new Uint8Array([9])));
    expect(error).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retriable: true });
    expect(error.message).toBe('node 1 has 3 uncommitted entries (uncommittedEntriesMax 3); retry once some commit');
    network.heal();
    network.tick([1], 1);
    expect(network.node(1).status().commitIndex).toBe(4);
    expect(network.node(1).propose(new Uint8Array([9]))).toEqual({ index: 5, term: 1 });
  });

  it('refuses a malformed message with INVALID_REQUEST naming the field, changing nothing', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    const before = network.node(2).status();
    const bad = { type: 'append', from: 1, to: 2, term: 1, prevLogIndex: 1, prevLogTerm: 1, commit: 1,
      entries: [{ index: 3, term: 1, type: 'normal', data: new Uint8Array(0) }] } as Message;
    const error = errorOf(() => network.node(2).step(bad));
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', message: 'raft append message: entries[0].index must be 2, got 3' });
    const negative = { type: 'heartbeat', from: 1, to: 2, term: -1, commit: 0, context: new Uint8Array(0) } as Message;
    expect(errorOf(() => network.node(2).step(negative)).message).toBe('raft heartbeat message: term must be a safe non-negative integer, got -1');
    expect(network.node(2).status()).toEqual(before);
  });

  it('ignores messages from non-members and messages for other nodes', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    const before = network.node(2).status();
    // A non-member whose log is behind ours cannot even raise our term.
    network.node(2).step({ type: 'vote', from: 9, to: 2, term: 50, lastLogIndex: 0, lastLogTerm: 0, transfer: true });
    network.node(2).step({ type: 'vote', from: 3, to: 7, term: 50, lastLogIndex: 99, lastLogTerm: 50, transfer: true });
    expect(network.node(2).status()).toEqual(before);
    expect(network.node(2).hasReady()).toBe(false);
  });
});
