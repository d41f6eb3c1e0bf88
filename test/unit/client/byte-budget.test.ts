import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ByteBudget } from '../../../src/client/byte-budget.js';

describe("the producer's bounded buffer", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('grants at once while there is room, and makes later callers wait, first come first served', async () => {
    const budget = new ByteBudget('bufferedBytesMax', 100, 10);
    await budget.reserve(70, 1_000);
    const granted: string[] = [];
    const large = budget.reserve(60, 1_000).then(() => granted.push('large'));
    const small = budget.reserve(10, 1_000).then(() => granted.push('small'));
    await Promise.resolve();
    expect(granted).toEqual([]);
    budget.release(70);
    await Promise.all([large, small]);
    expect(granted).toEqual(['large', 'small']);
    expect(budget.usedBytes).toBe(70);
  });

  it('fails a caller that waited bufferWaitMsMax with RESOURCE_EXHAUSTED, and lets the next one through', async () => {
    const budget = new ByteBudget('bufferedBytesMax', 100, 10);
    await budget.reserve(90, 1_000);
    const blocked = budget.reserve(50, 1_000);
    const behind = budget.reserve(10, 5_000);
    vi.advanceTimersByTime(1_000);
    await expect(blocked).rejects.toThrow('bufferedBytesMax is full (90 of 100 bytes in use) and 50 more bytes are needed; none were released within 1000 ms');
    await expect(behind).resolves.toBeUndefined();
    expect(budget.usedBytes).toBe(100);
  });

  it('bounds its waiters and refuses a reservation larger than the whole budget', async () => {
    const budget = new ByteBudget('bufferedBytesMax', 100, 1);
    await budget.reserve(100, 1_000);
    const waiting = budget.reserve(1, 1_000);
    await expect(budget.reserve(1, 1_000)).rejects.toThrow('1 callers are already waiting');
    await expect(budget.reserve(101, 1_000)).rejects.toThrow('a record of 101 bytes cannot fit in bufferedBytesMax of 100 bytes; raise bufferedBytesMax');
    budget.release(100);
    await expect(waiting).resolves.toBeUndefined();
    expect(budget.usedBytes).toBe(1);
  });
});
