import { describe, expect, it } from 'vitest';
import { UploadByteBudget } from '../../../src/rpc/services/upload-byte-budget.js';

describe('the node-wide upload byte budget', () => {
  it('says a call must stop reading past the budget, and wakes waiting calls only once under half of it', () => {
    const budget = new UploadByteBudget(100);
    expect(budget.hold(60)).toBe(false);
    expect(budget.hold(50)).toBe(true);
    const woken: string[] = [];
    budget.whenRoom(() => woken.push('a'));
    const cancelB = budget.whenRoom(() => woken.push('b'));
    cancelB();
    budget.release(30);
    expect([budget.held, budget.hasRoom(), woken]).toEqual([80, false, []]);
    budget.release(30);
    expect([budget.held, budget.hasRoom(), woken]).toEqual([50, true, ['a']]);
    budget.release(50);
    expect(woken).toEqual(['a']);
  });

  it('refuses a bound that is not a positive integer, naming it', () => {
    expect(() => new UploadByteBudget(0)).toThrow('an upload byte budget is a positive integer of bytes, got 0');
  });
});
