import { describe, expect, it } from 'vitest';
import { fetched, leaderState, leaderWrote, startMs } from './leader-state-fixture.js';

describe('high watermark', () => {
  it('is the minimum durable end offset over the ISR, the leader included', () => {
    const state = leaderState();
    leaderWrote(state, 100);
    expect(fetched(state, 2, 100, startMs + 1)).toEqual({ highWatermark: 0, advanced: false });
    expect(fetched(state, 3, 60, startMs + 2)).toEqual({ highWatermark: 60, advanced: true });
    expect(fetched(state, 3, 100, startMs + 3)).toEqual({ highWatermark: 100, advanced: true });
  });

  it('counts durable offsets, not fetched ones: an ack means fsynced on every ISR member', () => {
    const state = leaderState();
    leaderWrote(state, 50);
    fetched(state, 2, 50, startMs + 1, 20);
    fetched(state, 3, 50, startMs + 1, 50);
    expect(state.highWatermark()).toBe(20);
    state.leaderAppended(80);
    fetched(state, 2, 80, startMs + 2, 80);
    fetched(state, 3, 80, startMs + 2, 80);
    expect(state.highWatermark()).toBe(50);
    expect(state.leaderDurable(80)).toEqual({ highWatermark: 80, advanced: true });
  });

  it('waits for every ISR member to report before advancing', () => {
    const state = leaderState();
    leaderWrote(state, 10);
    expect(fetched(state, 2, 10, startMs + 1).advanced).toBe(false);
    expect(state.highWatermark()).toBe(0);
  });

  it('ignores followers outside the ISR', () => {
    const state = leaderState({ isr: [1, 2] });
    leaderWrote(state, 10);
    expect(fetched(state, 2, 10, startMs + 1)).toEqual({ highWatermark: 10, advanced: true });
  });

  it('is never lowered by a report that goes backwards, and waits for the follower to return', () => {
    const state = leaderState();
    leaderWrote(state, 40);
    fetched(state, 2, 40, startMs + 1);
    fetched(state, 3, 40, startMs + 1);
    expect(state.highWatermark()).toBe(40);
    leaderWrote(state, 60);
    fetched(state, 2, 60, startMs + 2);
    // Replica 3 lost its unsynced tail and reports less than before: it holds 30 now.
    expect(fetched(state, 3, 35, startMs + 3, 30)).toEqual({ highWatermark: 40, advanced: false });
    expect(state.followers().find((follower) => follower.replicaId === 3)).toMatchObject({ fetchOffset: 35, durableEndOffset: 30 });
    expect(fetched(state, 3, 50, startMs + 4)).toEqual({ highWatermark: 50, advanced: true });
  });

  it('refuses bad follower input with errors naming the value, changing nothing', () => {
    const state = leaderState();
    leaderWrote(state, 10);
    expect(() => fetched(state, 7, 5, startMs)).toThrow('partition "orders-3" leader 1 epoch 5: replica 7 is not a follower (replicas are [1, 2, 3])');
    expect(() => fetched(state, 1, 5, startMs)).toThrow('replica 1 is the leader itself');
    expect(() => fetched(state, 2, -1, startMs)).toThrow(`partition "orders-3": replica 2's fetch offset -1 is not an offset`);
    expect(() => fetched(state, 2, 2 ** 53, startMs)).toThrow('is not an offset');
    expect(() => fetched(state, 2, 5, startMs, 6)).toThrow('durable end offset 6 beyond its fetch offset 5');
    expect(() => fetched(state, 2, 11, startMs)).toThrow(
      expect.objectContaining({
        code: 'OFFSET_OUT_OF_RANGE',
        message: `partition "orders-3" leader 1 epoch 5: replica 2 fetches from offset 11, beyond the leader's log end offset 10`,
      }),
    );
    expect(state.followers().every((follower) => follower.fetchOffset === undefined)).toBe(true);
  });

  it('refuses a leader log that goes backwards or durability beyond its end', () => {
    const state = leaderState();
    leaderWrote(state, 10);
    expect(() => state.leaderAppended(9)).toThrow('leader log end offset 9 is below 10');
    expect(() => state.leaderDurable(11)).toThrow('leader durable end offset 11 must be from 10 (the previous) to 10 (the log end)');
  });
});
