import assert from 'node:assert/strict';
import { majorityCommittedIndex, majoritySize, majorityVoteResult, type VoteResult } from './majority-quorum.js';
import type { ConfChange, Membership, NodeId } from './raft-types.js';
import { ReplicationProgress } from './replication-progress.js';

/**
 * The membership and what the core tracks per member (etcd's ProgressTracker): replication
 * progress (meaningful on the leader), votes (on candidates), quorum arithmetic over voters only.
 * Learners have progress but never count for a quorum.
 */
export class ProgressTracker {
  private voterIds: NodeId[];
  private learnerIds: NodeId[];
  readonly progress = new Map<NodeId, ReplicationProgress>();
  readonly votes = new Map<NodeId, boolean>();
  private readonly inflightMessagesMax: number;

  constructor(membership: Membership, inflightMessagesMax: number) {
    assertValidMembership(membership);
    this.voterIds = [...membership.voters].sort(byId);
    this.learnerIds = [...membership.learners].sort(byId);
    this.inflightMessagesMax = inflightMessagesMax;
    for (const id of this.members()) this.progress.set(id, new ReplicationProgress(1, inflightMessagesMax));
  }

  get voters(): readonly NodeId[] {
    return this.voterIds;
  }

  get learners(): readonly NodeId[] {
    return this.learnerIds;
  }

  membership(): Membership {
    return { voters: [...this.voterIds], learners: [...this.learnerIds] };
  }

  members(): NodeId[] {
    return [...this.voterIds, ...this.learnerIds];
  }

  hasMembers(): boolean {
    return this.voterIds.length + this.learnerIds.length > 0;
  }

  isVoter(id: NodeId): boolean {
    return this.voterIds.includes(id);
  }

  isLearner(id: NodeId): boolean {
    return this.learnerIds.includes(id);
  }

  isMember(id: NodeId): boolean {
    return this.isVoter(id) || this.isLearner(id);
  }

  /** Takes the membership of an installed snapshot, which replaces everything we knew. */
  replaceMembership(membership: Membership): void {
    assertValidMembership(membership);
    this.voterIds = [...membership.voters].sort(byId);
    this.learnerIds = [...membership.learners].sort(byId);
    this.progress.clear();
    this.votes.clear();
    for (const id of this.members()) this.progress.set(id, new ReplicationProgress(1, this.inflightMessagesMax));
  }

  /** Fresh progress for every member, as a new leader knows nothing about followers' logs. */
  resetProgress(lastIndex: number, selfId: NodeId): void {
    for (const id of this.members()) {
      const progress = new ReplicationProgress(lastIndex + 1, this.inflightMessagesMax);
      if (id === selfId) {
        progress.matchIndex = lastIndex;
        progress.recentActive = true;
        progress.becomeReplicate();
      }
      this.progress.set(id, progress);
    }
  }

  /** The highest index replicated on a majority of voters. */
  committedIndex(): number {
    return majorityCommittedIndex(this.voterIds.map((id) => this.progress.get(id)?.matchIndex ?? 0));
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  voteResult(): VoteResult {
    return majorityVoteResult(this.voterIds, this.votes);
  }

  /** CheckQuorum: a majority of voters has been heard from recently (the leader counts itself). */
  quorumActive(selfId: NodeId): boolean {
    const active = this.voterIds.filter((id) => id === selfId || this.progress.get(id)?.recentActive === true).length;
    return active >= majoritySize(this.voterIds.length);
  }

  /**
   * Applies one committed membership change. Applying a change that is already in effect is a
   * no-op: a restarted node replays changes from its snapshot, and a joining node may have been
   * given the membership the change produced.
   */
  applyChange(change: ConfChange, lastIndex: number): void {
    const { nodeId } = change;
    if (change.type === 'addLearner') {
      if (this.isMember(nodeId)) return;
      this.learnerIds = [...this.learnerIds, nodeId].sort(byId);
      this.progress.set(nodeId, new ReplicationProgress(lastIndex + 1, this.inflightMessagesMax));
    } else if (change.type === 'promoteLearner') {
      if (!this.isLearner(nodeId)) return;
      this.learnerIds = this.learnerIds.filter((id) => id !== nodeId);
      this.voterIds = [...this.voterIds, nodeId].sort(byId);
    } else {
      this.voterIds = this.voterIds.filter((id) => id !== nodeId);
      this.learnerIds = this.learnerIds.filter((id) => id !== nodeId);
      this.progress.delete(nodeId);
      this.votes.delete(nodeId);
    }
    assertValidMembership(this.membership());
  }
}

function byId(left: NodeId, right: NodeId): number {
  return left - right;
}

function assertValidMembership(membership: Membership): void {
  const all = [...membership.voters, ...membership.learners];
  for (const id of all) assert.ok(Number.isSafeInteger(id) && id > 0, `member id ${id} must be a positive safe integer`);
  assert.equal(new Set(all).size, all.length, `a node is both voter and learner, or listed twice: ${JSON.stringify(membership)}`);
}
