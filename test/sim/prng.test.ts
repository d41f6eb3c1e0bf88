import { describe, expect, it } from 'vitest';
import { Prng } from './prng.js';

function draws(random: Prng, count: number): number[] {
  return Array.from({ length: count }, () => random.nextUint32());
}

describe('Prng', () => {
  it('gives the same stream for the same seed, and different streams for different seeds', () => {
    expect(draws(new Prng(42), 100)).toEqual(draws(new Prng(42), 100));
    expect(draws(new Prng(42), 10)).not.toEqual(draws(new Prng(43), 10));
    expect(draws(new Prng(-1), 10)).not.toEqual(draws(new Prng(4294967295), 10));
    expect(draws(new Prng(0), 10)).not.toEqual(draws(new Prng(2 ** 32), 10));
  });

  it('pins its stream, so a seed reproduces across versions and machines', () => {
    expect(draws(new Prng(1), 4)).toMatchInlineSnapshot(`
      [
        1546579749,
        2079004436,
        2937366045,
        3582027280,
      ]
    `);
  });

  it('forks streams that depend on the root seed and the label only, not on draws made before', () => {
    const root = new Prng(7);
    const before = draws(root.fork('network'), 20);
    draws(root, 50);
    expect(draws(root.fork('network'), 20)).toEqual(before);
    expect(draws(root.fork('disk'), 20)).not.toEqual(before);
    expect(draws(new Prng(8).fork('network'), 20)).not.toEqual(before);
  });

  it('draws integers in range, with every value reached and no strong bias', () => {
    const random = new Prng(3);
    const counts = new Array<number>(6).fill(0);
    for (let draw = 0; draw < 60_000; draw++) {
      const value = random.nextInt(6);
      counts[value] = (counts[value] ?? 0) + 1;
    }
    expect(counts).toHaveLength(6);
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
    const ranged = Array.from({ length: 1000 }, () => random.range(-3, 3));
    expect(new Set(ranged)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
    expect(() => random.nextInt(0)).toThrow(RangeError);
  });

  it('has helpers that respect their edges', () => {
    const random = new Prng(5);
    expect(Array.from({ length: 100 }, () => random.chance(0)).some(Boolean)).toBe(false);
    expect(Array.from({ length: 100 }, () => random.chance(1)).every(Boolean)).toBe(true);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const shuffled = random.shuffle(items);
    expect([...shuffled].sort()).toEqual(items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(items).toContain(random.pick(items));
    const mean = Array.from({ length: 20_000 }, () => random.exponential(100)).reduce((sum, value) => sum + value, 0) / 20_000;
    expect(mean).toBeGreaterThan(95);
    expect(mean).toBeLessThan(105);
  });
});
