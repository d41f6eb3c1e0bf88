import { startElection } from './campaign.js';
import type { Raft } from './raft.js';
import type { Message, Snapshot } from './raft-types.js';

type MessageOf<T extends Message['type']> = Extract<Message, { type: T }>;

/** A follower replicates its leader's log, votes, and hands reads on to the leader. */
export function stepFollower(raft: Raft, message: Message): void {
  switch (message.type) {
    case 'append':
    case 'heartbeat':
    case 'snapshot':
      followLeaderMessage(raft, message);
      return;
    case 'timeoutNow':
      // The leader hands over leadership: campaign at once, without PreVote; or, if a committed
      // membership change is not applied yet, as soon as the host has applied it.
      if (raft.hasUnappliedConfChanges()) raft.transferCampaignPending = true;
      else startElection(raft, 'transfer');
      return;
    case 'readIndex':
      refuseReadIndex(raft, message);
      return;
    case 'readIndexResponse':
      if (!message.reject) raft.readStates.push({ index: message.index, context: message.context });
      return;
    default:
      // Vote answers from an election we gave up, or replies meant for a leader we no longer are.
      return;
  }
}

/** Handles a message from the leader of our term; (pre)candidates step down before calling this. */
export function followLeaderMessage(raft: Raft, message: MessageOf<'append' | 'heartbeat' | 'snapshot'>): void {
  raft.electionElapsedTicks = 0;
  raft.leader = message.from;
  if (message.type === 'append') handleAppend(raft, message);
  else if (message.type === 'heartbeat') handleHeartbeat(raft, message);
  else handleSnapshotChunk(raft, message);
}

/** A node that is not leader cannot serve a read someone forwarded to it. */
export function refuseReadIndex(raft: Raft, message: MessageOf<'readIndex'>): void {
  raft.send({ type: 'readIndexResponse', to: message.from, context: message.context, index: 0, reject: true });
}

function handleAppend(raft: Raft, message: MessageOf<'append'>): void {
  const { log } = raft;
  const to = message.from;
  if (message.prevLogIndex < log.committed) {
    // Everything up to our commit index matches any leader; say how far we are.
    raft.send({ type: 'appendResponse', to, reject: false, index: log.committed, conflictTerm: 0, conflictIndex: 0 });
    return;
  }
  const lastNewIndex = log.maybeAppend(message.prevLogIndex, message.prevLogTerm, message.commit, message.entries);
  if (lastNewIndex === undefined) {
    const hint = log.conflictHint(message.prevLogIndex);
    raft.send({ type: 'appendResponse', to, reject: true, index: message.prevLogIndex, ...hint });
    return;
  }
  // Test-only bug 'applyBeyondCommit': hand the host everything we hold as committed.
  if (raft.config.bug === 'applyBeyondCommit') log.commitTo(log.lastIndex());
  raft.send({ type: 'appendResponse', to, reject: false, index: lastNewIndex, conflictTerm: 0, conflictIndex: 0 });
}

function handleHeartbeat(raft: Raft, message: MessageOf<'heartbeat'>): void {
  // The leader never sends a commit index beyond what it knows we match.
  raft.log.commitTo(message.commit);
  raft.send({ type: 'heartbeatResponse', to: message.from, context: message.context });
}

function handleSnapshotChunk(raft: Raft, message: MessageOf<'snapshot'>): void {
  const outcome = raft.snapshotAssembly.receive(message);
  const base = { type: 'snapshotResponse', to: message.from, snapshotIndex: message.metadata.index } as const;
  if (outcome.kind === 'ack') {
    raft.send({ ...base, reject: outcome.reject, nextOffset: outcome.nextOffset, done: false });
    return;
  }
  installSnapshot(raft, outcome.snapshot);
  raft.send({ ...base, reject: false, nextOffset: outcome.snapshot.data.byteLength, done: true });
}

/**
 * Resets the log to a snapshot the leader sent; it then appears in Ready.snapshot. When we already
 * have its last entry the snapshot is not needed: we just commit up to it. The snapshot's
 * membership may lack this node (it was removed and added again after the snapshot was taken):
 * the entries after the snapshot add it back.
 */
function installSnapshot(raft: Raft, snapshot: Snapshot): void {
  const { index, term, membership } = snapshot.metadata;
  // A new node, with no log and no membership, takes even the bootstrap snapshot (index 0): its
  // membership is the base the log's membership changes apply to.
  const newNode = index === raft.log.committed && raft.log.lastIndex() === index && !raft.tracker.hasMembers();
  if (index <= raft.log.committed && !newNode) return;
  if (!newNode && raft.log.matchTerm(index, term)) {
    raft.log.commitTo(index);
    return;
  }
  raft.log.restore(snapshot);
  raft.tracker.replaceMembership(membership);
}
