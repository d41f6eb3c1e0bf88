import { TributaryError } from '../errors/index.js';
import { sendAppend } from './leader-replication.js';
import type { Raft } from './raft.js';
import type { NodeId } from './raft-types.js';
import type { ReplicationProgress } from './replication-progress.js';

/**
 * Hands leadership to `target` (thesis §3.10): proposals stop, the target is brought up to date,
 * then told to campaign at once with TimeoutNow. The leader's tick abandons the transfer after an
 * election timeout, so a dead target cannot block proposals for long.
 */
export function transferLeadership(raft: Raft, target: NodeId): void {
  if (target === raft.id || raft.leadTransferee === target) return;
  if (!raft.tracker.isVoter(target)) {
    throw new TributaryError('INVALID_REQUEST', `cannot transfer leadership to node ${target}: it is not a voter of this cluster`);
  }
  raft.leadTransferee = target;
  raft.electionElapsedTicks = 0;
  const progress = raft.tracker.progress.get(target);
  if (progress !== undefined && progress.matchIndex === raft.log.lastIndex()) sendTimeoutNow(raft, target);
  else sendAppend(raft, target, true);
}

/** After an acknowledgement: the transferee has everything, so it may take over. */
export function maybeSendTimeoutNow(raft: Raft, from: NodeId, progress: ReplicationProgress): void {
  if (from === raft.leadTransferee && progress.matchIndex === raft.log.lastIndex()) sendTimeoutNow(raft, from);
}

export function abortLeaderTransfer(raft: Raft): void {
  raft.leadTransferee = 0;
}

function sendTimeoutNow(raft: Raft, to: NodeId): void {
  raft.send({ type: 'timeoutNow', to });
}
