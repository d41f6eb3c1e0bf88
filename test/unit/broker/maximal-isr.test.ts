import { describe, expect, it } from 'vitest';
import { fetched, lagMaxMs, leaderState, leaderWrote, startMs } from './leader-state-fixture.js';

describe('maximal ISR while a change is in flight (KIP-497)', () => {
  it('counts a proposed addition at once, so the high watermark waits for it', () => {
    const state = leaderState({ isr: [1, 2] });
    leaderWrote(state, 100);
    fetched(state, 2, 100, startMs + 1);
    fetched(state, 3, 100, startMs + 2);
    const proposal = state.proposeIsrChange(startMs + 2);
    expect(proposal?.added).toEqual([3]);
    expect(state.maximalIsr()).toEqual([1, 2, 3]);
    leaderWrote(state, 200);
    fetched(state, 2, 200, startMs + 3);
    // Without replica 3 the high watermark would be 200; with the addition in flight it waits.
    expect(state.highWatermark()).toBe(100);
    expect(fetched(state, 3, 150, startMs + 4)).toEqual({ highWatermark: 150, advanced: true });
  });

  it('lets the high watermark pass a failed addition, and never lowers it', () => {
    const state = leaderState({ isr: [1, 2] });
    leaderWrote(state, 100);
    fetched(state, 2, 100, startMs + 1);
    fetched(state, 3, 100, startMs + 2);
    const proposal = state.proposeIsrChange(startMs + 2);
    leaderWrote(state, 200);
    fetched(state, 2, 200, startMs + 3);
    expect(state.highWatermark()).toBe(100);
    expect(proposal && state.isrChangeFailed(proposal)).toEqual({ highWatermark: 200, advanced: true });
    expect(state.maximalIsr()).toEqual([1, 2]);
  });

  it('keeps a proposed removal in the ISR until committed', () => {
    const state = leaderState();
    leaderWrote(state, 100);
    fetched(state, 2, 100, startMs + lagMaxMs + 1);
    fetched(state, 3, 30, startMs + 1);
    expect(state.proposeIsrChange(startMs + lagMaxMs + 1)?.removed).toEqual([3]);
    expect(state.maximalIsr()).toEqual([1, 2, 3]);
    expect(state.leaderDurable(100).highWatermark).toBe(30);
    expect(state.isrChangeFailed().highWatermark).toBe(30);
  });

  it('ignores a late failure of a proposal a metadata delta already superseded', () => {
    const state = leaderState({ isr: [1, 2] });
    leaderWrote(state, 10);
    fetched(state, 2, 10, startMs + 1);
    fetched(state, 3, 10, startMs + 1);
    const stale = state.proposeIsrChange(startMs + 1);
    expect(stale?.partitionEpoch).toBe(10);
    // The controller changed the partition meanwhile: the proposal can no longer commit.
    state.isrChangeCommitted([1, 2], 11);
    expect(state.inFlightProposal()).toBeUndefined();
    const current = state.proposeIsrChange(startMs + 2);
    expect(current).toMatchObject({ partitionEpoch: 11, added: [3] });
    expect(stale && state.isrChangeFailed(stale)).toEqual({ highWatermark: 10, advanced: false });
    expect(state.inFlightProposal()).toBe(current);
    expect(state.maximalIsr()).toEqual([1, 2, 3]);
  });
});
