import assert from 'node:assert/strict';
import { tickElection } from './campaign.js';
import { stepCandidate } from './candidate-role.js';
import { stepFollower } from './follower-role.js';
import { appendLeaderEntries } from './leader-replication.js';
import { stepLeader, tickHeartbeat } from './leader-role.js';
import { stepPreCandidate } from './pre-candidate-role.js';
import type { Raft } from './raft.js';
import type { NodeId, RaftRole } from './raft-types.js';

/**
 * Every role change the core may make (kafka's QuorumState table). Rows are the current role,
 * entries the roles it may become; any other change is a bug and throws.
 *
 *   from \ to     | follower | preCandidate | candidate | leader
 *   follower      |   yes    |     yes      |    yes    |   -
 *   preCandidate  |   yes    |     yes      |    yes    |   -
 *   candidate     |   yes    |     yes      |    yes    |  yes
 *   leader        |   yes    |      -       |     -     |   -
 *
 * A follower becomes candidate directly without PreVote or on TimeoutNow; a (pre)candidate whose
 * election times out campaigns again; only a candidate that won becomes leader; a leader only
 * steps down.
 */
export const allowedRoleTransitions: Readonly<Record<RaftRole, readonly RaftRole[]>> = {
  follower: ['follower', 'preCandidate', 'candidate'],
  preCandidate: ['follower', 'preCandidate', 'candidate'],
  candidate: ['follower', 'preCandidate', 'candidate', 'leader'],
  leader: ['follower'],
};

export function assertRoleTransition(from: RaftRole, to: RaftRole): void {
  const allowed = allowedRoleTransitions[from];
  assert.ok(allowed.includes(to), `illegal Raft role transition ${from} -> ${to} (allowed from ${from}: ${allowed.join(', ')})`);
}

export function becomeFollower(raft: Raft, term: number, leader: NodeId): void {
  assertRoleTransition(raft.role, 'follower');
  raft.reset(term);
  raft.leader = leader;
  raft.role = 'follower';
  raft.roleStep = stepFollower;
  raft.roleTick = tickElection;
}

/** PreVote: ask whether we could win at term + 1 without changing our term or vote. */
export function becomePreCandidate(raft: Raft): void {
  assertRoleTransition(raft.role, 'preCandidate');
  raft.transferCampaignPending = false;
  raft.tracker.votes.clear();
  raft.leader = 0;
  raft.electionElapsedTicks = 0;
  raft.resetRandomizedElectionTimeout();
  raft.role = 'preCandidate';
  raft.roleStep = stepPreCandidate;
  raft.roleTick = tickElection;
}

export function becomeCandidate(raft: Raft): void {
  assertRoleTransition(raft.role, 'candidate');
  raft.reset(raft.term + 1);
  raft.vote = raft.id;
  raft.role = 'candidate';
  raft.roleStep = stepCandidate;
  raft.roleTick = tickElection;
}

/**
 * A new leader appends an empty entry of its term: committing it commits everything before it
 * (Raft §5.4.2) and tells the leader the cluster's commit index, which ReadIndex needs.
 */
export function becomeLeader(raft: Raft): void {
  assertRoleTransition(raft.role, 'leader');
  assert.ok(raft.tracker.isVoter(raft.id), 'only a voter becomes leader');
  raft.reset(raft.term);
  raft.leader = raft.id;
  raft.role = 'leader';
  raft.roleStep = stepLeader;
  raft.roleTick = tickHeartbeat;
  raft.tracker.resetProgress(raft.log.lastIndex(), raft.id);
  // Any membership change in the log may be unapplied; wait for it before proposing another.
  raft.pendingConfIndex = raft.log.lastIndex();
  raft.selfRemovalIndex = raft.findUnappliedSelfRemoval();
  // Test-only bug 'commitPreviousTermByCount' also skips the empty entry, as in Figure 8 of the
  // Raft paper: with it, an older entry rarely reaches a majority without an entry of this term.
  if (raft.config.bug === 'commitPreviousTermByCount') return;
  appendLeaderEntries(raft, [{ type: 'normal', data: new Uint8Array(0) }]);
}
