import { TributaryError } from '../errors/index.js';
import type { ProducerRecord } from '../rpc/clients/index.js';

/** A record as a caller hands it to the Producer; strings are sent as their UTF-8 bytes. */
export interface ProducerMessage {
  key?: Uint8Array | string | undefined;
  value: Uint8Array | string;
  headers?: ReadonlyArray<{ key: string; value: Uint8Array | string }> | undefined;
  /** The partition to send to; unset: by key hash, or sticky for keyless records. */
  partition?: number | undefined;
  /** Creation time, milliseconds since the Unix epoch; unset: when `send` was called. */
  timestampMs?: number | undefined;
}

/** Protobuf framing of one record in a RecordSet: tags, lengths, offset delta and timestamp varints. */
const recordFramingBytesMax = 32;
/** Framing of one header entry: its tags and two lengths. */
const headerFramingBytesMax = 12;

export function producerRecordOf(message: ProducerMessage, nowMs: number): ProducerRecord {
  const value = bytesOf(message.value);
  if (value === undefined) throw new TributaryError('INVALID_REQUEST', 'a record needs a value (a Uint8Array or a string)');
  const timestampMs = message.timestampMs ?? nowMs;
  // Checked here, not when the batch is encoded, so one bad record fails alone and not its whole batch.
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) {
    throw new TributaryError('INVALID_REQUEST', `timestampMs ${timestampMs} is not a non-negative integer of milliseconds since the Unix epoch`);
  }
  return {
    key: bytesOf(message.key),
    value,
    timestampMs,
    headers: (message.headers ?? []).map((header) => ({ key: header.key, value: bytesOf(header.value) ?? new Uint8Array(0) })),
  };
}

/**
 * An upper bound on the bytes a record adds to an encoded batch: what batches are cut by and what
 * the producer's buffer counts.
 */
export function recordSizeBoundBytes(record: ProducerRecord): number {
  let bytes = recordFramingBytesMax + (record.key?.byteLength ?? 0) + record.value.byteLength;
  for (const header of record.headers ?? []) bytes += headerFramingBytesMax + Buffer.byteLength(header.key) + header.value.byteLength;
  return bytes;
}

function bytesOf(data: Uint8Array | string | undefined): Uint8Array | undefined {
  if (data === undefined) return undefined;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
