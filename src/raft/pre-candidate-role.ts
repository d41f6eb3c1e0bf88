import { recordVote, wonElection } from './campaign.js';
import { followLeaderMessage, refuseReadIndex } from './follower-role.js';
import type { Raft } from './raft.js';
import type { Message } from './raft-types.js';
import { becomeFollower } from './role-transitions.js';

/**
 * A pre-candidate asks whether it could win an election at term + 1 before disturbing anyone:
 * a node cut off from the cluster never raises its term, so it cannot depose a healthy leader
 * when it comes back (Ongaro's thesis §9.6).
 */
export function stepPreCandidate(raft: Raft, message: Message): void {
  switch (message.type) {
    case 'append':
    case 'heartbeat':
    case 'snapshot':
      // A leader of our term exists.
      becomeFollower(raft, message.term, message.from);
      followLeaderMessage(raft, message);
      return;
    case 'preVoteResponse':
      // A grant carries term + 1; one for our current term answers an earlier pre-election.
      if (!message.reject && message.term !== raft.term + 1) return;
      countPreVote(raft, message.from, !message.reject);
      return;
    case 'readIndex':
      refuseReadIndex(raft, message);
      return;
    default:
      return;
  }
}

function countPreVote(raft: Raft, from: number, granted: boolean): void {
  const result = recordVote(raft, from, granted);
  if (result === 'won') wonElection(raft, 'preElection');
  else if (result === 'lost') becomeFollower(raft, raft.term, 0);
}
