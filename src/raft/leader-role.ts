import { broadcastAppend, broadcastHeartbeat, maybeCommit, sendAppend, sendAppendsWhileAllowed, sendSnapshotChunks } from './leader-replication.js';
import { abortLeaderTransfer, maybeSendTimeoutNow } from './leader-transfer.js';
import type { Raft } from './raft.js';
import type { Message } from './raft-types.js';
import { handleReadAck, serveReadIndex } from './read-index.js';
import type { ReplicationProgress } from './replication-progress.js';
import { becomeFollower } from './role-transitions.js';

type MessageOf<T extends Message['type']> = Extract<Message, { type: T }>;

/** The leader handles its followers' answers and the reads they forward. */
export function stepLeader(raft: Raft, message: Message): void {
  const progress = raft.tracker.progress.get(message.from);
  if (progress === undefined) return;
  switch (message.type) {
    case 'appendResponse':
      progress.recentActive = true;
      handleAppendResponse(raft, message, progress);
      return;
    case 'heartbeatResponse':
      progress.recentActive = true;
      handleHeartbeatResponse(raft, message, progress);
      return;
    case 'snapshotResponse':
      progress.recentActive = true;
      handleSnapshotResponse(raft, message, progress);
      return;
    case 'readIndex':
      serveReadIndex(raft, { from: message.from, context: message.context });
      return;
    default:
      // Late vote answers, and leader messages of our own term, which only a broken vote can
      // produce: the simulator's election-safety checker reports those.
      return;
  }
}

/**
 * The leader's tick: heartbeats every heartbeat timeout; every election timeout, CheckQuorum
 * (step down unless a majority was heard from, so a cut-off leader stops serving reads and
 * writes) and the end of any leadership transfer that has not happened by then.
 */
export function tickHeartbeat(raft: Raft): void {
  raft.heartbeatElapsedTicks++;
  raft.electionElapsedTicks++;
  if (raft.electionElapsedTicks >= raft.config.electionTimeoutTicks) {
    raft.electionElapsedTicks = 0;
    if (raft.config.checkQuorum && !checkQuorum(raft)) {
      becomeFollower(raft, raft.term, 0);
      return;
    }
    if (raft.leadTransferee !== 0) abortLeaderTransfer(raft);
  }
  if (raft.heartbeatElapsedTicks >= raft.config.heartbeatTimeoutTicks) {
    raft.heartbeatElapsedTicks = 0;
    broadcastHeartbeat(raft);
  }
}

/** Whether a majority was active since the last check; starts the next check period. */
function checkQuorum(raft: Raft): boolean {
  const active = raft.tracker.quorumActive(raft.id);
  for (const [id, progress] of raft.tracker.progress) {
    if (id !== raft.id) progress.recentActive = false;
  }
  return active;
}

function handleAppendResponse(raft: Raft, message: MessageOf<'appendResponse'>, progress: ReplicationProgress): void {
  // An acknowledgement beyond our log cannot be for anything we sent.
  if (message.index > raft.log.lastIndex()) return;
  if (message.reject) {
    handleAppendRejection(raft, message, progress);
    return;
  }
  const wasPaused = progress.isPaused();
  const matchMoved = progress.maybeUpdate(message.index);
  // A probe answered at the match we already knew (after a snapshot, or a probe that found the
  // follower up to date) still proves where the follower is: start replicating, as etcd does,
  // rather than leaving it paused in probe until the next heartbeat.
  const probeConfirmed = !matchMoved && progress.state === 'probe' && progress.matchIndex === message.index;
  if (!matchMoved && !probeConfirmed) return;
  if (progress.state === 'probe') {
    progress.becomeReplicate();
  } else if (progress.state === 'snapshot') {
    // A late acknowledgement shows the follower no longer needs the snapshot.
    if (progress.matchIndex + 1 >= raft.log.firstIndex()) progress.becomeReplicate();
  } else {
    progress.inflights.freeLessOrEqual(message.index);
  }
  if (maybeCommit(raft)) broadcastAppend(raft);
  else if (wasPaused) sendAppend(raft, message.from, true);
  sendAppendsWhileAllowed(raft, message.from);
  maybeSendTimeoutNow(raft, message.from, progress);
}

/** Fast backtracking: jump next index by the follower's conflict hint rather than one at a time. */
function handleAppendRejection(raft: Raft, message: MessageOf<'appendResponse'>, progress: ReplicationProgress): void {
  let hintNext = message.conflictIndex;
  if (message.conflictTerm !== 0) {
    const from = Math.min(message.index, raft.log.lastIndex());
    const lastOfTerm = raft.log.lastIndexOfTerm(message.conflictTerm, from, progress.matchIndex);
    if (lastOfTerm !== undefined) hintNext = lastOfTerm + 1;
  }
  if (!progress.maybeDecreaseTo(message.index, hintNext)) return;
  if (progress.state === 'replicate') progress.becomeProbe();
  if (message.conflictTerm === 0 && message.conflictIndex === 1) progress.needsBaseSnapshot = true;
  sendAppend(raft, message.from, true);
}

function handleHeartbeatResponse(raft: Raft, message: MessageOf<'heartbeatResponse'>, progress: ReplicationProgress): void {
  progress.probeSent = false;
  // The follower answers, so an append it never acknowledged was probably lost: free a slot.
  if (progress.state === 'replicate' && progress.inflights.full()) progress.inflights.freeFirstOne();
  if (progress.state === 'snapshot') resendStalledSnapshot(raft, message.from, progress);
  else if (progress.matchIndex < raft.log.lastIndex() && sendAppend(raft, message.from, true)) sendAppendsWhileAllowed(raft, message.from);
  if (message.context.byteLength > 0) handleReadAck(raft, message.from, message.context);
}

/** No chunk was acknowledged for a heartbeat interval: resend from the last acknowledged offset. */
function resendStalledSnapshot(raft: Raft, to: number, progress: ReplicationProgress): void {
  const transfer = progress.snapshotTransfer;
  if (transfer === undefined) return;
  if (transfer.ackedOffset === transfer.ackedOffsetAtHeartbeat) {
    transfer.sentOffset = transfer.ackedOffset;
    transfer.doneSent = false;
    sendSnapshotChunks(raft, to, progress);
  }
  transfer.ackedOffsetAtHeartbeat = transfer.ackedOffset;
}

function handleSnapshotResponse(raft: Raft, message: MessageOf<'snapshotResponse'>, progress: ReplicationProgress): void {
  const transfer = progress.snapshotTransfer;
  if (progress.state !== 'snapshot' || transfer === undefined) return;
  if (transfer.snapshot.metadata.index !== message.snapshotIndex) return;
  if (message.done) {
    if (message.reject) {
      // The follower would not install it: probe again, but only at the next heartbeat answer,
      // so a follower that keeps refusing cannot make us stream snapshots back to back.
      progress.becomeProbe();
      progress.nextIndex = progress.matchIndex + 1;
      progress.probeSent = true;
      return;
    }
    progress.maybeUpdate(message.snapshotIndex);
    progress.becomeProbe();
    sendAppend(raft, message.from, true);
    return;
  }
  const nextOffset = Math.min(message.nextOffset, transfer.snapshot.data.byteLength);
  if (message.reject) {
    // The follower has a gap or lost what it assembled: continue from what it has.
    transfer.ackedOffset = nextOffset;
    transfer.sentOffset = nextOffset;
    transfer.doneSent = false;
  } else {
    transfer.ackedOffset = Math.max(transfer.ackedOffset, Math.min(nextOffset, transfer.sentOffset));
  }
  sendSnapshotChunks(raft, message.from, progress);
}
