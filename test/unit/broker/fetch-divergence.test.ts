// Log reconciliation cases, with both logs' answers computed by the storage's LeaderEpochCache
// (what PartitionLog.endOffsetForEpoch returns), so the core is tested against the real rules.
import { describe, expect, it } from 'vitest';
import { divergingEpoch, noEpoch, truncationOffset, validateLeaderEpoch } from '../../../src/broker/index.js';
import { LeaderEpochCache, type EpochCheckpoint } from '../../../src/storage/leader-epoch-cache.js';

interface LogShape {
  checkpoints: EpochCheckpoint[];
  endOffset: number;
  startOffset?: number;
}

function endFor(log: LogShape, epoch: number) {
  return new LeaderEpochCache(log.checkpoints).endOffsetFor(epoch, log.endOffset);
}

/** One fetch round: the leader's answer and, when it diverges, where the follower truncates. */
function round(leader: LogShape, follower: LogShape) {
  const lastFetchedEpoch = follower.checkpoints.at(-1)?.epoch ?? noEpoch;
  const fetch = { fetchOffset: follower.endOffset, lastFetchedEpoch };
  const diverging = divergingEpoch(fetch, endFor(leader, lastFetchedEpoch), leader.startOffset ?? 0);
  if (diverging === undefined) return { diverging, truncateTo: undefined };
  return { diverging, truncateTo: truncationOffset(diverging, endFor(follower, diverging.epoch), follower.endOffset) };
}

describe('fetch divergence', () => {
  it('agrees when the follower is a prefix of the leader', () => {
    const leader = { checkpoints: [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }], endOffset: 20 };
    expect(round(leader, { checkpoints: [{ epoch: 1, startOffset: 0 }], endOffset: 10 }).diverging).toBeUndefined();
    expect(round(leader, { checkpoints: [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }], endOffset: 15 }).diverging).toBeUndefined();
    expect(round(leader, { checkpoints: [{ epoch: 1, startOffset: 0 }], endOffset: 6 }).diverging).toBeUndefined();
  });

  it('truncates an extra suffix written by a deposed leader of the same epoch (KIP-101)', () => {
    // The follower has epoch 1 up to 14; the leader's epoch 1 ends at 10, then epoch 3.
    const leader = { checkpoints: [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }], endOffset: 20 };
    const follower = { checkpoints: [{ epoch: 1, startOffset: 0 }], endOffset: 14 };
    expect(round(leader, follower)).toEqual({ diverging: { epoch: 1, endOffset: 10 }, truncateTo: 10 });
  });

  it('truncates a suffix of an epoch the leader never had, in one round when the leader wrote after it', () => {
    // Epoch 2 was a deposed leader's, seen only by this follower; the leader moved on to epoch 3.
    const leader = { checkpoints: [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }], endOffset: 20 };
    const follower = { checkpoints: [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 10 }], endOffset: 16 };
    expect(round(leader, follower)).toEqual({ diverging: { epoch: 1, endOffset: 10 }, truncateTo: 10 });
  });

  it('steps back one epoch at a time when the follower is missing the epoch the leader names (KIP-279)', () => {
    // The leader's largest epoch ≤ 4 is 2, which the follower never had: it truncates to where its
    // own epochs above 2 begin, and asks again.
    const leader = { checkpoints: [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 5 }, { epoch: 5, startOffset: 12 }], endOffset: 20 };
    const follower = { checkpoints: [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 8 }, { epoch: 4, startOffset: 11 }], endOffset: 14 };
    const first = round(leader, follower);
    expect(first).toEqual({ diverging: { epoch: 2, endOffset: 12 }, truncateTo: 8 });
    const second = round(leader, { checkpoints: [{ epoch: 1, startOffset: 0 }], endOffset: 8 });
    expect(second).toEqual({ diverging: { epoch: 1, endOffset: 5 }, truncateTo: 5 });
    expect(round(leader, { checkpoints: [{ epoch: 1, startOffset: 0 }], endOffset: 5 }).diverging).toBeUndefined();
  });

  it('serves an empty follower log from its fetch offset', () => {
    const leader = { checkpoints: [{ epoch: 1, startOffset: 0 }], endOffset: 20 };
    expect(round(leader, { checkpoints: [], endOffset: 0 })).toEqual({ diverging: undefined, truncateTo: undefined });
  });

  it('drops the follower epoch the leader does not know, one epoch per round', () => {
    // The new leader (epoch 4) has written nothing in its epoch yet: its log knows epochs 1 and 2
    // only, while the follower holds epoch 3 from a deposed leader.
    const leader = { checkpoints: [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 6 }], endOffset: 12 };
    const follower = { checkpoints: [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 6 }, { epoch: 3, startOffset: 9 }], endOffset: 15 };
    expect(endFor(leader, 3)).toBeUndefined();
    expect(round(leader, follower)).toEqual({ diverging: { epoch: 2, endOffset: 15 }, truncateTo: 9 });
    expect(round(leader, { checkpoints: follower.checkpoints.slice(0, 2), endOffset: 9 }).diverging).toBeUndefined();
  });

  it('truncates to the leader log start when the leader kept no epoch at or below the follower\'s', () => {
    // The leader's log starts at 30 in epoch 6; the follower's epoch 4 ends beyond it.
    const leader = { checkpoints: [{ epoch: 6, startOffset: 30 }], endOffset: 40, startOffset: 30 };
    const follower = { checkpoints: [{ epoch: 4, startOffset: 0 }], endOffset: 35 };
    expect(round(leader, follower)).toEqual({ diverging: { epoch: 4, endOffset: 30 }, truncateTo: 30 });
  });

  it('answers OFFSET_OUT_OF_RANGE below the leader log start, before comparing epochs', () => {
    expect(() => divergingEpoch({ fetchOffset: 3, lastFetchedEpoch: 2 }, { epoch: 1, endOffset: 2 }, 10)).toThrow(
      expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE', message: "fetch offset 3 is below the leader's log start offset 10; the follower must restart its log at 10" }),
    );
  });

  it('refuses malformed fetch positions with INVALID_REQUEST', () => {
    expect(() => divergingEpoch({ fetchOffset: -2, lastFetchedEpoch: 1 }, undefined, 0)).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST', message: 'fetch offset -2 is not an offset (a safe integer from 0)' }),
    );
    expect(() => divergingEpoch({ fetchOffset: 2, lastFetchedEpoch: -5 }, undefined, 0)).toThrow('last fetched epoch -5 is not an epoch');
  });
});

describe('validateLeaderEpoch (KIP-320)', () => {
  it('accepts the current epoch', () => {
    expect(() => validateLeaderEpoch('orders-3', 5, 5)).not.toThrow();
  });

  it('answers an older epoch STALE_EPOCH', () => {
    expect(() => validateLeaderEpoch('orders-3', 5, 4)).toThrow(
      expect.objectContaining({ code: 'STALE_EPOCH', message: `partition "orders-3": the request's leader epoch 4 is older than the current 5; refresh metadata` }),
    );
  });

  it('asks a newer epoch to retry: this broker has not learned of it yet', () => {
    expect(() => validateLeaderEpoch('orders-3', 5, 6)).toThrow(expect.objectContaining({ code: 'NOT_LEADER', retriable: true }));
    expect(() => validateLeaderEpoch('orders-3', 5, Number.NaN)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });
});
