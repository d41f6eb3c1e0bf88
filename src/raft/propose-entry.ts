import { TributaryError } from '../errors/index.js';
import { appendLeaderEntries, broadcastNewEntries } from './leader-replication.js';
import type { Raft } from './raft.js';
import type { EntryType, ProposalTicket } from './raft-types.js';

/** NOT_LEADER with the leader we know of (node 0 when none), so the client can redirect. */
export function notLeaderError(raft: Raft, what: string): TributaryError {
  const known = raft.leader === 0 ? 'no leader is known yet' : `the leader is node ${raft.leader}`;
  return new TributaryError('NOT_LEADER', `node ${raft.id} is not the Raft leader (${known}); send the ${what} there`, {
    leaderHint: { nodeId: raft.leader, address: '', epoch: raft.term },
  });
}

/** Throws unless this node is a leader accepting proposals (not handing leadership over). */
export function assertAcceptingProposals(raft: Raft, what: string): void {
  if (raft.role !== 'leader') throw notLeaderError(raft, what);
  if (raft.leadTransferee !== 0) {
    throw new TributaryError('NOT_AVAILABLE', `node ${raft.id} is handing leadership to node ${raft.leadTransferee}; retry the ${what} shortly`);
  }
  if (raft.selfRemovalIndex > raft.log.applied) {
    throw new TributaryError('NOT_AVAILABLE',
      `node ${raft.id} is being removed from the cluster (index ${raft.selfRemovalIndex}); retry the ${what} with the next leader`);
  }
}

/**
 * Appends a proposal to the leader's log and sends it to followers. The number of entries appended
 * but not committed is bounded, so a leader that cannot reach a quorum stops taking proposals
 * instead of buffering without limit.
 */
export function proposeEntry(raft: Raft, type: EntryType, data: Uint8Array): ProposalTicket {
  const what = type === 'confChange' ? 'membership change' : 'proposal';
  assertAcceptingProposals(raft, what);
  const uncommitted = raft.log.lastIndex() - raft.log.committed;
  const uncommittedMax = raft.config.uncommittedEntriesMax;
  if (uncommitted >= uncommittedMax) {
    throw new TributaryError('RESOURCE_EXHAUSTED',
      `node ${raft.id} has ${uncommitted} uncommitted entries (uncommittedEntriesMax ${uncommittedMax}); retry once some commit`);
  }
  const entry = appendLeaderEntries(raft, [{ type, data }]);
  broadcastNewEntries(raft);
  return { index: entry.index, term: entry.term };
}
