import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFailure } from './sim-failure.js';
import { runSimulation, type SimulationResult } from './simulation.js';

/** Seeds run by `npm test`; `npm run sim` runs many more. Chosen to keep this file well under a minute. */
const seedCount = 500;

function failuresOf(results: readonly SimulationResult[]): string[] {
  return results.flatMap((result) => (result.failure === undefined ? [] : [formatFailure(result.seed, undefined, result.options, result.failure)]));
}

type CountedStat =
  | 'metadataCommands' | 'brokersFenced' | 'staleAlterPartitionsRejected' | 'recordsAcknowledged' | 'recordsRetried' | 'duplicatesAnswered' | 'brokerCrashes' | 'replicaTruncations';

function total(results: readonly SimulationResult[], stat: CountedStat): number {
  return results.reduce((sum, result) => sum + result.stats[stat], 0);
}

describe('the simulated cluster', () => {
  it(`survives ${seedCount} seeds of faults with every checker passing and recovers after healing`, () => {
    const results = Array.from({ length: seedCount }, (_, offset) => runSimulation(offset + 1));
    expect(failuresOf(results)).toEqual([]);
    // About half of the seeds run the metadata workload, and it does what the checkers are about.
    const metadataSeeds = results.filter((result) => result.stats.metadataCommands > 0).length;
    expect(metadataSeeds).toBeGreaterThan(seedCount / 3);
    expect(total(results, 'metadataCommands')).toBeGreaterThan(metadataSeeds * 20);
    expect(total(results, 'brokersFenced')).toBeGreaterThan(0);
    expect(total(results, 'staleAlterPartitionsRejected')).toBeGreaterThan(0);
    // A share of those runs the replication workload: records acknowledged, retried and recognised
    // as duplicates, crashes, divergent suffixes truncated.
    const replicationSeeds = results.filter((result) => result.stats.recordsProduced > 0).length;
    expect(replicationSeeds).toBeGreaterThan(seedCount / 10);
    expect(total(results, 'recordsAcknowledged')).toBeGreaterThan(replicationSeeds * 5);
    expect(total(results, 'recordsRetried')).toBeGreaterThan(0);
    expect(total(results, 'duplicatesAnswered')).toBeGreaterThan(0);
    expect(total(results, 'brokerCrashes')).toBeGreaterThan(0);
    expect(total(results, 'replicaTruncations')).toBeGreaterThan(0);
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

  it('replays a seed with the metadata workload identically', () => {
    const first = runSimulation(1, { traceSink: () => undefined });
    const second = runSimulation(1, { traceSink: () => undefined });
    expect(first.options.metadataBrokerCount).toBeGreaterThan(0);
    expect(first.stats.metadataCommands).toBeGreaterThan(0);
    expect(second.traceDigest).toBe(first.traceDigest);
    expect(second.stats).toEqual(first.stats);
  });

  it('replays a seed with the replication workload identically', () => {
    const overrides = { metadataBrokerCount: 3, replicationPartitionCount: 2 };
    const first = runSimulation(5, { overrides, traceSink: () => undefined });
    const second = runSimulation(5, { overrides, traceSink: () => undefined });
    expect(first.stats.recordsAcknowledged).toBeGreaterThan(0);
    expect(second.traceDigest).toBe(first.traceDigest);
    expect(second.stats).toEqual(first.stats);
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
