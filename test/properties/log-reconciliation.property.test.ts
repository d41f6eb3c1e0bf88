// Log reconciliation as a property: a leader's and a follower's logs share a prefix and then
// diverge, each with epochs the other never saw (as after unclean or fast leader changes). The
// follower runs the divergingEpoch ↔ truncationOffset loop against the leader until the leader
// finds no divergence. Logs are modelled as arrays of per-offset epochs; both sides answer
// endOffsetForEpoch with the storage's own LeaderEpochCache, the leader after moving its log start.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { divergingEpoch, noEpoch, truncationOffset } from '../../src/broker/index.js';
import { type EpochCheckpoint, LeaderEpochCache } from '../../src/storage/leader-epoch-cache.js';

const runsMax = 5;
const runLengthMax = 4;
const epochStepMax = 3;
const propertyRuns = 500;

/** A run of records in one epoch; the epoch is the previous one plus `epochStep`. */
const runArbitrary = fc.record({ epochStep: fc.integer({ min: 1, max: epochStepMax }), length: fc.integer({ min: 1, max: runLengthMax }) });

const historyArbitrary = fc.record({
  common: fc.array(runArbitrary, { maxLength: runsMax }),
  /** Which side kept writing in the last common epoch past the point where they diverge. */
  continuer: fc.constantFrom('leader' as const, 'follower' as const, 'none' as const),
  continuation: fc.integer({ min: 1, max: runLengthMax }),
  suffix: fc.array(fc.record({ owner: fc.constantFrom('leader' as const, 'follower' as const), run: runArbitrary }), { maxLength: runsMax }),
  /** Where the leader's log start lies between 0 and the end of the common prefix. */
  leaderStartAt: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
});

type History = typeof historyArbitrary extends fc.Arbitrary<infer T> ? T : never;

interface Logs {
  leader: number[];
  follower: number[];
  commonLength: number;
  leaderStartOffset: number;
}

/**
 * Builds both logs. Epochs only grow, and a suffix epoch belongs to one side only, so the two logs
 * hold the same epoch at an offset only inside the common prefix: Kafka's log matching (one leader
 * per epoch), which every real pair of replica logs satisfies.
 */
function buildLogs(history: History): Logs {
  const common: number[] = [];
  let epoch = noEpoch;
  for (const run of history.common) {
    epoch += run.epochStep;
    common.push(...Array<number>(run.length).fill(epoch));
  }
  const leader = [...common];
  const follower = [...common];
  const lastCommonEpoch = common.at(-1);
  if (lastCommonEpoch !== undefined && history.continuer !== 'none') {
    (history.continuer === 'leader' ? leader : follower).push(...Array<number>(history.continuation).fill(lastCommonEpoch));
  }
  for (const { owner, run } of history.suffix) {
    epoch += run.epochStep;
    (owner === 'leader' ? leader : follower).push(...Array<number>(run.length).fill(epoch));
  }
  const leaderStartOffset = Math.floor(history.leaderStartAt * (common.length + 1));
  return { leader, follower, commonLength: common.length, leaderStartOffset };
}

function checkpointsOf(log: readonly number[]): EpochCheckpoint[] {
  return log.flatMap((epoch, offset) => (offset === 0 || log[offset - 1] !== epoch ? [{ epoch, startOffset: offset }] : []));
}

function epochCache(log: readonly number[], logStartOffset: number): LeaderEpochCache {
  const cache = new LeaderEpochCache(checkpointsOf(log));
  if (logStartOffset > 0) cache.truncateFromStart(logStartOffset);
  return cache;
}

/** Runs the fetch loop; returns the follower's log and how many fetches it took. */
function reconcile(logs: Logs): { follower: number[]; fetches: number } {
  const leaderCache = epochCache(logs.leader, logs.leaderStartOffset);
  const fetchesMax = checkpointsOf(logs.follower).length + 1;
  let follower = [...logs.follower];
  for (let fetches = 1; fetches <= fetchesMax; fetches += 1) {
    const lastFetchedEpoch = follower.at(-1) ?? noEpoch;
    const fetch = { fetchOffset: follower.length, lastFetchedEpoch };
    const diverging = divergingEpoch(fetch, leaderCache.endOffsetFor(lastFetchedEpoch, logs.leader.length), logs.leaderStartOffset);
    if (diverging === undefined) return { follower, fetches };
    const followerEnd = epochCache(follower, 0).endOffsetFor(diverging.epoch, follower.length);
    const truncateTo = truncationOffset(diverging, followerEnd, follower.length);
    expect(truncateTo, `fetch ${fetches} must truncate something`).toBeLessThan(follower.length);
    expect(truncateTo, `fetch ${fetches} truncated into the common prefix`).toBeGreaterThanOrEqual(logs.commonLength);
    follower = follower.slice(0, truncateTo);
  }
  throw new Error(`no agreement after ${fetchesMax} fetches (one per follower epoch, plus one)`);
}

describe('log reconciliation', () => {
  it('ends with the follower a prefix of the leader, cut exactly at the common prefix, in bounded fetches', () => {
    fc.assert(
      fc.property(historyArbitrary, (history) => {
        const logs = buildLogs(history);
        const { follower } = reconcile(logs);
        expect(follower).toEqual(logs.leader.slice(0, follower.length));
        expect(follower.length).toBe(logs.commonLength);
      }),
      { numRuns: propertyRuns },
    );
  });

  it('leaves a follower that is already a prefix untouched, agreeing on the first fetch', () => {
    fc.assert(
      fc.property(historyArbitrary, fc.double({ min: 0, max: 1, noNaN: true }), (history, at) => {
        const logs = buildLogs(history);
        const length = logs.leaderStartOffset + Math.floor(at * (logs.leader.length - logs.leaderStartOffset));
        const follower = logs.leader.slice(0, length);
        expect(reconcile({ ...logs, follower, commonLength: length })).toEqual({ follower, fetches: 1 });
      }),
      { numRuns: propertyRuns },
    );
  });
});
