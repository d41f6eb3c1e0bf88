import { describe, expect, it } from 'vitest';
import { PendingAcks } from '../../../src/broker/index.js';

describe('PendingAcks', () => {
  it('releases waiters below the high watermark, in offset order', () => {
    const acks = new PendingAcks<string>({ partition: 'orders-3', pendingAcksMax: 10 });
    acks.add(4, 'a');
    acks.add(9, 'b');
    acks.add(6, 'c');
    acks.add(6, 'd');
    acks.add(2, 'e');
    expect(acks.takeSatisfied(2)).toEqual([]);
    expect(acks.takeSatisfied(3)).toEqual(['e']);
    expect(acks.takeSatisfied(7)).toEqual(['a', 'c', 'd']);
    expect(acks.size).toBe(1);
    expect(acks.takeSatisfied(9)).toEqual([]);
    expect(acks.takeSatisfied(10)).toEqual(['b']);
    expect(acks.size).toBe(0);
  });

  it('hands every waiter back, in offset order, when leadership is lost', () => {
    const acks = new PendingAcks<number>({ partition: 'orders-3', pendingAcksMax: 10 });
    for (const offset of [5, 1, 3]) acks.add(offset, offset);
    expect(acks.takeAll()).toEqual([1, 3, 5]);
    expect(acks.takeAll()).toEqual([]);
    expect(acks.size).toBe(0);
  });

  it('refuses one beyond pendingAcksMax with RESOURCE_EXHAUSTED, and accepts again once some are released', () => {
    const acks = new PendingAcks<number>({ partition: 'orders-3', pendingAcksMax: 2 });
    acks.add(1, 1);
    acks.add(2, 2);
    expect(() => acks.add(3, 3)).toThrow(
      expect.objectContaining({
        code: 'RESOURCE_EXHAUSTED',
        message: 'partition "orders-3": 2 acks=ALL writes already wait for replication (pendingAcksMax 2); retry later',
      }),
    );
    expect(acks.takeSatisfied(2)).toEqual([1]);
    acks.add(3, 3);
    expect(acks.takeAll()).toEqual([2, 3]);
  });

  it('stays in order through thousands of waiters added, released and added again', () => {
    const acks = new PendingAcks<number>({ partition: 'orders-3', pendingAcksMax: 10_000 });
    const released: number[] = [];
    let next = 0;
    for (let round = 0; round < 20; round += 1) {
      for (let count = 0; count < 500; count += 1) acks.add(next, next++);
      // Every third round one waiter arrives late, behind waiters added before it.
      if (round % 3 === 0) acks.add(next - 250, -(next - 250));
      released.push(...acks.takeSatisfied(next - 100).map(Math.abs));
    }
    released.push(...acks.takeAll().map(Math.abs));
    expect(released).toEqual([...released].sort((left, right) => left - right));
    expect(released).toHaveLength(next + 7);
  });

  it('refuses offsets that are not safe integers', () => {
    const acks = new PendingAcks<number>({ partition: 'orders-3', pendingAcksMax: 2 });
    expect(() => acks.add(-1, 0)).toThrow('last offset -1 is not an offset');
    expect(() => acks.add(1.5, 0)).toThrow('last offset 1.5 is not an offset');
    expect(() => new PendingAcks({ partition: 'orders-3', pendingAcksMax: 0 })).toThrow('pendingAcksMax 0 must be a positive integer');
  });
});
