import assert from 'node:assert/strict';
import type { NodeId } from './raft-types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

export function majoritySize(voterCount: number): number {
  assert.ok(voterCount > 0, 'a quorum needs at least one voter');
  return Math.floor(voterCount / 2) + 1;
}

/** The highest index that a majority of voters has: the quorum-th largest match index. */
export function majorityCommittedIndex(matchIndices: readonly number[]): number {
  const sorted = [...matchIndices].sort((left, right) => right - left);
  const index = sorted[majoritySize(matchIndices.length) - 1];
  assert.ok(index !== undefined);
  return index;
}

/** Whether the votes recorded so far (granted or rejected by voter) decide the election. */
export function majorityVoteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const voter of voters) {
    const vote = votes.get(voter);
    if (vote === true) granted++;
    if (vote === false) rejected++;
  }
  const quorum = majoritySize(voters.length);
  if (granted >= quorum) return 'won';
  if (rejected > voters.length - quorum) return 'lost';
  return 'pending';
}
