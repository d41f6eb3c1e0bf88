import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/raft/raft-types.js';
import { TestNetwork } from './raft-test-network.js';

type SnapshotMessage = Extract<Message, { type: 'snapshot' }>;

const snapshotData = Uint8Array.from({ length: 1000 }, (_, position) => position % 251);

/** 1 leads; 3 is cut off while 20 entries commit; 1 then snapshots and compacts its log. */
function laggingFollowerNeedingSnapshot(): TestNetwork {
  const network = new TestNetwork([1, 2, 3], { snapshotChunkBytesMax: 100 });
  network.elect(1);
  network.isolate(3);
  for (let count = 0; count < 20; count++) network.propose(1, `e${count}`);
  const leader = network.peer(1);
  const commit = leader.node.status().commitIndex;
  leader.storage.createSnapshot(commit, leader.node.status().membership, snapshotData);
  leader.storage.compact(commit);
  network.delivered = [];
  network.heal();
  return network;
}

describe('snapshots', () => {
  it('streams a compacted log to a lagging follower in chunks, which it installs', () => {
    const network = laggingFollowerNeedingSnapshot();
    network.tick([1], 2);
    const chunks = network.delivered.filter((message): message is SnapshotMessage => message.type === 'snapshot');
    expect(chunks.map((chunk) => chunk.offset)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(chunks.every((chunk) => chunk.data.byteLength <= 100)).toBe(true);
    expect(chunks.map((chunk) => chunk.done)).toEqual([...Array.from({ length: 9 }, () => false), true]);
    const follower = network.peer(3);
    expect(follower.snapshotsRestored).toBe(1);
    expect(follower.storage.snapshot()).toMatchObject({ metadata: { index: 21, term: 1 }, data: snapshotData });
    expect(follower.node.status()).toMatchObject({ commitIndex: 21, appliedIndex: 21, lastIndex: 21 });
    network.propose(1, 'after');
    expect(network.appliedTexts(3)).toEqual(['after']);
    expect(network.node(1).status().progress.get(3)).toMatchObject({ state: 'replicate', matchIndex: 22 });
  });

  it('acknowledges each chunk with the next offset it expects', () => {
    const network = laggingFollowerNeedingSnapshot();
    network.tick([1], 2);
    const acks = network.delivered.filter((message) => message.type === 'snapshotResponse');
    expect(acks.map((ack) => ack.type === 'snapshotResponse' && [ack.nextOffset, ack.done, ack.reject])).toEqual([
      ...[100, 200, 300, 400, 500, 600, 700, 800, 900].map((offset) => [offset, false, false]),
      [1000, true, false],
    ]);
  });

  it('resumes from the last acknowledged offset when chunks are lost', () => {
    const network = laggingFollowerNeedingSnapshot();
    let dropped = 0;
    network.dropRule = (message) => message.type === 'snapshot' && message.offset === 300 && dropped++ < 2;
    network.tick([1], 6);
    expect(dropped).toBeGreaterThanOrEqual(2);
    expect(network.peer(3).storage.snapshot().data).toEqual(snapshotData);
    expect(network.node(3).status().commitIndex).toBe(21);
  });

  it('a follower that already has the snapshot’s entries just commits them', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.propose(1, 'a');
    network.node(2).step({
      type: 'snapshot', from: 1, to: 2, term: 1, offset: 0, done: true, data: new Uint8Array(0),
      metadata: { index: 2, term: 1, membership: { voters: [1, 2, 3], learners: [] } },
    });
    const ready = network.node(2).ready();
    expect(ready.snapshot).toBeUndefined();
    expect(ready.messages).toEqual([expect.objectContaining({ type: 'snapshotResponse', done: true, reject: false })]);
  });
});
