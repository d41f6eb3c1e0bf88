import { TributaryError } from '../errors/index.js';
import type { Entry, EntryType, Membership, Message, NodeId, SnapshotMetadata } from '../raft/index.js';
import {
  type LogEntry,
  LogEntryType,
  type RaftMembership,
  type RaftMessage,
  type RaftSnapshotMetadata,
} from './generated/tributary/controller/v1/controller_raft_service.js';

/** The body of a wire RaftMessage: one case per core message type, named as the core names it. */
export type RaftMessageBody = NonNullable<RaftMessage['body']>;

/** Node ids travel as uint32 (docs/PROTOCOL.md §4); a larger id would be truncated on the wire. */
const nodeIdMax = 0xffff_ffff;

const entryTypeToWire: Readonly<Record<EntryType, LogEntryType>> = {
  normal: LogEntryType.NORMAL,
  confChange: LogEntryType.CONF_CHANGE,
};

const entryTypeFromWire: ReadonlyMap<unknown, EntryType> = new Map([
  [LogEntryType.NORMAL, 'normal'],
  [LogEntryType.CONF_CHANGE, 'confChange'],
]);

const bodyCases: ReadonlySet<unknown> = new Set<Message['type']>([
  'preVote', 'preVoteResponse', 'vote', 'voteResponse', 'append', 'appendResponse', 'heartbeat', 'heartbeatResponse',
  'snapshot', 'snapshotResponse', 'timeoutNow', 'readIndex', 'readIndexResponse',
]);

/**
 * The wire envelope of a core message. The encoder does not check ranges, so every number is
 * asserted here, before it can be truncated or rounded on the wire; a failure is a bug in the
 * sender and is reported as INVALID_REQUEST naming the field.
 */
export function toRaftMessageProto(message: Message): RaftMessage {
  const check = new FieldCheck(message.type);
  return {
    from: check.nodeId(message.from, 'from'),
    to: check.nodeId(message.to, 'to'),
    term: check.integer(message.term, 'term'),
    body: toBody(message, check),
  };
}

function toBody(message: Message, check: FieldCheck): RaftMessageBody {
  switch (message.type) {
    case 'preVote':
    case 'vote': {
      const value = {
        lastLogIndex: check.integer(message.lastLogIndex, 'lastLogIndex'),
        lastLogTerm: check.integer(message.lastLogTerm, 'lastLogTerm'),
        transfer: message.transfer,
      };
      return message.type === 'vote' ? { $case: 'vote', value } : { $case: 'preVote', value };
    }
    case 'preVoteResponse':
      return { $case: 'preVoteResponse', value: { reject: message.reject } };
    case 'voteResponse':
      return { $case: 'voteResponse', value: { reject: message.reject } };
    case 'append':
      return { $case: 'append', value: toAppend(message, check) };
    case 'appendResponse':
      return { $case: 'appendResponse', value: toAppendResponse(message, check) };
    case 'heartbeat':
      return { $case: 'heartbeat', value: { commit: check.integer(message.commit, 'commit'), context: wireBytes(message.context) } };
    case 'heartbeatResponse':
      return { $case: 'heartbeatResponse', value: { context: wireBytes(message.context) } };
    default:
      return toRareBody(message, check);
  }
}

/** Snapshot, TimeoutNow and ReadIndex traffic: split from toBody only to keep each function short. */
function toRareBody(message: Message, check: FieldCheck): RaftMessageBody {
  switch (message.type) {
    case 'snapshot':
      return {
        $case: 'snapshot',
        value: {
          metadata: toSnapshotMetadata(message.metadata, check),
          offset: check.integer(message.offset, 'offset'),
          data: wireBytes(message.data),
          done: message.done,
        },
      };
    case 'snapshotResponse':
      return {
        $case: 'snapshotResponse',
        value: {
          reject: message.reject,
          snapshotIndex: check.integer(message.snapshotIndex, 'snapshotIndex'),
          nextOffset: check.integer(message.nextOffset, 'nextOffset'),
          done: message.done,
        },
      };
    case 'timeoutNow':
      return { $case: 'timeoutNow', value: {} };
    case 'readIndex':
      return { $case: 'readIndex', value: { context: wireBytes(message.context) } };
    case 'readIndexResponse':
      return {
        $case: 'readIndexResponse',
        value: { context: wireBytes(message.context), index: check.integer(message.index, 'index'), reject: message.reject },
      };
    default:
      throw check.invalid(`unknown raft message type ${String(message.type)}`);
  }
}

function toAppend(message: Extract<Message, { type: 'append' }>, check: FieldCheck) {
  return {
    prevLogIndex: check.integer(message.prevLogIndex, 'prevLogIndex'),
    prevLogTerm: check.integer(message.prevLogTerm, 'prevLogTerm'),
    entries: message.entries.map((entry, position): LogEntry => ({
      index: check.integer(entry.index, `entries[${position}].index`),
      term: check.integer(entry.term, `entries[${position}].term`),
      type: wireEntryType(entry.type, position, check),
      data: wireBytes(entry.data),
    })),
    commit: check.integer(message.commit, 'commit'),
  };
}

function toAppendResponse(message: Extract<Message, { type: 'appendResponse' }>, check: FieldCheck) {
  return {
    reject: message.reject,
    index: check.integer(message.index, 'index'),
    conflictTerm: check.integer(message.conflictTerm, 'conflictTerm'),
    conflictIndex: check.integer(message.conflictIndex, 'conflictIndex'),
  };
}

function toSnapshotMetadata(metadata: SnapshotMetadata, check: FieldCheck): RaftSnapshotMetadata {
  const membership: RaftMembership = {
    voters: metadata.membership.voters.map((id, position) => check.nodeId(id, `metadata.membership.voters[${position}]`)),
    learners: metadata.membership.learners.map((id, position) => check.nodeId(id, `metadata.membership.learners[${position}]`)),
  };
  return { index: check.integer(metadata.index, 'metadata.index'), term: check.integer(metadata.term, 'metadata.term'), membership };
}

function wireEntryType(type: EntryType, position: number, check: FieldCheck): LogEntryType {
  const wire = entryTypeToWire[type] as LogEntryType | undefined;
  if (wire === undefined) throw check.invalid(`raft ${check.type} message: entries[${position}].type must be normal or confChange, got ${String(type)}`);
  return wire;
}

/** A Buffer over the same memory: ts-proto types bytes as Buffer, the core uses Uint8Array. */
function wireBytes(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The core message a wire envelope carries. Input comes off the network, so every field is
 * checked (node ids at least 1, safe non-negative integers, a known body and entry type, bytes
 * where bytes belong) and a bad one is refused with INVALID_REQUEST naming the field and value.
 * Whether the message makes sense for the receiver's state is the core's to judge.
 */
export function fromRaftMessageProto(proto: RaftMessage): Message {
  const envelope = proto as unknown as Record<string, unknown> | null;
  if (typeof envelope !== 'object' || envelope === null) throw invalid(`a raft message must be an object, got ${String(envelope)}`);
  const body = envelope.body as { $case?: unknown; value?: unknown } | undefined | null;
  if (typeof body !== 'object' || body === null || !bodyCases.has(body.$case)) {
    const cases = [...bodyCases].join(', ');
    throw invalid(`raft message from ${String(envelope.from)}: body must be one of ${cases}, got ${String(body?.$case)}`);
  }
  const type = body.$case as Message['type'];
  const check = new FieldCheck(type);
  const value = check.object(body.value, type);
  const base = { from: check.nodeId(envelope.from, 'from'), to: check.nodeId(envelope.to, 'to'), term: check.integer(envelope.term, 'term') };
  return fromBody(type, value, base, check);
}

interface MessageBase {
  from: NodeId;
  to: NodeId;
  term: number;
}

function fromBody(type: Message['type'], value: Record<string, unknown>, base: MessageBase, check: FieldCheck): Message {
  switch (type) {
    case 'preVote':
    case 'vote':
      return {
        ...base,
        type,
        lastLogIndex: check.integer(value.lastLogIndex, 'lastLogIndex'),
        lastLogTerm: check.integer(value.lastLogTerm, 'lastLogTerm'),
        transfer: check.flag(value.transfer, 'transfer'),
      };
    case 'preVoteResponse':
    case 'voteResponse':
      return { ...base, type, reject: check.flag(value.reject, 'reject') };
    case 'append':
      return {
        ...base,
        type,
        prevLogIndex: check.integer(value.prevLogIndex, 'prevLogIndex'),
        prevLogTerm: check.integer(value.prevLogTerm, 'prevLogTerm'),
        entries: fromEntries(value.entries, check),
        commit: check.integer(value.commit, 'commit'),
      };
    case 'appendResponse':
      return {
        ...base,
        type,
        reject: check.flag(value.reject, 'reject'),
        index: check.integer(value.index, 'index'),
        conflictTerm: check.integer(value.conflictTerm, 'conflictTerm'),
        conflictIndex: check.integer(value.conflictIndex, 'conflictIndex'),
      };
    case 'heartbeat':
      return { ...base, type, commit: check.integer(value.commit, 'commit'), context: check.bytes(value.context, 'context') };
    case 'heartbeatResponse':
    case 'readIndex':
      return { ...base, type, context: check.bytes(value.context, 'context') };
    default:
      return fromRareBody(type, value, base, check);
  }
}

function fromRareBody(type: Message['type'], value: Record<string, unknown>, base: MessageBase, check: FieldCheck): Message {
  switch (type) {
    case 'snapshot':
      return {
        ...base,
        type,
        metadata: fromSnapshotMetadata(value.metadata, check),
        offset: check.integer(value.offset, 'offset'),
        data: check.bytes(value.data, 'data'),
        done: check.flag(value.done, 'done'),
      };
    case 'snapshotResponse':
      return {
        ...base,
        type,
        reject: check.flag(value.reject, 'reject'),
        snapshotIndex: check.integer(value.snapshotIndex, 'snapshotIndex'),
        nextOffset: check.integer(value.nextOffset, 'nextOffset'),
        done: check.flag(value.done, 'done'),
      };
    case 'timeoutNow':
      return { ...base, type };
    case 'readIndexResponse':
      return {
        ...base,
        type,
        context: check.bytes(value.context, 'context'),
        index: check.integer(value.index, 'index'),
        reject: check.flag(value.reject, 'reject'),
      };
    default:
      throw check.invalid(`unknown raft message type ${type}`);
  }
}

function fromEntries(value: unknown, check: FieldCheck): Entry[] {
  if (!Array.isArray(value)) throw check.invalid(`raft ${check.type} message: entries must be a list, got ${String(value)}`);
  return value.map((item: unknown, position): Entry => {
    const entry = check.object(item, `entries[${position}]`);
    const type = entryTypeFromWire.get(entry.type);
    if (type === undefined) {
      throw check.invalid(`raft ${check.type} message: entries[${position}].type must be LOG_ENTRY_TYPE_NORMAL or LOG_ENTRY_TYPE_CONF_CHANGE, got ${String(entry.type)}`);
    }
    return {
      index: check.integer(entry.index, `entries[${position}].index`),
      term: check.integer(entry.term, `entries[${position}].term`),
      type,
      data: check.bytes(entry.data, `entries[${position}].data`),
    };
  });
}

function fromSnapshotMetadata(value: unknown, check: FieldCheck): SnapshotMetadata {
  const metadata = check.object(value, 'metadata');
  const membership = check.object(metadata.membership, 'metadata.membership');
  return {
    index: check.integer(metadata.index, 'metadata.index'),
    term: check.integer(metadata.term, 'metadata.term'),
    membership: {
      voters: fromNodeIds(membership.voters, 'metadata.membership.voters', check),
      learners: fromNodeIds(membership.learners, 'metadata.membership.learners', check),
    } satisfies Membership,
  };
}

function fromNodeIds(value: unknown, field: string, check: FieldCheck): NodeId[] {
  if (!Array.isArray(value)) throw check.invalid(`raft ${check.type} message: ${field} must be a list, got ${String(value)}`);
  return value.map((id: unknown, position) => check.nodeId(id, `${field}[${position}]`));
}

/**
 * Checks the fields of one message, naming the message type, the field and the bad value in
 * every refusal. Sentences are built only when a check fails: every message passes through here.
 */
class FieldCheck {
  constructor(readonly type: Message['type']) {}

  integer(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw this.invalid(`raft ${this.type} message: ${field} must be a safe non-negative integer, got ${String(value)}`);
    }
    return value;
  }

  nodeId(value: unknown, field: string): NodeId {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > nodeIdMax) {
      throw this.invalid(`raft ${this.type} message: ${field} must be a node id from 1 to ${nodeIdMax}, got ${String(value)}`);
    }
    return value;
  }

  flag(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') throw this.invalid(`raft ${this.type} message: ${field} must be a boolean, got ${String(value)}`);
    return value;
  }

  /** A plain Uint8Array view of the decoded bytes, so the core never holds a Buffer. */
  bytes(value: unknown, field: string): Uint8Array {
    if (!(value instanceof Uint8Array)) throw this.invalid(`raft ${this.type} message: ${field} must be bytes, got ${String(value)}`);
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null) throw this.invalid(`raft ${this.type} message: ${field} must be set, got ${String(value)}`);
    return value as Record<string, unknown>;
  }

  invalid(message: string): TributaryError {
    return invalid(message);
  }
}

function invalid(message: string): TributaryError {
  return new TributaryError('INVALID_REQUEST', message);
}
