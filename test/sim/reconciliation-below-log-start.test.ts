// Found by the simulator (seed 1087 with --swarm metadataBrokerCount=3,replicationPartitionCount=2,
// before its followers adopted their leader's log start): log reconciliation cannot reach below
// the leader's log start, so the host must drop what the follower holds there.
import { describe, expect, it } from 'vitest';
import { divergingEpoch, truncationOffset } from '../../src/broker/index.js';
import { ReplicaLog } from './replica-log.js';

function logOf(records: Array<[epoch: number, recordId: string]>): ReplicaLog {
  const log = new ReplicaLog();
  records.forEach(([epoch, recordId], sequence) => log.append({ epoch, recordId, producer: { producerId: 1, producerEpoch: 0, baseSequence: sequence }, timestampMs: 0 }));
  log.markDurable(log.endOffset());
  return log;
}

/** One reconciliation fetch of `follower` against `leader`: the offset the follower truncates to, or undefined when they agree. */
function reconcileOnce(leader: ReplicaLog, follower: ReplicaLog): number | undefined {
  const fetch = { fetchOffset: follower.endOffset(), lastFetchedEpoch: follower.lastEpoch() };
  const diverging = divergingEpoch(fetch, leader.endOffsetForEpoch(fetch.lastFetchedEpoch), leader.logStartOffset());
  return diverging === undefined ? undefined : truncationOffset(diverging, follower.endOffsetForEpoch(diverging.epoch), follower.endOffset());
}

describe('reconciliation against a leader that deleted the divergence point', () => {
  // Both logs share offset 0 (epoch 1). The follower, a deposed leader, wrote b at 1 and 2 in
  // epoch 1; the new leader wrote c, d, e at 1..3 in epoch 2, then retention moved its log start to 2.
  const leader = logOf([[1, 'a'], [2, 'c'], [2, 'd'], [2, 'e']]);
  leader.advanceLogStartOffset(2);

  it('answers an epoch older than every one the leader kept with its log start, leaving the follower diverged below it', () => {
    const follower = logOf([[1, 'a'], [1, 'b1'], [1, 'b2']]);
    expect(leader.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 2 });
    const truncateTo = reconcileOnce(leader, follower);
    expect(truncateTo).toBe(2);
    follower.truncateTo(truncateTo ?? 0);
    expect(reconcileOnce(leader, follower)).toBeUndefined();
    // Offset 1 held c on the leader (now deleted there) and still holds b1 on the follower.
    expect(follower.recordIds()).toEqual(['a', 'b1']);
  });

  it('is consistent once the follower also moves its log start to the leader\'s, as Kafka\'s follower does', () => {
    const follower = logOf([[1, 'a'], [1, 'b1'], [1, 'b2']]);
    follower.truncateTo(reconcileOnce(leader, follower) ?? follower.endOffset());
    follower.advanceLogStartOffset(leader.logStartOffset());
    expect(follower.logStartOffset()).toBe(2);
    expect(follower.recordIds()).toEqual([]);
  });
});
