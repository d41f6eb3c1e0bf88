import assert from 'node:assert/strict';
import { broadcastAppend } from './leader-replication.js';
import type { Raft } from './raft.js';
import type { NodeId } from './raft-types.js';
import { becomeCandidate, becomeLeader, becomePreCandidate } from './role-transitions.js';
import type { VoteResult } from './majority-quorum.js';

/** preElection asks PreVote first; transfer is an election started by TimeoutNow. */
export type CampaignKind = 'preElection' | 'election' | 'transfer';

/** The tick of every non-leader role: campaign once the randomized election timeout passes. */
export function tickElection(raft: Raft): void {
  raft.electionElapsedTicks++;
  if (raft.isPromotable() && raft.pastElectionTimeout()) {
    raft.electionElapsedTicks = 0;
    startElection(raft, raft.config.preVote ? 'preElection' : 'election');
  }
}

/** etcd's hup: campaign unless already leader, not a voter, or a membership change is unapplied. */
export function startElection(raft: Raft, kind: CampaignKind): void {
  if (raft.role === 'leader' || !raft.isPromotable() || raft.hasUnappliedConfChanges()) return;
  campaign(raft, kind);
}

export function campaign(raft: Raft, kind: CampaignKind): void {
  if (kind === 'preElection') becomePreCandidate(raft);
  else becomeCandidate(raft);
  if (recordVote(raft, raft.id, true) === 'won') {
    // A single voter wins at once.
    wonElection(raft, kind);
    return;
  }
  const type = kind === 'preElection' ? 'preVote' : 'vote';
  const term = kind === 'preElection' ? raft.term + 1 : raft.term;
  const lastLogIndex = raft.log.lastIndex();
  const lastLogTerm = raft.log.lastTerm();
  for (const voter of raft.tracker.voters) {
    if (voter === raft.id) continue;
    raft.send({ type, to: voter, term, lastLogIndex, lastLogTerm, transfer: kind === 'transfer' });
  }
}

/** Counts a (pre)vote answer and returns the election's result so far. */
export function recordVote(raft: Raft, from: NodeId, granted: boolean): VoteResult {
  raft.tracker.recordVote(from, granted);
  return raft.tracker.voteResult();
}

export function wonElection(raft: Raft, kind: CampaignKind): void {
  if (kind === 'preElection') {
    assert.equal(raft.role, 'preCandidate');
    campaign(raft, 'election');
    return;
  }
  assert.equal(raft.role, 'candidate');
  becomeLeader(raft);
  broadcastAppend(raft);
}
