import assert from 'node:assert/strict';
import { startElection, tickElection } from './campaign.js';
import { encodeConfChange } from './entry-codec.js';
import { stepFollower } from './follower-role.js';
import { transferLeadership } from './leader-transfer.js';
import { applyConfChange, checkConfChange } from './membership-change.js';
import { assertAcceptingProposals, notLeaderError, proposeEntry } from './propose-entry.js';
import { Raft } from './raft.js';
import type {
  ConfChange, HardState, Membership, Message, NodeId, PeerProgress, ProposalTicket, RaftConfig, RaftNode, RaftStatus, Ready, SoftState,
} from './raft-types.js';
import { serveReadIndex } from './read-index.js';
import { stepRaft } from './step-raft.js';
import { assertValidMessage } from './validate-message.js';

/**
 * Creates the pure Raft core for one node, restarting from what `config.storage` holds: its hard
 * state, log, snapshot and membership, with the host's state machine applied up to
 * `config.appliedIndex`. The node starts as a follower of no leader.
 */
export function createRaftNode(config: RaftConfig): RaftNode {
  return new CoreRaftNode(new Raft(config, stepFollower, tickElection));
}

/** The RaftNode contract over the Raft state: requests in, Ready out (etcd's RawNode). */
class CoreRaftNode implements RaftNode {
  private readonly raft: Raft;
  /** What the host has persisted or seen, to report only changes in the next Ready. */
  private previousHardState: HardState;
  private previousSoftState: SoftState;

  constructor(raft: Raft) {
    this.raft = raft;
    this.previousHardState = this.hardState();
    this.previousSoftState = this.softState();
  }

  tick(): void {
    this.raft.roleTick(this.raft);
  }

  step(message: Message): void {
    assertValidMessage(message);
    stepRaft(this.raft, message);
  }

  propose(data: Uint8Array): ProposalTicket {
    assert.ok(data instanceof Uint8Array, 'a proposal is bytes');
    return proposeEntry(this.raft, 'normal', data);
  }

  proposeConfChange(change: ConfChange): ProposalTicket {
    assertAcceptingProposals(this.raft, 'membership change');
    checkConfChange(this.raft, change);
    const ticket = proposeEntry(this.raft, 'confChange', encodeConfChange(change));
    this.raft.pendingConfIndex = ticket.index;
    if (change.type === 'removeNode' && change.nodeId === this.raft.id) this.raft.selfRemovalIndex = ticket.index;
    return ticket;
  }

  readIndex(context: Uint8Array): void {
    const { raft } = this;
    if (raft.role === 'leader') {
      serveReadIndex(raft, { from: raft.id, context });
      return;
    }
    if (raft.leader === 0) throw notLeaderError(raft, 'read');
    raft.send({ type: 'readIndex', to: raft.leader, context });
  }

  transferLeadership(target: NodeId): void {
    if (this.raft.role !== 'leader') throw notLeaderError(this.raft, 'leadership transfer');
    transferLeadership(this.raft, target);
  }

  applyConfChange(change: ConfChange): Membership {
    return applyConfChange(this.raft, change);
  }

  hasReady(): boolean {
    const { raft } = this;
    return (
      !sameSoftState(this.softState(), this.previousSoftState) ||
      !sameHardState(this.hardState(), this.previousHardState) ||
      raft.log.unstable.entries.length > 0 ||
      raft.log.unstable.snapshot !== undefined ||
      raft.messages.length > 0 ||
      raft.readStates.length > 0 ||
      raft.log.hasNextCommittedEntries()
    );
  }

  ready(): Ready {
    const { raft } = this;
    const hardState = this.hardState();
    const softState = this.softState();
    const hardStateChanged = !sameHardState(hardState, this.previousHardState);
    const entries = raft.log.unstable.entries.slice();
    const snapshot = raft.log.unstable.snapshot;
    const termOrVoteChanged = hardState.term !== this.previousHardState.term || hardState.vote !== this.previousHardState.vote;
    return {
      softState: sameSoftState(softState, this.previousSoftState) ? undefined : softState,
      hardState: hardStateChanged ? hardState : undefined,
      entries,
      snapshot,
      committedEntries: raft.log.nextCommittedEntries(raft.config.committedEntriesBytesMaxPerReady),
      messages: raft.messages.slice(),
      readStates: raft.readStates.slice(),
      mustSync: entries.length > 0 || snapshot !== undefined || termOrVoteChanged,
    };
  }

  /**
   * The host persisted, sent and applied `ready`. Anything the core produced since ready() was
   * called (the host may step messages while it persists) stays for the next Ready.
   */
  advance(ready: Ready): void {
    const { raft } = this;
    if (ready.softState !== undefined) this.previousSoftState = ready.softState;
    if (ready.hardState !== undefined) this.previousHardState = ready.hardState;
    assert.ok(ready.messages.length <= raft.messages.length && (ready.messages.length === 0 || raft.messages[0] === ready.messages[0]),
      'advance(ready) must get the Ready returned by the last ready() call');
    raft.messages = raft.messages.slice(ready.messages.length);
    raft.readStates = raft.readStates.slice(ready.readStates.length);
    if (ready.snapshot !== undefined) {
      raft.log.unstable.stableSnapshotTo(ready.snapshot.metadata.index);
      raft.log.appliedTo(Math.max(raft.log.applied, ready.snapshot.metadata.index));
    }
    const lastEntry = ready.entries.at(-1);
    if (lastEntry !== undefined) raft.log.unstable.stableTo(lastEntry.index, lastEntry.term);
    const lastCommitted = ready.committedEntries.at(-1);
    if (lastCommitted !== undefined) raft.log.appliedTo(lastCommitted.index);
    if (raft.transferCampaignPending && !raft.hasUnappliedConfChanges()) {
      raft.transferCampaignPending = false;
      startElection(raft, 'transfer');
    }
  }

  status(): RaftStatus {
    const { raft } = this;
    const progress = new Map<NodeId, PeerProgress>();
    if (raft.role === 'leader') {
      for (const [id, peer] of raft.tracker.progress) if (id !== raft.id) progress.set(id, peer.view());
    }
    return {
      id: raft.id,
      term: raft.term,
      vote: raft.vote,
      role: raft.role,
      leader: raft.leader,
      commitIndex: raft.log.committed,
      appliedIndex: raft.log.applied,
      lastIndex: raft.log.lastIndex(),
      membership: raft.tracker.membership(),
      progress,
      leadTransferee: raft.leadTransferee,
    };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  private softState(): SoftState {
    return { leader: this.raft.leader, role: this.raft.role };
  }
}

function sameHardState(left: HardState, right: HardState): boolean {
  return left.term === right.term && left.vote === right.vote && left.commit === right.commit;
}

function sameSoftState(left: SoftState, right: SoftState): boolean {
  return left.leader === right.leader && left.role === right.role;
}
