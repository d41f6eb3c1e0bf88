import { TributaryError } from '../errors/index.js';
import { broadcastAppend, maybeCommit, sendAppend } from './leader-replication.js';
import { abortLeaderTransfer } from './leader-transfer.js';
import type { Raft } from './raft.js';
import type { ConfChange, Membership } from './raft-types.js';
import { becomeFollower } from './role-transitions.js';

/**
 * Refuses a membership change that is not safe now. Changes are one server at a time, take effect
 * when applied, and a new one waits until the previous one is applied and this leader has
 * committed an entry of its term (otherwise an uncommitted change of an earlier leader could still
 * be replaced, and two overlapping changes could each form a majority).
 */
export function checkConfChange(raft: Raft, change: ConfChange): void {
  const retry = { retriable: true };
  if (raft.pendingConfIndex > raft.log.applied) {
    throw new TributaryError('INVALID_REQUEST',
      `a membership change at index ${raft.pendingConfIndex} is not applied yet (applied ${raft.log.applied}); retry after it`, retry);
  }
  if (!raft.committedInCurrentTerm()) {
    throw new TributaryError('INVALID_REQUEST', `leader ${raft.id} has not committed an entry of term ${raft.term} yet; retry shortly`, retry);
  }
  checkChangeAgainstMembership(raft, change);
}

function checkChangeAgainstMembership(raft: Raft, change: ConfChange): void {
  const { tracker } = raft;
  const { nodeId } = change;
  if (change.type === 'addLearner' && tracker.isMember(nodeId)) {
    throw new TributaryError('INVALID_REQUEST', `node ${nodeId} is already a member; remove it before adding it again`);
  }
  if (change.type === 'promoteLearner') {
    if (!tracker.isLearner(nodeId)) {
      throw new TributaryError('INVALID_REQUEST', `node ${nodeId} is not a learner; add it as a learner first, then promote it`);
    }
    const matchIndex = tracker.progress.get(nodeId)?.matchIndex ?? 0;
    const lagEntries = raft.log.lastIndex() - matchIndex;
    // Promoting a far-behind learner would leave the new majority unable to commit until it caught up.
    if (lagEntries > raft.config.entriesPerMessageMax) {
      throw new TributaryError('INVALID_REQUEST',
        `learner ${nodeId} is ${lagEntries} entries behind (at most ${raft.config.entriesPerMessageMax} allowed); promote it once it has caught up`,
        { retriable: true });
    }
  }
  if (change.type === 'removeNode') {
    if (!tracker.isMember(nodeId)) throw new TributaryError('INVALID_REQUEST', `node ${nodeId} is not a member of this cluster`);
    if (tracker.isVoter(nodeId) && tracker.voters.length === 1) {
      throw new TributaryError('INVALID_REQUEST', `node ${nodeId} is the only voter; add and promote another node before removing it`);
    }
  }
}

/**
 * The host applied a committed membership change: it takes effect now. A leader that removed
 * itself steps down (see stepDownAfterSelfRemoval).
 */
export function applyConfChange(raft: Raft, change: ConfChange): Membership {
  raft.tracker.applyChange(change, raft.log.lastIndex());
  if (raft.role !== 'leader') return raft.tracker.membership();
  if (!raft.tracker.isVoter(raft.id)) {
    stepDownAfterSelfRemoval(raft);
    return raft.tracker.membership();
  }
  if (raft.leadTransferee !== 0 && !raft.tracker.isVoter(raft.leadTransferee)) abortLeaderTransfer(raft);
  // A removal shrinks the quorum, which may commit entries now; an added learner needs its log.
  if (maybeCommit(raft)) broadcastAppend(raft);
  else if (change.type === 'addLearner' && raft.tracker.isMember(change.nodeId)) sendAppend(raft, change.nodeId, true);
  return raft.tracker.membership();
}

/**
 * Everything this leader holds is committed (it took no proposal after its removal), so some
 * remaining voter can win. Tell the followers the commit index, ask a caught-up voter to campaign
 * at once, and step down.
 */
function stepDownAfterSelfRemoval(raft: Raft): void {
  broadcastAppend(raft);
  const lastIndex = raft.log.lastIndex();
  const successor = raft.tracker.voters.find((id) => raft.tracker.progress.get(id)?.matchIndex === lastIndex);
  if (successor !== undefined) raft.send({ type: 'timeoutNow', to: successor });
  becomeFollower(raft, raft.term, 0);
}
