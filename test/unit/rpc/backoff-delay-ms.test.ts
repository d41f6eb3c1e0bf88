import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../../src/rpc/clients/backoff-delay-ms.js';

const limits = { backoffMsMin: 50, backoffMsMax: 2_000 };

describe('reconnect backoff', () => {
  it('doubles its ceiling per failure from the minimum up to the maximum', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 40, 10_000].map((failures) => backoffDelayMs(failures, limits, () => 1));
    expect(ceilings).toEqual([50, 100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000]);
  });

  it('draws every delay from the upper half of its ceiling, never beyond the maximum', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (failures, draw) => {
      const ceilingMs = Math.min(limits.backoffMsMax, limits.backoffMsMin * 2 ** Math.min(failures - 1, 30));
      const delayMs = backoffDelayMs(failures, limits, () => draw);
      expect(delayMs).toBeGreaterThanOrEqual(ceilingMs / 2);
      expect(delayMs).toBeLessThanOrEqual(ceilingMs);
    }));
  });

  it('refuses a failure count that is not a positive integer', () => {
    expect(() => backoffDelayMs(0, limits, Math.random)).toThrow('failures must be a positive integer, got 0');
  });
});
