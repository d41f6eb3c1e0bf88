import { TributaryError } from '../errors/index.js';
import type { Entry, Message } from './raft-types.js';

const messageTypes = new Set<Message['type']>([
  'preVote', 'preVoteResponse', 'vote', 'voteResponse', 'append', 'appendResponse', 'heartbeat', 'heartbeatResponse',
  'snapshot', 'snapshotResponse', 'timeoutNow', 'readIndex', 'readIndexResponse',
]);

/** Fields each message type must have, by kind; from, to and term are checked for all. */
const fieldsByType: Readonly<Record<Message['type'], { indices: readonly string[]; booleans: readonly string[]; bytes: readonly string[] }>> = {
  preVote: { indices: ['lastLogIndex', 'lastLogTerm'], booleans: ['transfer'], bytes: [] },
  vote: { indices: ['lastLogIndex', 'lastLogTerm'], booleans: ['transfer'], bytes: [] },
  preVoteResponse: { indices: [], booleans: ['reject'], bytes: [] },
  voteResponse: { indices: [], booleans: ['reject'], bytes: [] },
  append: { indices: ['prevLogIndex', 'prevLogTerm', 'commit'], booleans: [], bytes: [] },
  appendResponse: { indices: ['index', 'conflictTerm', 'conflictIndex'], booleans: ['reject'], bytes: [] },
  heartbeat: { indices: ['commit'], booleans: [], bytes: ['context'] },
  heartbeatResponse: { indices: [], booleans: [], bytes: ['context'] },
  snapshot: { indices: ['offset'], booleans: ['done'], bytes: ['data'] },
  snapshotResponse: { indices: ['snapshotIndex', 'nextOffset'], booleans: ['reject', 'done'], bytes: [] },
  timeoutNow: { indices: [], booleans: [], bytes: [] },
  readIndex: { indices: [], booleans: [], bytes: ['context'] },
  readIndexResponse: { indices: ['index'], booleans: ['reject'], bytes: ['context'] },
};

/**
 * Messages come off the network: a malformed one is refused with INVALID_REQUEST naming the bad
 * field, before it can touch the core's state. Assertions inside the core are for our own bugs.
 * Every message passes through here, so sentences are built only when a check fails.
 */
export function assertValidMessage(message: Message): void {
  const record = message as unknown as Record<string, unknown>;
  if (typeof message !== 'object' || message === null || !messageTypes.has(message.type)) {
    throw invalid(`unknown raft message type ${String(record.type)}`);
  }
  const { type } = message;
  for (const field of ['from', 'to'] as const) {
    checkIndex(record[field], type, field);
    if (record[field] === 0) throw invalid(`raft ${type} message: ${field} must name a node (not 0)`);
  }
  checkIndex(record.term, type, 'term');
  const fields = fieldsByType[type];
  for (const field of fields.indices) checkIndex(record[field], type, field);
  for (const field of fields.booleans) {
    if (typeof record[field] !== 'boolean') throw invalid(`raft ${type} message: ${field} must be a boolean, got ${String(record[field])}`);
  }
  for (const field of fields.bytes) {
    if (!(record[field] instanceof Uint8Array)) throw invalid(`raft ${type} message: ${field} must be bytes`);
  }
  if (message.type === 'append') checkEntries(message.entries, message.prevLogIndex, message.prevLogTerm, message.term);
  if (message.type === 'snapshot') checkSnapshotMetadata(record.metadata);
}

function checkEntries(entries: readonly Entry[], prevLogIndex: number, prevLogTerm: number, term: number): void {
  if (!Array.isArray(entries)) throw invalid('raft append message: entries must be an array');
  let previousTerm = prevLogTerm;
  for (let position = 0; position < entries.length; position++) {
    const entry = entries[position] as Entry | null | undefined;
    if (typeof entry !== 'object' || entry === null) throw invalidEntry(position, 'must be an entry');
    checkIndex(entry.term, 'append', `entries[${position}].term`);
    if (entry.index !== prevLogIndex + 1 + position) {
      throw invalidEntry(position, `.index must be ${prevLogIndex + 1 + position}, got ${String(entry.index)}`);
    }
    if (entry.term < previousTerm || entry.term > term) {
      throw invalidEntry(position, `.term ${entry.term} must be within [${previousTerm}, ${term}] (terms never decrease along a log)`);
    }
    if (entry.type !== 'normal' && entry.type !== 'confChange') throw invalidEntry(position, '.type must be normal or confChange');
    if (!(entry.data instanceof Uint8Array)) throw invalidEntry(position, '.data must be bytes');
    previousTerm = entry.term;
  }
}

function invalidEntry(position: number, problem: string): TributaryError {
  const separator = problem.startsWith('.') ? '' : ' ';
  return invalid(`raft append message: entries[${position}]${separator}${problem}`);
}

function checkSnapshotMetadata(value: unknown): void {
  if (typeof value !== 'object' || value === null) throw invalid('raft snapshot message: metadata is missing');
  const metadata = value as Record<string, unknown>;
  checkIndex(metadata.index, 'snapshot', 'metadata.index');
  checkIndex(metadata.term, 'snapshot', 'metadata.term');
  const membership = metadata.membership as Record<string, unknown> | null | undefined;
  if (typeof membership !== 'object' || membership === null || !Array.isArray(membership.voters) || !Array.isArray(membership.learners)) {
    throw invalid('raft snapshot message: metadata.membership must have voters and learners');
  }
  const members: unknown[] = [...(membership.voters as unknown[]), ...(membership.learners as unknown[])];
  for (const id of members) checkIndex(id, 'snapshot', 'metadata.membership member id');
}

function checkIndex(value: unknown, type: string, field: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`raft ${type} message: ${field} must be a safe non-negative integer, got ${String(value)}`);
  }
}

function invalid(message: string): TributaryError {
  return new TributaryError('INVALID_REQUEST', message);
}
