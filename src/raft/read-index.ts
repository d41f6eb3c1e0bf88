import assert from 'node:assert/strict';
import { TributaryError } from '../errors/index.js';
import { broadcastHeartbeat } from './leader-replication.js';
import { majoritySize } from './majority-quorum.js';
import type { Raft } from './raft.js';
import type { ReadRequest } from './read-index-queue.js';

/**
 * ReadIndex on the leader (thesis §6.4): record the commit index, confirm with a heartbeat round
 * that we are still leader, then answer. A new leader first commits an entry of its term, since
 * before that it does not know the cluster's commit index; reads wait in pendingReadRequests.
 */
export function serveReadIndex(raft: Raft, request: ReadRequest): void {
  assert.equal(raft.role, 'leader');
  if (!hasReadCapacity(raft)) {
    refuseRead(raft, request);
    return;
  }
  if (!raft.committedInCurrentTerm()) {
    raft.pendingReadRequests.push(request);
    return;
  }
  const index = raft.log.committed;
  if (majoritySize(raft.tracker.voters.length) === 1) {
    // A single voter is the whole quorum: nobody else can have been elected.
    answerRead(raft, request, index);
    return;
  }
  const context = raft.readIndexQueue.add(index, request, raft.id);
  broadcastHeartbeat(raft, context);
}

/** Reads in flight on this leader are bounded by readRequestsMax. */
export function hasReadCapacity(raft: Raft): boolean {
  return raft.pendingReadRequests.length + raft.readIndexQueue.size < raft.config.readRequestsMax;
}

/** The first entry of this leader's term is committed: serve the reads that waited for it. */
export function releasePendingReads(raft: Raft): void {
  const pending = raft.pendingReadRequests;
  raft.pendingReadRequests = [];
  for (const request of pending) serveReadIndex(raft, request);
}

/** A heartbeat answer echoing a round's context: once a majority has answered, serve it and all earlier ones. */
export function handleReadAck(raft: Raft, from: number, context: Uint8Array): void {
  const round = raft.readIndexQueue.recordAck(context, from);
  if (round === undefined) return;
  const voterAcks = [...round.acks].filter((id) => raft.tracker.isVoter(id)).length;
  if (voterAcks < majoritySize(raft.tracker.voters.length)) return;
  for (const released of raft.readIndexQueue.releaseThrough(round.id)) answerRead(raft, released.request, released.index);
}

function answerRead(raft: Raft, request: ReadRequest, index: number): void {
  if (request.from === raft.id) raft.readStates.push({ index, context: request.context });
  else raft.send({ type: 'readIndexResponse', to: request.from, context: request.context, index, reject: false });
}

function refuseRead(raft: Raft, request: ReadRequest): void {
  if (request.from === raft.id) {
    throw new TributaryError('RESOURCE_EXHAUSTED', `node ${raft.id} already has ${raft.config.readRequestsMax} reads in flight; retry later`);
  }
  raft.send({ type: 'readIndexResponse', to: request.from, context: request.context, index: 0, reject: true });
}
