import { isUtf8 } from 'node:buffer';
import type { ConsumerRecord, RecordMetadata, TributaryError } from '../client/index.js';

/*
 * How `trib produce` and `trib consume` print records, one line each. Keys and values are shown as
 * text when they are valid UTF-8 and as base64 otherwise (`keyBase64`, `valueBase64` in JSON), so
 * every byte survives the round trip through a terminal or a pipe.
 */

export type ConsumedRecordJson =
  & { partition: number; offset: number }
  & ({ key: string | null } | { keyBase64: string })
  & ({ value: string } | { valueBase64: string });

export function consumedRecordJson(record: Pick<ConsumerRecord, 'partition' | 'offset' | 'key' | 'value'>): ConsumedRecordJson {
  const key = record.key === undefined ? { key: null } : isUtf8(record.key) ? { key: text(record.key) } : { keyBase64: base64(record.key) };
  const value = isUtf8(record.value) ? { value: text(record.value) } : { valueBase64: base64(record.value) };
  return { partition: record.partition, offset: record.offset, ...key, ...value };
}

/** `partition 0, offset 3, key k1: hello`; bytes that are not UTF-8 as `base64:…`, no key as `(none)`. */
export function consumedRecordLine(record: Pick<ConsumerRecord, 'partition' | 'offset' | 'key' | 'value'>): string {
  const shown = (bytes: Uint8Array) => (isUtf8(bytes) ? text(bytes) : `base64:${base64(bytes)}`);
  return `partition ${record.partition}, offset ${record.offset}, key ${record.key === undefined ? '(none)' : shown(record.key)}: ${shown(record.value)}`;
}

/** `{"line":N,"partition":P,"offset":O}`; no offset under acks none, where the broker reports none. */
export function producedRecordJson(line: number, metadata: RecordMetadata): { line: number; partition: number; offset?: number } {
  return metadata.offset < 0 ? { line, partition: metadata.partition } : { line, partition: metadata.partition, offset: metadata.offset };
}

export function failedRecordJson(line: number, error: TributaryError): { line: number; error: { code: string; message: string; retriable: boolean } } {
  return { line, error: { code: error.code, message: error.message, retriable: error.retriable } };
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
