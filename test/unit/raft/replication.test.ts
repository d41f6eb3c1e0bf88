import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/raft/raft-types.js';
import { TestNetwork, networkFromStorages, storageWithLog, storedTerms } from './raft-test-network.js';

type AppendMessage = Extract<Message, { type: 'append' }>;

const threeVoters = { voters: [1, 2, 3], learners: [] };

function appendsTo(messages: readonly Message[], to: number): AppendMessage[] {
  return messages.filter((message): message is AppendMessage => message.type === 'append' && message.to === to);
}

describe('log replication', () => {
  it('overwrites a follower’s conflicting uncommitted suffix and fills a follower that is behind', () => {
    // Raft Figure 7 in small: 1 has the newest log; 2 misses an entry; 3 has entries of terms nobody kept.
    const network = networkFromStorages(new Map([
      [1, storageWithLog(threeVoters, [1, 1, 1, 4, 4, 5, 5, 6, 6, 6], 6, 3)],
      [2, storageWithLog(threeVoters, [1, 1, 1, 4, 4, 5, 5, 6, 6], 6, 3)],
      [3, storageWithLog(threeVoters, [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], 6, 3)],
    ]));
    network.elect(1);
    network.propose(1, 'new');
    const expected = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7];
    for (const id of [1, 2, 3]) expect(storedTerms(network.peer(id))).toEqual(expected);
    for (const id of [1, 2, 3]) expect(network.node(id).status().commitIndex).toBe(12);
  });

  it('backtracks by conflict hints, not one index at a time', () => {
    const divergent = Array.from({ length: 50 }, () => 2);
    const network = networkFromStorages(new Map([
      [1, storageWithLog(threeVoters, [1, ...Array.from({ length: 50 }, () => 3)], 3, 1)],
      [2, storageWithLog(threeVoters, [1, ...Array.from({ length: 50 }, () => 3)], 3, 1)],
      [3, storageWithLog(threeVoters, [1, ...divergent], 3, 1)],
    ]));
    network.elect(1);
    const rejections = network.delivered.filter((message) => message.type === 'appendResponse' && message.from === 3 && message.reject);
    expect(rejections.length).toBeLessThanOrEqual(2);
    expect(storedTerms(network.peer(3))).toEqual(storedTerms(network.peer(1)));
  });

  it('answers a rejected append with the conflict term and its first index', () => {
    const network = networkFromStorages(new Map([
      [1, storageWithLog(threeVoters, [1, 1, 4, 4, 4], 4, 2)],
      [2, storageWithLog(threeVoters, [1, 1, 4, 4, 4], 4, 2)],
      [3, storageWithLog(threeVoters, [1, 1, 2, 2, 2, 2], 4, 2)],
    ]));
    network.elect(1);
    const rejection = network.delivered.find((message) => message.type === 'appendResponse' && message.from === 3 && message.reject);
    // The leader probed at its last index 5; 3 has term 2 there, first at index 3.
    expect(rejection).toMatchObject({ index: 5, conflictTerm: 2, conflictIndex: 3 });
  });

  it('batches entries within entriesPerMessageMax and messageBytesMax', () => {
    for (const [options, perMessageMax] of [[{ entriesPerMessageMax: 3 }, 3], [{ messageBytesMax: 2 * (100 + 24) }, 2]] as const) {
      const network = new TestNetwork([1, 2, 3], options);
      network.elect(1);
      network.isolate(3);
      for (let count = 0; count < 10; count++) network.node(1).propose(new Uint8Array(100));
      network.stabilize();
      network.delivered = [];
      network.heal();
      network.tick([1], 3);
      const appends = appendsTo(network.delivered, 3);
      expect(Math.max(...appends.map((message) => message.entries.length))).toBe(perMessageMax);
      expect(network.node(3).status().lastIndex).toBe(11);
    }
  });

  it('batches proposals behind an append in flight, then pipelines within inflightMessagesMax', () => {
    const network = new TestNetwork([1, 2, 3], { inflightMessagesMax: 2, entriesPerMessageMax: 1 });
    network.elect(1);
    const leader = network.node(1);
    for (let count = 0; count < 6; count++) leader.propose(new Uint8Array([count]));
    // Look without advancing: processReadies() then handles these same Readies as a host would.
    expect(appendsTo(leader.ready().messages, 2).map((message) => message.entries.length)).toEqual([1]);
    network.processReadies();
    network.deliverAll();
    network.processReadies();
    network.deliverAll();
    expect(appendsTo(leader.ready().messages, 2).map((message) => message.entries.length)).toEqual([1, 1]);
    expect(leader.status().progress.get(2)).toMatchObject({ state: 'replicate', inflightMessages: 2 });
    network.stabilize();
    for (const id of [1, 2, 3]) expect(network.node(id).status().commitIndex).toBe(7);
  });

  it('sends each follower a heartbeat commit index no higher than its match', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.dropRule = (message) => message.type === 'append' && message.to === 3;
    for (const text of ['a', 'b', 'c']) network.propose(1, text);
    network.tick([1], 2);
    const heartbeats = network.delivered.filter((message): message is Extract<Message, { type: 'heartbeat' }> => message.type === 'heartbeat' && message.to === 3);
    expect(heartbeats.length).toBeGreaterThan(0);
    for (const heartbeat of heartbeats) expect(heartbeat.commit).toBeLessThanOrEqual(1);
    expect(network.node(3).status()).toMatchObject({ commitIndex: 1, lastIndex: 1 });
  });

  it('recovers from lost appends through heartbeats', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    let dropped = 0;
    network.dropRule = (message) => message.type === 'append' && message.to === 2 && dropped++ < 3;
    for (const text of ['a', 'b', 'c', 'd']) network.propose(1, text);
    network.tick([1], 5);
    expect(network.appliedTexts(2)).toEqual(['a', 'b', 'c', 'd']);
  });
});
