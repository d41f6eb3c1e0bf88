import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFailure } from './sim-failure.js';
import { runSimulation } from './simulation.js';

/** Seeds run by `npm test`; `npm run sim` runs many more. Chosen to keep this file well under a minute. */
const seedCount = 500;

function failuresOf(seeds: readonly number[]): string[] {
  return seeds.flatMap((seed) => {
    const result = runSimulation(seed);
    return result.failure === undefined ? [] : [formatFailure(seed, undefined, result.options, result.failure)];
  });
}

describe('the simulated cluster', () => {
  it(`survives ${seedCount} seeds of faults with every checker passing and recovers after healing`, () => {
    const seeds = Array.from({ length: seedCount }, (_, offset) => offset + 1);
    expect(failuresOf(seeds)).toEqual([]);
  }, 240_000);

  it('survives any seed (fast-check over seeds)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const result = runSimulation(seed);
        if (result.failure !== undefined) throw new Error(formatFailure(seed, undefined, result.options, result.failure));
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('replays a seed identically, with or without the trace', () => {
    const lines: string[] = [];
    const first = runSimulation(7, { traceSink: (line) => lines.push(line) });
    const second = runSimulation(7, { traceSink: () => undefined });
    const untraced = runSimulation(7);
    expect(second.traceDigest).toBe(first.traceDigest);
    expect(untraced.stats).toEqual(first.stats);
    expect(lines.length).toBeGreaterThan(100);
    expect(runSimulation(8, { traceSink: () => undefined }).traceDigest).not.toBe(first.traceDigest);
  });

  it('draws a different swarm per seed, and says how to replay a failure', () => {
    const voterCounts = new Set(Array.from({ length: 30 }, (_, seed) => runSimulation(seed).options.voterCount));
    expect(voterCounts.size).toBeGreaterThan(3);
    const result = runSimulation(3);
    const report = formatFailure(3, 'skipFsync', result.options, { failureClass: 'safety', checker: 'logMatching', message: 'boom', atMs: 5 });
    expect(report).toMatch(/^FAIL safety logMatching seed=3 bug=skipFsync at 5ms: boom\n {2}swarm: voterCount=\d/);
    expect(report).toContain('reproduce with: npm run sim -- --seed 3 --trace --bug skipFsync');
  });
});
