import { recordVote, wonElection } from './campaign.js';
import { followLeaderMessage, refuseReadIndex } from './follower-role.js';
import type { Raft } from './raft.js';
import type { Message } from './raft-types.js';
import { becomeFollower } from './role-transitions.js';

/** A candidate has raised its term and voted for itself; it waits for a majority of votes. */
export function stepCandidate(raft: Raft, message: Message): void {
  switch (message.type) {
    case 'append':
    case 'heartbeat':
    case 'snapshot':
      // Someone else won this term (Raft §5.2).
      becomeFollower(raft, message.term, message.from);
      followLeaderMessage(raft, message);
      return;
    case 'voteResponse':
      countVote(raft, message.from, !message.reject);
      return;
    case 'readIndex':
      refuseReadIndex(raft, message);
      return;
    default:
      return;
  }
}

function countVote(raft: Raft, from: number, granted: boolean): void {
  const result = recordVote(raft, from, granted);
  if (result === 'won') wonElection(raft, 'election');
  else if (result === 'lost') becomeFollower(raft, raft.term, 0);
}
