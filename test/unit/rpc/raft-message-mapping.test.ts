import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import type { Message } from '../../../src/raft/index.js';
import { LogEntryType, RaftMessage } from '../../../src/rpc/generated/tributary/controller/v1/controller_raft_service.js';
import { fromRaftMessageProto, toRaftMessageProto } from '../../../src/rpc/raft-message-mapping.js';

const nodeId = fc.integer({ min: 1, max: 0xffff_ffff });
const integer = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const bytes = fc.uint8Array({ maxLength: 48 });
const base = { from: nodeId, to: nodeId, term: integer };
const entry = fc.record({ index: integer, term: integer, type: fc.constantFrom('normal' as const, 'confChange' as const), data: bytes });
const membership = fc.record({ voters: fc.array(nodeId, { maxLength: 5 }), learners: fc.array(nodeId, { maxLength: 3 }) });

/** One arbitrary per core message type: every field drawn over its whole legal range. */
const messageArbitraries: Record<Message['type'], fc.Arbitrary<Message>> = {
  preVote: fc.record({ ...base, type: fc.constant('preVote' as const), lastLogIndex: integer, lastLogTerm: integer, transfer: fc.boolean() }),
  vote: fc.record({ ...base, type: fc.constant('vote' as const), lastLogIndex: integer, lastLogTerm: integer, transfer: fc.boolean() }),
  preVoteResponse: fc.record({ ...base, type: fc.constant('preVoteResponse' as const), reject: fc.boolean() }),
  voteResponse: fc.record({ ...base, type: fc.constant('voteResponse' as const), reject: fc.boolean() }),
  append: fc.record({ ...base, type: fc.constant('append' as const), prevLogIndex: integer, prevLogTerm: integer, entries: fc.array(entry, { maxLength: 4 }), commit: integer }),
  appendResponse: fc.record({ ...base, type: fc.constant('appendResponse' as const), reject: fc.boolean(), index: integer, conflictTerm: integer, conflictIndex: integer }),
  heartbeat: fc.record({ ...base, type: fc.constant('heartbeat' as const), commit: integer, context: bytes }),
  heartbeatResponse: fc.record({ ...base, type: fc.constant('heartbeatResponse' as const), context: bytes }),
  snapshot: fc.record({
    ...base,
    type: fc.constant('snapshot' as const),
    metadata: fc.record({ index: integer, term: integer, membership }),
    offset: integer,
    data: bytes,
    done: fc.boolean(),
  }),
  snapshotResponse: fc.record({ ...base, type: fc.constant('snapshotResponse' as const), reject: fc.boolean(), snapshotIndex: integer, nextOffset: integer, done: fc.boolean() }),
  timeoutNow: fc.record({ ...base, type: fc.constant('timeoutNow' as const) }),
  readIndex: fc.record({ ...base, type: fc.constant('readIndex' as const), context: bytes }),
  readIndexResponse: fc.record({ ...base, type: fc.constant('readIndexResponse' as const), context: bytes, index: integer, reject: fc.boolean() }),
};

const anyMessage = fc.oneof(...Object.values(messageArbitraries));

/** Through the mapping and the real protobuf codec, as a message crosses the network. */
function overTheWire(message: Message): Message {
  return fromRaftMessageProto(RaftMessage.decode(RaftMessage.encode(toRaftMessageProto(message)).finish()));
}

function decodedProto(message: Message): RaftMessage {
  return RaftMessage.decode(RaftMessage.encode(toRaftMessageProto(message)).finish());
}

function refusal(run: () => unknown): TributaryError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TributaryError);
    return error as TributaryError;
  }
  throw new Error('expected the mapping to refuse the input');
}

/** Paths to every number in a decoded envelope, with the field name the mapping reports for it. */
function numericFields(value: unknown, path: Array<string | number> = []): Array<{ path: Array<string | number>; name: string }> {
  if (typeof value === 'number') return [{ path, name: fieldName(path) }];
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return [];
  return Object.entries(value).flatMap(([key, child]) => numericFields(child, [...path, Array.isArray(value) ? Number(key) : key]));
}

function fieldName(path: ReadonlyArray<string | number>): string {
  const inBody = path[0] === 'body' ? path.slice(2) : path;
  return inBody.map((part, position) => (typeof part === 'number' ? `[${part}]` : position === 0 ? part : `.${part}`)).join('');
}

function withValue(proto: RaftMessage, path: ReadonlyArray<string | number>, value: unknown): RaftMessage {
  let target = proto as unknown as Record<string | number, unknown>;
  for (const part of path.slice(0, -1)) target = target[part] as Record<string | number, unknown>;
  target[path[path.length - 1] as string | number] = value;
  return proto;
}

describe('raft message mapping', () => {
  it.each(Object.keys(messageArbitraries) as Array<Message['type']>)('round-trips every %s message exactly through the wire codec', (type) => {
    fc.assert(fc.property(messageArbitraries[type], (message) => {
      expect(overTheWire(message)).toEqual(message);
    }));
  });

  it('names each message type by its own body case on the wire', () => {
    fc.assert(fc.property(anyMessage, (message) => {
      expect(toRaftMessageProto(message).body?.$case).toBe(message.type);
    }));
  });

  it('hands the core plain Uint8Arrays, never Buffers', () => {
    const message = overTheWire({ from: 1, to: 2, term: 3, type: 'heartbeat', commit: 4, context: new Uint8Array([7, 8]) });
    expect(message.type === 'heartbeat' && message.context.constructor).toBe(Uint8Array);
  });

  it('refuses any number made negative, fractional or unsafe, naming the field and the value', () => {
    const badValues = fc.constantFrom(-1, 1.5, 2 ** 53, Number.NaN);
    const withNumber = anyMessage.map(decodedProto).chain((proto) =>
      fc.tuple(fc.constant(proto), fc.constantFrom(...numericFields(proto)), badValues),
    );
    fc.assert(fc.property(withNumber, ([proto, field, bad]) => {
      const error = refusal(() => fromRaftMessageProto(withValue(proto, field.path, bad)));
      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.message).toContain(field.name);
      expect(error.message).toContain(`got ${String(bad)}`);
    }));
  });

  it('refuses node id 0 as sender, recipient or member', () => {
    const snapshot: Message = { from: 1, to: 2, term: 3, type: 'snapshot', metadata: { index: 5, term: 2, membership: { voters: [1, 2], learners: [] } }, offset: 0, data: new Uint8Array(1), done: true };
    expect(refusal(() => fromRaftMessageProto({ ...decodedProto(snapshot), from: 0 })).message).toBe('raft snapshot message: from must be a node id from 1 to 4294967295, got 0');
    expect(refusal(() => fromRaftMessageProto({ ...decodedProto(snapshot), to: 0 })).message).toContain('to must be a node id');
    const zeroVoter = withValue(decodedProto(snapshot), ['body', 'value', 'metadata', 'membership', 'voters', 1], 0);
    expect(refusal(() => fromRaftMessageProto(zeroVoter)).message).toBe('raft snapshot message: metadata.membership.voters[1] must be a node id from 1 to 4294967295, got 0');
  });

  it('refuses an envelope without a body or with an unknown one', () => {
    const error = refusal(() => fromRaftMessageProto({ from: 1, to: 2, term: 3, body: undefined }));
    expect(error).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(error.message).toMatch(/^raft message from 1: body must be one of preVote, .*readIndexResponse, got undefined$/);
    const unknown = { from: 1, to: 2, term: 3, body: { $case: 'gossip', value: {} } } as unknown as RaftMessage;
    expect(refusal(() => fromRaftMessageProto(unknown)).message).toContain('got gossip');
  });

  it('refuses an unspecified or unknown entry type and a missing snapshot metadata', () => {
    const append: Message = { from: 1, to: 2, term: 3, type: 'append', prevLogIndex: 0, prevLogTerm: 0, entries: [{ index: 1, term: 3, type: 'normal', data: new Uint8Array() }], commit: 0 };
    for (const type of [LogEntryType.UNSPECIFIED, 7]) {
      const proto = withValue(decodedProto(append), ['body', 'value', 'entries', 0, 'type'], type);
      expect(refusal(() => fromRaftMessageProto(proto)).message).toBe(`raft append message: entries[0].type must be LOG_ENTRY_TYPE_NORMAL or LOG_ENTRY_TYPE_CONF_CHANGE, got ${type}`);
    }
    const chunk = { from: 1, to: 2, term: 3, body: { $case: 'snapshot', value: { metadata: undefined, offset: 0, data: Buffer.alloc(0), done: false } } } as RaftMessage;
    expect(refusal(() => fromRaftMessageProto(chunk)).message).toBe('raft snapshot message: metadata must be set, got undefined');
  });

  it('refuses fields of the wrong kind: a flag that is not a boolean, bytes that are not bytes', () => {
    const vote = { from: 1, to: 2, term: 3, body: { $case: 'vote', value: { lastLogIndex: 1, lastLogTerm: 1, transfer: 'yes' } } } as unknown as RaftMessage;
    expect(refusal(() => fromRaftMessageProto(vote)).message).toBe('raft vote message: transfer must be a boolean, got yes');
    const read = { from: 1, to: 2, term: 3, body: { $case: 'readIndex', value: { context: 'abc' } } } as unknown as RaftMessage;
    expect(refusal(() => fromRaftMessageProto(read)).message).toBe('raft readIndex message: context must be bytes, got abc');
  });

  it('refuses to put an id or number on the wire that the wire would truncate or round', () => {
    const tooLargeId: Message = { from: 2 ** 32, to: 2, term: 1, type: 'timeoutNow' };
    expect(refusal(() => toRaftMessageProto(tooLargeId)).message).toBe('raft timeoutNow message: from must be a node id from 1 to 4294967295, got 4294967296');
    const unsafeCommit: Message = { from: 1, to: 2, term: 1, type: 'heartbeat', commit: 2 ** 53, context: new Uint8Array() };
    expect(refusal(() => toRaftMessageProto(unsafeCommit)).message).toBe('raft heartbeat message: commit must be a safe non-negative integer, got 9007199254740992');
  });
});
