import { z } from 'zod';
import { TributaryError } from '../errors/index.js';
import type { SessionDeclaration, SessionEnd } from './ingest-types.js';

/*
 * What an ingest topic's records hold (docs/INGEST.md, "Records"). Every record's key is the
 * device id, so the topic is partitioned like any keyed topic, and its headers say what it is, so
 * an ordinary consumer (a pipeline) can read chunks without this module:
 *   tributary.kind     session | chunk | end
 *   tributary.session  the session id
 *   tributary.source   (chunk) the source name
 *   tributary.offset   (chunk) byte offset of the payload in the source, decimal
 *   tributary.final    (chunk) "true" on the chunk that closes its source
 *   tributary.sha256   (final chunk) the source's SHA-256, lowercase hex
 * A chunk's value is its payload bytes exactly as they belong to the source; a session's value is
 * its declaration and an end's value how it ended, both as JSON.
 */

export interface IngestRecordHeader {
  readonly key: string;
  readonly value: Uint8Array;
}

/** A record as the partition log's codec carries it (rpc/clients/record-batch-codec.ts shapes). */
export interface IngestLogRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly headers: readonly IngestRecordHeader[];
}

export interface SessionRecord {
  readonly kind: 'session';
  readonly declaration: SessionDeclaration;
}

export interface ChunkRecord {
  readonly kind: 'chunk';
  readonly deviceId: string;
  readonly sessionId: string;
  readonly source: string;
  readonly offsetBytes: number;
  readonly payload: Uint8Array;
  readonly final: boolean;
  /** Set on a final chunk only. */
  readonly sha256Hex: string;
}

export interface EndRecord {
  readonly kind: 'end';
  readonly deviceId: string;
  readonly sessionId: string;
  readonly end: SessionEnd;
}

export type IngestRecord = SessionRecord | ChunkRecord | EndRecord;

export const ingestHeaders = {
  kind: 'tributary.kind',
  session: 'tributary.session',
  source: 'tributary.source',
  offset: 'tributary.offset',
  final: 'tributary.final',
  sha256: 'tributary.sha256',
} as const;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function encodeIngestRecord(record: IngestRecord): IngestLogRecord {
  switch (record.kind) {
    case 'session': {
      const { deviceId, sessionId } = record.declaration;
      return { key: utf8.encode(deviceId), value: utf8.encode(JSON.stringify(record.declaration)), headers: headersOf({ kind: 'session', session: sessionId }) };
    }
    case 'chunk': {
      const fields: Record<string, string> = { kind: 'chunk', session: record.sessionId, source: record.source, offset: String(record.offsetBytes) };
      if (record.final) Object.assign(fields, { final: 'true', sha256: record.sha256Hex });
      return { key: utf8.encode(record.deviceId), value: record.payload, headers: headersOf(fields) };
    }
    case 'end':
      return { key: utf8.encode(record.deviceId), value: utf8.encode(JSON.stringify(record.end)), headers: headersOf({ kind: 'end', session: record.sessionId }) };
  }
}

function headersOf(fields: Record<string, string>): IngestRecordHeader[] {
  return Object.entries(fields).map(([name, value]) => ({ key: ingestHeaders[name as keyof typeof ingestHeaders], value: utf8.encode(value) }));
}

const identifier = z.string().min(1).max(128);
const count = z.number().int().nonnegative().refine(Number.isSafeInteger);
const declarationSchema = z.object({
  deviceId: identifier,
  sessionId: identifier,
  sources: z.array(z.object({
    name: z.string().min(1),
    contentType: z.string(),
    payloadKind: z.enum(['binary', 'json', 'sensor']),
    declaredLengthBytes: count.optional(),
    sensor: z.object({ kind: count, channelCount: count, units: z.array(z.string()), channelNames: z.array(z.string()), nominalRateHz: z.number() }).optional(),
  })).min(1),
  metadata: z.record(z.string(), z.string()),
  createdAtMs: count,
  expiresAtMs: count,
  idleTimeoutMs: count,
});
const endSchema = z.object({
  state: z.enum(['complete', 'expired', 'failed', 'terminated']),
  reason: z.string(),
  failureCode: z.string(),
  sessionSha256Hex: z.string().regex(/^([0-9a-f]{64})?$/),
  endedAtMs: count,
});

/** The ingest record `record` holds; CORRUPT_RECORD naming `where` and what is wrong otherwise. */
export function decodeIngestRecord(record: IngestLogRecord, where: string): IngestRecord {
  const fields = new Map<string, string>();
  for (const header of record.headers) fields.set(header.key, text(header.value, where, `header ${header.key}`));
  const kind = fields.get(ingestHeaders.kind);
  if (kind !== 'session' && kind !== 'chunk' && kind !== 'end') {
    throw corrupt(where, `header ${ingestHeaders.kind} is ${kind === undefined ? 'missing' : `"${kind}"`}; expected session, chunk or end`);
  }
  const deviceId = text(record.key, where, 'key');
  const sessionId = required(fields, ingestHeaders.session, where);
  if (kind === 'chunk') return decodeChunk(record, fields, { deviceId, sessionId }, where);
  const value = parseJson(record.value, where);
  if (kind === 'session') {
    const declaration = parsed(declarationSchema, value, where);
    if (declaration.deviceId !== deviceId || declaration.sessionId !== sessionId) {
      throw corrupt(where, `its key and headers name session "${deviceId}/${sessionId}" but its declaration is of "${declaration.deviceId}/${declaration.sessionId}"`);
    }
    return { kind, declaration };
  }
  return { kind, deviceId, sessionId, end: parsed(endSchema, value, where) };
}

function decodeChunk(record: IngestLogRecord, fields: ReadonlyMap<string, string>, owner: { deviceId: string; sessionId: string }, where: string): ChunkRecord {
  const offsetText = required(fields, ingestHeaders.offset, where);
  const offsetBytes = Number(offsetText);
  if (!/^(0|[1-9][0-9]*)$/.test(offsetText) || !Number.isSafeInteger(offsetBytes)) throw corrupt(where, `header ${ingestHeaders.offset} "${offsetText}" is not a byte offset`);
  const final = fields.get(ingestHeaders.final) === 'true';
  const sha256Hex = final ? required(fields, ingestHeaders.sha256, where) : '';
  if (final && !/^[0-9a-f]{64}$/.test(sha256Hex)) throw corrupt(where, `header ${ingestHeaders.sha256} "${sha256Hex}" is not a lowercase hex SHA-256`);
  return { kind: 'chunk', ...owner, source: required(fields, ingestHeaders.source, where), offsetBytes, payload: record.value, final, sha256Hex };
}

function required(fields: ReadonlyMap<string, string>, name: string, where: string): string {
  const value = fields.get(name);
  if (value === undefined || value === '') throw corrupt(where, `header ${name} is missing`);
  return value;
}

function text(bytes: Uint8Array, where: string, what: string): string {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw corrupt(where, `its ${what} is not UTF-8`);
  }
}

function parseJson(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(text(bytes, where, 'value'));
  } catch (error) {
    if (error instanceof TributaryError) throw error;
    throw corrupt(where, 'its value is not JSON');
  }
}

function parsed<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw corrupt(where, `its value does not match the record's schema: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}

function corrupt(where: string, what: string): TributaryError {
  return new TributaryError('CORRUPT_RECORD', `ingest record ${where}: ${what}`);
}
