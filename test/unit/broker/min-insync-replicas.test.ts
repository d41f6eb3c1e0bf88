import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import { lagMaxMs, leaderState, startMs } from './leader-state-fixture.js';

describe('acks=ALL needs minInSyncReplicas', () => {
  it('passes while the committed ISR is large enough', () => {
    expect(() => leaderState({ isr: [1, 2], minInSyncReplicas: 2 }).assertEnoughReplicas()).not.toThrow();
  });

  it('refuses with NOT_ENOUGH_REPLICAS naming partition, ISR and minInSyncReplicas', () => {
    const state = leaderState({ isr: [1, 3], minInSyncReplicas: 2 });
    const proposal = state.proposeIsrChange(startMs + lagMaxMs + 1);
    expect(proposal?.isr).toEqual([1]);
    // A removal in flight does not count yet.
    expect(() => state.assertEnoughReplicas()).not.toThrow();
    state.isrChangeCommitted([1], 11);
    let error: unknown;
    try {
      state.assertEnoughReplicas();
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(TributaryError);
    expect(error).toMatchObject({
      code: 'NOT_ENOUGH_REPLICAS',
      retriable: true,
      message: 'partition "orders-3": the in-sync replicas [1] are fewer than minInSyncReplicas 2; acks=ALL writes are refused until a replica catches up (acks=LEADER still works)',
    });
  });
});
