import assert from 'node:assert/strict';
import type { Raft } from './raft.js';
import { isIndexOutOfRange } from './raft-storage-error.js';
import type { Entry, EntryType, NodeId } from './raft-types.js';
import { releasePendingReads } from './read-index.js';
import type { ReplicationProgress } from './replication-progress.js';

const emptyContext = new Uint8Array(0);

/** Appends entries of the leader's term to its own log; a single voter commits them at once. */
export function appendLeaderEntries(raft: Raft, drafts: ReadonlyArray<{ type: EntryType; data: Uint8Array }>): Entry {
  assert.equal(raft.role, 'leader');
  const firstIndex = raft.log.lastIndex() + 1;
  const entries = drafts.map((draft, position): Entry => ({ index: firstIndex + position, term: raft.term, type: draft.type, data: draft.data }));
  raft.log.append(entries);
  const self = raft.tracker.progress.get(raft.id);
  assert.ok(self !== undefined, 'a leader tracks its own progress');
  self.maybeUpdate(raft.log.lastIndex());
  maybeCommit(raft);
  const last = entries.at(-1);
  assert.ok(last !== undefined);
  return last;
}

/**
 * Commits the highest index a majority of voters has, but only if that entry is of the current
 * term (Raft §5.4.2): an older entry replicated on a majority can still be overwritten (Figure 8).
 * Returns whether the commit index moved.
 */
export function maybeCommit(raft: Raft): boolean {
  const index = raft.tracker.committedIndex();
  if (index <= raft.log.committed) return false;
  // Test-only bug 'commitPreviousTermByCount': commit by replica count whatever the entry's term.
  if (raft.config.bug !== 'commitPreviousTermByCount' && raft.log.term(index) !== raft.term) return false;
  const firstCommitInTerm = !raft.committedInCurrentTerm();
  raft.log.commitTo(index);
  if (firstCommitInTerm && raft.committedInCurrentTerm()) releasePendingReads(raft);
  return true;
}

/**
 * Sends `to` the entries from its next index, or a snapshot when they are compacted. Returns false
 * when flow control holds it back or there is nothing to send and `sendIfEmpty` is false.
 */
export function sendAppend(raft: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const progress = raft.tracker.progress.get(to);
  assert.ok(progress !== undefined, `no progress for member ${to}`);
  if (progress.isPaused()) return false;
  const prevLogIndex = progress.nextIndex - 1;
  const prevLogTerm = raft.log.termOrUndefined(prevLogIndex);
  const entries = prevLogTerm === undefined ? undefined : entriesFrom(raft, progress.nextIndex);
  if (prevLogTerm === undefined || entries === undefined || progress.needsBaseSnapshot) return startSnapshot(raft, to, progress);
  if (entries.length === 0 && !sendIfEmpty) return false;
  raft.send({ type: 'append', to, prevLogIndex, prevLogTerm, entries, commit: raft.log.committed });
  progress.sentAppend(prevLogIndex + entries.length, entries.length);
  return true;
}

/** Pipelining: in replicate state keep sending until caught up or the inflight window is full. */
export function sendAppendsWhileAllowed(raft: Raft, to: NodeId): void {
  for (let sent = 0; sendAppend(raft, to, false); sent++) {
    assert.ok(sent <= raft.config.inflightMessagesMax, 'flow control must stop the send loop');
  }
}

/**
 * Sends new entries to followers that have nothing in flight. The others get them, batched,
 * when their next acknowledgement arrives (or the next heartbeat answer, if it is lost): under
 * load, proposals ride together instead of one message per proposal per follower.
 */
export function broadcastNewEntries(raft: Raft): void {
  for (const id of raft.tracker.members()) {
    if (id === raft.id) continue;
    const progress = raft.tracker.progress.get(id);
    if (progress === undefined || (progress.state === 'replicate' && progress.inflights.count > 0)) continue;
    sendAppendsWhileAllowed(raft, id);
  }
}

export function broadcastAppend(raft: Raft): void {
  for (const id of raft.tracker.members()) {
    if (id === raft.id) continue;
    if (sendAppend(raft, id, true)) sendAppendsWhileAllowed(raft, id);
  }
}

/** Heartbeats carry a commit index each follower is known to have, and a ReadIndex round if any. */
export function broadcastHeartbeat(raft: Raft, context: Uint8Array = emptyContext): void {
  for (const id of raft.tracker.members()) {
    if (id === raft.id) continue;
    const progress = raft.tracker.progress.get(id);
    assert.ok(progress !== undefined);
    const commit = Math.min(progress.matchIndex, raft.log.committed);
    raft.send({ type: 'heartbeat', to: id, commit, context });
  }
}

function entriesFrom(raft: Raft, low: number): Entry[] | undefined {
  const high = Math.min(raft.log.lastIndex() + 1, low + raft.config.entriesPerMessageMax);
  try {
    return raft.log.slice(low, high, raft.config.messageBytesMax);
  } catch (error) {
    if (isIndexOutOfRange(error)) return undefined;
    throw error;
  }
}

/** The follower needs compacted entries: stream the newest snapshot, unless it seems down. */
function startSnapshot(raft: Raft, to: NodeId, progress: ReplicationProgress): boolean {
  if (!progress.recentActive) return false;
  progress.becomeSnapshot(raft.log.snapshot());
  sendSnapshotChunks(raft, to, progress);
  return true;
}

/** Sends chunks of at most snapshotChunkBytesMax, at most inflightMessagesMax of them unacknowledged. */
export function sendSnapshotChunks(raft: Raft, to: NodeId, progress: ReplicationProgress): void {
  const transfer = progress.snapshotTransfer;
  assert.ok(progress.state === 'snapshot' && transfer !== undefined);
  const { snapshot } = transfer;
  const size = snapshot.data.byteLength;
  const chunkBytesMax = raft.config.snapshotChunkBytesMax;
  const windowBytes = chunkBytesMax * raft.config.inflightMessagesMax;
  while (!transfer.doneSent && transfer.sentOffset - transfer.ackedOffset < windowBytes) {
    const offset = transfer.sentOffset;
    const end = Math.min(size, offset + chunkBytesMax);
    const done = end === size;
    raft.send({ type: 'snapshot', to, metadata: snapshot.metadata, offset, data: snapshot.data.subarray(offset, end), done });
    transfer.sentOffset = end;
    transfer.doneSent = done;
  }
}
