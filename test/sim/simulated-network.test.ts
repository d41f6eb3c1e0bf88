import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/raft-types.js';
import { cloneMessage } from './clone-message.js';
import { drawPartition, Partition } from './partition.js';
import { Prng } from './prng.js';
import { SimulatedNetwork, type LinkOptions } from './simulated-network.js';

interface TestMessage {
  from: number;
  to: number;
  payload: { value: number };
}

const calmLink: LinkOptions = { delayMsMin: 1, delayMsMax: 10, dropRate: 0, duplicateRate: 0, reorderRate: 0, reorderDelayMsMax: 0 };

function network(link: Partial<LinkOptions> = {}, seed = 1): SimulatedNetwork<TestMessage> {
  return new SimulatedNetwork<TestMessage>(new Prng(seed), () => ({ ...calmLink, ...link }), structuredClone);
}

function message(from: number, to: number): TestMessage {
  return { from, to, payload: { value: 1 } };
}

describe('SimulatedNetwork', () => {
  it('delivers a clone within the link delay, never the sender object', () => {
    const sent = message(1, 2);
    const [delivery, ...rest] = network().send(sent);
    expect(rest).toEqual([]);
    expect(delivery?.message).toEqual(sent);
    expect(delivery?.message.payload).not.toBe(sent.payload);
    expect(delivery?.delayMs).toBeGreaterThanOrEqual(1);
    expect(delivery?.delayMs).toBeLessThanOrEqual(10);
  });

  it('drops, duplicates and reorders at the configured rates', () => {
    const lossy = network({ dropRate: 0.3, duplicateRate: 0.2, reorderRate: 0.5, reorderDelayMsMax: 1000 });
    const copies = Array.from({ length: 10_000 }, () => lossy.send(message(1, 2)));
    const dropped = copies.filter((deliveries) => deliveries.length === 0).length;
    const duplicated = copies.filter((deliveries) => deliveries.length === 2).length;
    expect(dropped / 10_000).toBeCloseTo(0.3, 1);
    expect(duplicated / 7_000).toBeCloseTo(0.2, 1);
    expect(copies.flat().some((delivery) => delivery.delayMs > 10)).toBe(true);
    expect(lossy.counters).toMatchObject({ sent: 10_000, dropped, duplicated });
  });

  it('stops dropping when quiet and bounds its delays, until the faults are back', () => {
    const lossy = network({ dropRate: 1, delayMsMin: 50, delayMsMax: 100 });
    expect(lossy.send(message(1, 2))).toEqual([]);
    lossy.setQuiet(20);
    expect(lossy.send(message(1, 2)).map((delivery) => delivery.delayMs)).toEqual([20]);
    lossy.setQuiet(undefined);
    expect(lossy.send(message(1, 2))).toEqual([]);
  });

  it('cuts partitioned links at send and at delivery, one way where asked, until healed', () => {
    const cut = network();
    cut.setPartition(Partition.oneWay(1, [2, 3]));
    expect(cut.send(message(1, 2))).toEqual([]);
    expect(cut.send(message(2, 1))).toHaveLength(1);
    expect(cut.canDeliver(1, 3)).toBe(false);
    expect(cut.canDeliver(3, 1)).toBe(true);
    cut.heal();
    expect(cut.send(message(1, 2))).toHaveLength(1);
    expect(cut.canDeliver(1, 3)).toBe(true);
  });

  it('is deterministic for a seed', () => {
    const run = (seed: number) => {
      const lossy = network({ dropRate: 0.2, duplicateRate: 0.2, reorderRate: 0.2, reorderDelayMsMax: 50 }, seed);
      return Array.from({ length: 200 }, () => lossy.send(message(1, 2)).map((delivery) => delivery.delayMs));
    };
    expect(run(9)).toEqual(run(9));
    expect(run(9)).not.toEqual(run(10));
  });
});

describe('Partition', () => {
  it('builds splits, isolations and one-way cuts', () => {
    const split = Partition.split([1, 2], [3]);
    expect(split.blocks(1, 3) && split.blocks(3, 2)).toBe(true);
    expect(split.blocks(1, 2)).toBe(false);
    const isolated = Partition.isolate(2, [1, 2, 3]);
    expect(isolated.links().sort()).toEqual([[1, 2], [2, 1], [2, 3], [3, 2]]);
    expect(Partition.oneWay(1, [2]).blocks(2, 1)).toBe(false);
  });

  it('draws every shape, each cutting only links between the given nodes', () => {
    const random = new Prng(4);
    const shapes = new Set<string>();
    for (let draw = 0; draw < 200; draw++) {
      const partition = drawPartition(random, [1, 2, 3, 4]);
      shapes.add(partition.shape);
      for (const [from, to] of partition.links()) expect(from !== to && [1, 2, 3, 4].includes(from) && [1, 2, 3, 4].includes(to)).toBe(true);
    }
    expect(shapes).toEqual(new Set(['split', 'isolate', 'oneWay', 'randomLinks']));
    expect(drawPartition(random, [1]).shape).toBe('none');
  });
});

describe('cloneMessage', () => {
  it('copies every message deeply, entries through the entry codec, sharing no bytes with the sender', () => {
    const append: Message = {
      type: 'append', from: 1, to: 2, term: 3, prevLogIndex: 4, prevLogTerm: 2, commit: 4,
      entries: [{ index: 5, term: 3, type: 'normal', data: Uint8Array.from([1, 2]) }],
    };
    const snapshot: Message = {
      type: 'snapshot', from: 1, to: 2, term: 3, offset: 0, done: true, data: Uint8Array.from([9]),
      metadata: { index: 7, term: 3, membership: { voters: [1, 2], learners: [] } },
    };
    const appendCopy = cloneMessage(append) as Extract<Message, { type: 'append' }>;
    expect({ ...appendCopy, entries: [] }).toEqual({ ...append, entries: [] });
    expect(appendCopy.entries.map((entry) => ({ ...entry, data: [...entry.data] }))).toEqual([{ index: 5, term: 3, type: 'normal', data: [1, 2] }]);
    expect(appendCopy.entries[0]?.data).not.toBe(append.entries[0]?.data);
    expect(cloneMessage(snapshot)).toEqual(snapshot);
    const snapshotCopy = cloneMessage(snapshot) as Extract<Message, { type: 'snapshot' }>;
    expect(snapshotCopy.data).not.toBe(snapshot.data);
    expect(snapshotCopy.metadata.membership.voters).not.toBe(snapshot.metadata.membership.voters);
  });
});
