// A three-replica partition led by broker 1, for the LeaderPartitionState tests.
import { LeaderPartitionState, type LeaderPartitionStateOptions } from '../../../src/broker/index.js';

export const lagMaxMs = 10_000;
export const startMs = 1_000;

export function leaderState(overrides: Partial<LeaderPartitionStateOptions> = {}): LeaderPartitionState {
  return new LeaderPartitionState({
    partition: 'orders-3',
    leaderId: 1,
    leaderEpoch: 5,
    partitionEpoch: 10,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    minInSyncReplicas: 2,
    epochStartOffset: 0,
    highWatermark: 0,
    leaderLogEndOffset: 0,
    leaderDurableEndOffset: 0,
    replicaLagTimeMaxMs: lagMaxMs,
    nowMs: startMs,
    ...overrides,
  });
}

/** The leader wrote and fsynced up to `offset`. */
export function leaderWrote(state: LeaderPartitionState, offset: number): void {
  state.leaderAppended(offset);
  state.leaderDurable(offset);
}

/** Follower `id` fetched from `offset`, durable up to it. */
export function fetched(state: LeaderPartitionState, id: number, offset: number, nowMs: number, durableEndOffset = offset) {
  return state.followerFetched(id, { fetchOffset: offset, durableEndOffset }, nowMs);
}
