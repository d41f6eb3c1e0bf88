import { describe, expect, it } from 'vitest';
import { fetched, lagMaxMs, leaderState, leaderWrote, startMs } from './leader-state-fixture.js';

describe('ISR expansion', () => {
  it('proposes a caught-up replica back in once it is durable up to the high watermark', () => {
    const state = leaderState({ isr: [1, 2] });
    leaderWrote(state, 100);
    fetched(state, 2, 100, startMs + 1);
    expect(state.highWatermark()).toBe(100);
    // Fetched everything but fsynced only 90: not yet.
    fetched(state, 3, 100, startMs + 2, 90);
    expect(state.proposeIsrChange(startMs + 2)).toBeUndefined();
    fetched(state, 3, 100, startMs + 3, 100);
    expect(state.proposeIsrChange(startMs + 3)).toEqual({
      isr: [1, 2, 3],
      partitionEpoch: 10,
      added: [3],
      removed: [],
      reason: 'replica 3 caught up, durable to 100 (needs 100)',
    });
    expect(state.isrChangeCommitted([1, 2, 3], 11).highWatermark).toBe(100);
    expect(state.followers().map((follower) => follower.inIsr)).toEqual([true, true]);
  });

  it('needs the replica to be caught up, not only durable to the high watermark', () => {
    const state = leaderState({ isr: [1, 2] });
    leaderWrote(state, 100);
    fetched(state, 2, 100, startMs + 1);
    leaderWrote(state, 200);
    // Replica 3 is durable past the high watermark (100) but never reached the leader's end.
    fetched(state, 3, 150, startMs + 2);
    expect(state.proposeIsrChange(startMs + 2)).toBeUndefined();
    fetched(state, 3, 200, startMs + 3);
    expect(state.proposeIsrChange(startMs + 3)?.added).toEqual([3]);
  });

  it('needs the replica durable up to the epoch start offset even when the high watermark is lower', () => {
    const state = leaderState({ isr: [1, 2], epochStartOffset: 50, highWatermark: 30, leaderLogEndOffset: 50, leaderDurableEndOffset: 50 });
    fetched(state, 3, 40, startMs + 1);
    fetched(state, 3, 40, startMs + 2);
    expect(state.proposeIsrChange(startMs + 2)).toBeUndefined();
    fetched(state, 3, 50, startMs + 3);
    expect(state.proposeIsrChange(startMs + 3)?.reason).toBe('replica 3 caught up, durable to 50 (needs 50)');
  });

  it('shrinks and expands in one proposal', () => {
    const state = leaderState({ isr: [1, 2] });
    leaderWrote(state, 10);
    const nowMs = startMs + lagMaxMs + 1;
    fetched(state, 3, 10, nowMs);
    expect(state.proposeIsrChange(nowMs)).toMatchObject({ isr: [1, 3], added: [3], removed: [2] });
  });
});
