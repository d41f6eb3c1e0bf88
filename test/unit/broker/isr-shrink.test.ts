import { describe, expect, it } from 'vitest';
import { fetched, lagMaxMs, leaderState, leaderWrote, startMs } from './leader-state-fixture.js';

describe('ISR shrink', () => {
  it('proposes a follower out after replicaLagTimeMaxMs, and the high watermark advances once committed', () => {
    const state = leaderState();
    leaderWrote(state, 100);
    fetched(state, 2, 100, startMs + 100);
    fetched(state, 3, 40, startMs + 100);
    expect(state.highWatermark()).toBe(40);
    expect(state.proposeIsrChange(startMs + lagMaxMs)).toBeUndefined();
    fetched(state, 2, 100, startMs + lagMaxMs + 1);
    const proposal = state.proposeIsrChange(startMs + lagMaxMs + 1);
    expect(proposal).toEqual({
      isr: [1, 2],
      partitionEpoch: 10,
      added: [],
      removed: [3],
      reason: `replica 3 last caught up ${lagMaxMs + 1} ms ago (replicaLagTimeMaxMs ${lagMaxMs})`,
    });
    // Removals wait for the controller: the lagging member still holds the high watermark.
    expect(fetched(state, 2, 100, startMs + lagMaxMs + 2).highWatermark).toBe(40);
    expect(state.isrChangeCommitted([1, 2], 11)).toEqual({ highWatermark: 100, advanced: true });
    expect(state.isrList()).toEqual([1, 2]);
    expect(state.partitionEpoch()).toBe(11);
    expect(state.followers().find((follower) => follower.replicaId === 3)?.inIsr).toBe(false);
  });

  it('counts a follower caught up when it reaches the leader end as of its previous fetch (at that fetch time)', () => {
    const state = leaderState();
    leaderWrote(state, 10);
    fetched(state, 2, 10, startMs + 5_000);
    fetched(state, 3, 10, startMs + 5_000);
    // The leader keeps writing; replica 2 always reaches where the leader was at its previous fetch.
    leaderWrote(state, 20);
    fetched(state, 2, 10, startMs + 9_000);
    leaderWrote(state, 30);
    fetched(state, 2, 20, startMs + 13_000);
    fetched(state, 3, 30, startMs + 13_000);
    expect(state.followers()[0]).toMatchObject({ replicaId: 2, lastCaughtUpMs: startMs + 9_000 });
    expect(state.proposeIsrChange(startMs + 9_000 + lagMaxMs)).toBeUndefined();
    // Replica 2 fetches but never reaches the leader's end of its previous fetch: it falls out.
    leaderWrote(state, 40);
    fetched(state, 2, 25, startMs + 17_000);
    fetched(state, 3, 40, startMs + 19_000);
    expect(state.proposeIsrChange(startMs + 9_000 + lagMaxMs + 1)?.removed).toEqual([2]);
  });

  it('proposes a follower that never fetched in this epoch out after the lag window, never the leader', () => {
    const state = leaderState({ isr: [1, 2] });
    expect(state.proposeIsrChange(startMs + lagMaxMs)).toBeUndefined();
    const proposal = state.proposeIsrChange(startMs + lagMaxMs + 1);
    expect(proposal).toMatchObject({ isr: [1], removed: [2] });
    state.isrChangeCommitted([1], 11);
    expect(state.proposeIsrChange(startMs + 10 * lagMaxMs)).toBeUndefined();
  });

  it('keeps at most one proposal in flight, and proposes again after a failure', () => {
    const state = leaderState();
    const first = state.proposeIsrChange(startMs + lagMaxMs + 1);
    expect(first?.removed).toEqual([2, 3]);
    expect(state.proposeIsrChange(startMs + lagMaxMs + 2)).toBeUndefined();
    expect(state.inFlightProposal()).toBe(first);
    state.isrChangeFailed(first);
    expect(state.proposeIsrChange(startMs + lagMaxMs + 3)).toMatchObject({ isr: [1], removed: [2, 3], partitionEpoch: 10 });
  });

  it('ignores a late duplicate of a committed change (an epoch not newer than the current)', () => {
    const state = leaderState();
    state.isrChangeCommitted([1, 2], 12);
    expect(state.isrChangeCommitted([1, 2, 3], 12)).toEqual({ highWatermark: 0, advanced: false });
    expect(state.isrChangeCommitted([1, 2, 3], 11).advanced).toBe(false);
    expect(state.isrList()).toEqual([1, 2]);
  });

  it('refuses a committed ISR without the leader or with a non-replica', () => {
    const state = leaderState();
    expect(() => state.isrChangeCommitted([2, 3], 11)).toThrow('leaves out leader 1; a new leader epoch needs a new LeaderPartitionState');
    expect(() => state.isrChangeCommitted([1, 4], 11)).toThrow('ISR member 4 is not a replica (replicas are [1, 2, 3])');
    expect(state.partitionEpoch()).toBe(10);
  });
});
