import { Packr } from 'msgpackr';
import { z } from 'zod';
import { encodeQueueFrame, queueEntryKinds, type QueueEntryKind } from './queue-frame.js';
import type { CollectorSessionDeclaration } from './collector-session-declaration.js';
import type { Sha256Snapshot } from './sha256-state.js';

/** One source in a checkpoint: its progress, and the running digest until it is final. */
export interface CheckpointSource {
  readonly name: string;
  readonly appendedBytes: number;
  readonly acknowledgedBytes: number;
  readonly finalSha256?: Uint8Array;
  readonly digest?: Sha256Snapshot;
}

export interface CheckpointSession {
  /** Tells incarnations of one session id apart (a session dropped and declared again). */
  readonly serial: number;
  readonly declaration: CollectorSessionDeclaration;
  readonly sources: readonly CheckpointSource[];
}

/** Everything the entries before a segment said, written first in every segment. */
export interface QueueCheckpoint {
  readonly nextSerial: number;
  readonly sessions: readonly CheckpointSession[];
}

/** What a segment holds, one entry per frame. */
export type QueueEntry =
  | { readonly kind: 'checkpoint'; readonly checkpoint: QueueCheckpoint }
  | { readonly kind: 'session'; readonly declaration: CollectorSessionDeclaration }
  | { readonly kind: 'data'; readonly sessionId: string; readonly source: string; readonly offsetBytes: number; readonly bytes: Uint8Array }
  | { readonly kind: 'final'; readonly sessionId: string; readonly source: string; readonly lengthBytes: number; readonly sha256: Uint8Array }
  | { readonly kind: 'ack'; readonly sessionId: string; readonly source: string; readonly offsetBytes: number }
  | { readonly kind: 'drop'; readonly sessionId: string };

const packr = new Packr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });
const byteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const bytes = z.instanceof(Uint8Array).transform((value) => new Uint8Array(value));

const declarationSchema = z.object({
  sessionId: z.string(),
  sources: z.array(
    z.object({
      name: z.string(),
      contentType: z.string(),
      payloadKind: z.enum(['binary', 'json', 'sensor']),
      declaredLengthBytes: byteCount.optional(),
      sensor: z.object({ kind: z.number(), channelCount: z.number(), units: z.array(z.string()), channelNames: z.array(z.string()), nominalRateHz: z.number() }).optional(),
    }),
  ),
  metadata: z.record(z.string(), z.string()),
  createdAtMs: byteCount,
});
const digestSchema = z.object({ words: z.array(z.number().int().nonnegative()).length(8), lengthBytes: byteCount, tail: bytes });
const checkpointSchema = z.object({
  nextSerial: byteCount,
  sessions: z.array(
    z.object({
      serial: byteCount,
      declaration: declarationSchema,
      sources: z.array(
        z.object({ name: z.string(), appendedBytes: byteCount, acknowledgedBytes: byteCount, finalSha256: bytes.optional(), digest: digestSchema.optional() }),
      ),
    }),
  ),
});
const finalSchema = z.object({ sessionId: z.string(), source: z.string(), lengthBytes: byteCount, sha256: bytes });
const ackSchema = z.object({ sessionId: z.string(), source: z.string(), offsetBytes: byteCount });
const dropSchema = z.object({ sessionId: z.string() });

/** The frame buffers of an entry; a data entry's bytes are written from the caller's buffer, uncopied. */
export function encodeQueueEntry(entry: QueueEntry): Uint8Array[] {
  const code = queueEntryKinds[entry.kind];
  switch (entry.kind) {
    case 'data':
      return encodeQueueFrame(code, [encodeDataHeader(entry.sessionId, entry.source, entry.offsetBytes), entry.bytes]);
    case 'checkpoint':
      return encodeQueueFrame(code, [packr.pack(entry.checkpoint)]);
    case 'session':
      return encodeQueueFrame(code, [packr.pack(entry.declaration)]);
    default: {
      const { kind: _kind, ...body } = entry;
      return encodeQueueFrame(code, [packr.pack(body)]);
    }
  }
}

/** Decodes a frame's body; a body that does not fit its kind throws an Error saying why. */
export function decodeQueueEntry(kindCode: number, body: Uint8Array): QueueEntry {
  const kind = kindOf(kindCode);
  if (kind === 'data') return decodeData(body);
  const value = unpack(body);
  switch (kind) {
    case 'checkpoint':
      return { kind, checkpoint: parse(checkpointSchema, value, kind) };
    case 'session':
      return { kind, declaration: parse(declarationSchema, value, kind) };
    case 'final':
      return { kind, ...parse(finalSchema, value, kind) };
    case 'ack':
      return { kind, ...parse(ackSchema, value, kind) };
    case 'drop':
      return { kind, ...parse(dropSchema, value, kind) };
  }
}

/** Sum of a frame's buffers. */
export function frameByteLength(buffers: readonly Uint8Array[]): number {
  return buffers.reduce((sum, buffer) => sum + buffer.length, 0);
}

function kindOf(code: number): QueueEntryKind {
  const kind = (Object.keys(queueEntryKinds) as QueueEntryKind[]).find((name) => queueEntryKinds[name] === code);
  if (kind === undefined) throw new Error(`unknown entry kind ${code}`);
  return kind;
}

function unpack(body: Uint8Array): unknown {
  try {
    return packr.unpack(body);
  } catch (error) {
    throw new Error(`the entry is not msgpack (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, kind: QueueEntryKind): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`the ${kind} entry has the wrong shape (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

/** [session id length u8][session id][source length u8][source][offset u64 BE], then the bytes. */
function encodeDataHeader(sessionId: string, source: string, offsetBytes: number): Uint8Array {
  const session = Buffer.from(sessionId);
  const sourceName = Buffer.from(source);
  const header = Buffer.alloc(2 + session.length + sourceName.length + 8);
  header[0] = session.length;
  session.copy(header, 1);
  header[1 + session.length] = sourceName.length;
  sourceName.copy(header, 2 + session.length);
  header.writeBigUInt64BE(BigInt(offsetBytes), 2 + session.length + sourceName.length);
  return header;
}

function decodeData(body: Uint8Array): QueueEntry {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const sessionBytes = buffer[0] ?? 0;
  const sourceBytes = buffer[1 + sessionBytes] ?? 0;
  const offsetAt = 2 + sessionBytes + sourceBytes;
  if (buffer.length < offsetAt + 8) throw new Error(`the data entry's ${buffer.length}-byte body is shorter than its header`);
  const offset = buffer.readBigUInt64BE(offsetAt);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`the data entry's offset ${offset} is beyond 2^53`);
  return {
    kind: 'data',
    sessionId: buffer.toString('utf8', 1, 1 + sessionBytes),
    source: buffer.toString('utf8', 2 + sessionBytes, offsetAt),
    offsetBytes: Number(offset),
    bytes: body.subarray(offsetAt + 8),
  };
}
