import type { Raft } from './raft.js';
import type { Message } from './raft-types.js';
import { becomeFollower } from './role-transitions.js';

type VoteRequest = Extract<Message, { type: 'preVote' | 'vote' }>;

/**
 * Every message from a peer enters here (etcd's Step): term rules first, then vote requests, which
 * every role answers alike, then the current role's step function.
 */
export function stepRaft(raft: Raft, message: Message): void {
  if (message.to !== raft.id) return;
  if (!hearsFrom(raft, message)) return;
  if (message.term > raft.term && !acceptHigherTerm(raft, message)) return;
  if (message.term < raft.term) {
    answerLowerTerm(raft, message);
    return;
  }
  if (message.type === 'preVote' || message.type === 'vote') {
    answerVoteRequest(raft, message);
    return;
  }
  raft.roleStep(raft, message);
}

/**
 * Most messages from non-members are ignored. What a leader sends is heard: membership changes
 * take effect when applied, so a node that lags may not know yet that its new leader is a member,
 * and must follow it to learn that; following whoever leads a term at least ours is what Raft
 * requires anyway. For the same reason a vote request from a non-member is heard when the
 * candidate's log is at least as up to date as ours: it may hold the membership change we have
 * not seen, and without our vote a cluster whose other voters we do not know could never elect a
 * leader (simulator seeds 21393, 28133). A removed node's log ends before the entry that removed
 * it, so its requests stay ignored and cannot even raise our term. A node with no membership yet
 * (new, waiting for its first snapshot) hears anyone.
 */
function hearsFrom(raft: Raft, message: Message): boolean {
  if (!raft.tracker.hasMembers() || raft.tracker.isMember(message.from)) return true;
  if (message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot') return true;
  if (message.type === 'preVote' || message.type === 'vote') return raft.log.isUpToDate(message.lastLogIndex, message.lastLogTerm);
  // The leader we follow may have just removed itself: it still answers our reads and hands over.
  return (message.type === 'readIndexResponse' || message.type === 'timeoutNow') && message.from === raft.leader;
}

/** A message from a higher term; returns false when it must be ignored altogether. */
function acceptHigherTerm(raft: Raft, message: Message): boolean {
  if (message.type === 'preVote' || message.type === 'vote') {
    // Leader stickiness (CheckQuorum): while we hear from a live leader, a node that was cut off
    // cannot depose it by campaigning, unless the leader itself asked for it (TimeoutNow).
    const inLease = raft.config.checkQuorum && raft.leader !== 0 && raft.electionElapsedTicks < raft.config.electionTimeoutTicks;
    if (inLease && !message.transfer) return false;
  }
  if (message.type === 'preVote') return true; // PreVote never changes our term.
  // A granted pre-vote carries the term the candidate will campaign in; adopt it only by winning.
  if (message.type === 'preVoteResponse' && !message.reject) return true;
  const fromLeader = message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot';
  becomeFollower(raft, message.term, fromLeader ? message.from : 0);
  return true;
}

/**
 * A message from a stale term is dropped, but some are answered with our term so the sender
 * learns it: a deposed leader then steps down, and a pre-candidate behind us stops.
 */
function answerLowerTerm(raft: Raft, message: Message): void {
  const { from } = message;
  if ((raft.config.checkQuorum || raft.config.preVote) && (message.type === 'append' || message.type === 'heartbeat')) {
    raft.send({ type: 'appendResponse', to: from, reject: false, index: 0, conflictTerm: 0, conflictIndex: 0 });
  } else if (message.type === 'preVote') {
    raft.send({ type: 'preVoteResponse', to: from, reject: true });
  } else if (message.type === 'readIndex') {
    raft.send({ type: 'readIndexResponse', to: from, context: message.context, index: 0, reject: true });
  }
}

/** Raft §5.2 and §5.4.1: one vote per term, only for a log at least as up to date as ours. */
function answerVoteRequest(raft: Raft, message: VoteRequest): void {
  const responseType = message.type === 'preVote' ? 'preVoteResponse' : 'voteResponse';
  const canVote =
    raft.vote === message.from ||
    (raft.vote === 0 && raft.leader === 0) ||
    (message.type === 'preVote' && message.term > raft.term) ||
    // Test-only bug 'doubleVote': grant a second vote in the same term to another candidate.
    (raft.config.bug === 'doubleVote' && message.type === 'vote' && raft.vote !== 0);
  if (canVote && raft.log.isUpToDate(message.lastLogIndex, message.lastLogTerm)) {
    // The response carries the request's term, so a pre-candidate counts it for term + 1.
    raft.send({ type: responseType, to: message.from, term: message.term, reject: false });
    if (message.type === 'vote') {
      raft.electionElapsedTicks = 0;
      raft.vote = message.from;
    }
    return;
  }
  raft.send({ type: responseType, to: message.from, reject: true });
}
