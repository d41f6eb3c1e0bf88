import fc from 'fast-check';
import { expect } from 'vitest';
import { TributaryError } from '../../src/errors/index.js';
import type { ConsumedRecord, ProducerRecord } from '../../src/rpc/clients/index.js';
import { type Record as WireRecord, RecordBatch, RecordSet } from '../../src/rpc/generated/tributary/common/v1/common.js';
import { crc32c } from '../../src/storage/index.js';

/*
 * Helpers for the record-batch tests on both sides of the wire: plain values so Buffer and
 * Uint8Array views of the same bytes compare equal, and batches built record by record.
 */

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Through the real protobuf codec, as a batch crosses the network. */
export function overTheWire(batch: RecordBatch): RecordBatch {
  return RecordBatch.decode(RecordBatch.encode(batch).finish());
}

export function plain(record: ConsumedRecord): unknown {
  return {
    offset: record.offset,
    key: record.key === undefined ? undefined : [...record.key],
    value: [...record.value],
    timestampMs: record.timestampMs,
    headers: record.headers.map((header) => ({ key: header.key, value: [...header.value] })),
  };
}

/** What a consumer should get back for `produced` stored at `baseOffset` (an empty key reads as none). */
export function expected(produced: readonly ProducerRecord[], baseOffset: number): unknown[] {
  return produced.map((record, index) => ({
    offset: baseOffset + index,
    key: record.key === undefined || record.key.byteLength === 0 ? undefined : [...record.key],
    value: [...record.value],
    timestampMs: record.timestampMs,
    headers: (record.headers ?? []).map((header) => ({ key: header.key, value: [...header.value] })),
  }));
}

/** The TributaryError `run` throws; fails the test when it throws nothing. */
export function refusal(run: () => unknown): TributaryError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TributaryError);
    return error as TributaryError;
  }
  throw new Error('expected the input to be refused');
}

/** `template` carrying `wireRecords` exactly (any offset deltas or timestamps), with a matching CRC and size. */
export function batchCarrying(template: RecordBatch, wireRecords: WireRecord[], fields: Partial<RecordBatch> = {}): RecordBatch {
  const encoded = Buffer.from(RecordSet.encode({ records: wireRecords }).finish());
  return { ...template, records: encoded, crc32c: crc32c(encoded), uncompressedBytes: encoded.byteLength, recordCount: wireRecords.length, ...fields };
}

/** Any record a producer may send: empty or missing keys, binary values, a few headers. */
export const producerRecordArbitrary: fc.Arbitrary<ProducerRecord> = fc.record(
  {
    key: fc.option(fc.uint8Array({ maxLength: 16 }), { nil: undefined }),
    value: fc.uint8Array({ maxLength: 64 }),
    timestampMs: fc.maxSafeNat(),
    headers: fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: fc.uint8Array({ maxLength: 16 }) }), { maxLength: 3 }),
  },
  { requiredKeys: ['value', 'timestampMs'] },
);
