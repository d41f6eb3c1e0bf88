import { describe, expect, it } from 'vitest';
import { fetched, leaderState, leaderWrote, startMs } from './leader-state-fixture.js';

describe('a new leader publishes no high watermark below its epoch start offset (KIP-207)', () => {
  it('is undefined until the high watermark reaches epochStartOffset, then monotonic', () => {
    // Elected knowing 40 as a follower, with its log ending at 60.
    const state = leaderState({ epochStartOffset: 60, highWatermark: 40, leaderLogEndOffset: 60, leaderDurableEndOffset: 60 });
    expect(state.highWatermark()).toBeUndefined();
    fetched(state, 2, 60, startMs + 1);
    expect(fetched(state, 3, 50, startMs + 1)).toEqual({ highWatermark: undefined, advanced: false });
    leaderWrote(state, 70);
    fetched(state, 2, 70, startMs + 2);
    expect(fetched(state, 3, 60, startMs + 2)).toEqual({ highWatermark: 60, advanced: true });
    const published: number[] = [];
    for (const [offset, nowMs] of [[70, 3], [65, 4], [70, 5]] as const) {
      const change = fetched(state, 3, offset, startMs + nowMs);
      if (change.highWatermark !== undefined) published.push(change.highWatermark);
    }
    expect(published).toEqual([70, 70, 70]);
  });

  it('publishes at once when its known high watermark is already its epoch start', () => {
    const state = leaderState({ epochStartOffset: 25, highWatermark: 25, leaderLogEndOffset: 25, leaderDurableEndOffset: 25 });
    expect(state.highWatermark()).toBe(25);
  });

  it('refuses a starting point out of order', () => {
    expect(() => leaderState({ epochStartOffset: 10, highWatermark: 20, leaderLogEndOffset: 30 })).toThrow('needs highWatermark 20 ≤ epochStartOffset 10');
    expect(() => leaderState({ isr: [2, 3] })).toThrow('the ISR [2, 3] leaves out leader 1');
    expect(() => leaderState({ replicas: [1, 2, 2] })).toThrow('replicas [1, 2, 2] name a broker twice');
  });
});
