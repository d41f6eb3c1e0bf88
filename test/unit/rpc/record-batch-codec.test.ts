import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecordBatch, encodeRecordBatch, type ProducerRecord } from '../../../src/rpc/clients/index.js';
import { Codec, type Record as WireRecord, type RecordBatch, RecordSet } from '../../../src/rpc/generated/tributary/common/v1/common.js';
import { crc32c } from '../../../src/storage/index.js';
import { batchCarrying, bytes, expected, overTheWire, plain, producerRecordArbitrary, refusal } from '../../support/record-batches.js';


const wireRecord = (offsetDelta: number): WireRecord => ({ key: Buffer.alloc(0), value: Buffer.from('v'), timestampMs: 5, offsetDelta, headers: [] });

const records: ProducerRecord[] = [
  { key: bytes('k1'), value: bytes('first'), timestampMs: 1_700_000_000_002, headers: [{ key: 'trace', value: bytes('abc') }] },
  { value: bytes('second'), timestampMs: 1_700_000_000_001 },
  { key: new Uint8Array(0), value: new Uint8Array([0, 255, 0]), timestampMs: 1_700_000_000_005, headers: [] },
];

/** A batch whose records are `wireRecords` as given, with a matching CRC and size. */
function batchOf(wireRecords: WireRecord[], fields: Partial<RecordBatch> = {}): RecordBatch {
  return batchCarrying(encodeRecordBatch([{ value: bytes('x'), timestampMs: 1 }]), wireRecords, fields);
}

describe('encodeRecordBatch', () => {
  it('builds an uncompressed batch with the CRC-32C of its records, its timestamp bounds and its size', () => {
    const batch = encodeRecordBatch(records);
    expect(batch).toMatchObject({
      baseOffset: 0, recordCount: 3, codec: Codec.NONE, producerId: 0, producerEpoch: 0, baseSequence: 0, partitionLeaderEpoch: 0,
      firstTimestampMs: 1_700_000_000_001, maxTimestampMs: 1_700_000_000_005,
    });
    expect(batch.crc32c).toBe(crc32c(batch.records));
    expect(batch.uncompressedBytes).toBe(batch.records.byteLength);
    expect(RecordSet.decode(batch.records).records.map((record) => record.offsetDelta)).toEqual([0, 1, 2]);
  });

  it('carries the idempotent producer fields', () => {
    expect(encodeRecordBatch(records, { producerId: 42, producerEpoch: 3, baseSequence: 17 })).toMatchObject({ producerId: 42, producerEpoch: 3, baseSequence: 17 });
  });

  it('refuses inputs it cannot encode, naming the bad value', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => encodeRecordBatch([]), 'a record batch holds 1 to 1048576 records, got 0'],
      [
        () => encodeRecordBatch([records[0] as ProducerRecord, { value: bytes('v'), timestampMs: -1 }]),
        'record 1 has timestampMs -1; a timestamp is a non-negative integer of milliseconds since the Unix epoch',
      ],
      [() => encodeRecordBatch([{ value: bytes('v'), timestampMs: 1.5 }]), 'record 0 has timestampMs 1.5; a timestamp is a non-negative integer of milliseconds since the Unix epoch'],
      [() => encodeRecordBatch(records, { producerId: 0, producerEpoch: 0, baseSequence: 0 }), 'producerId 0 must be a positive safe integer (0 means no producer: leave producer out)'],
      [() => encodeRecordBatch(records, { producerId: 1, producerEpoch: 2 ** 32, baseSequence: 0 }), 'producerEpoch 4294967296 must be an integer from 0 to 4294967295'],
      [() => encodeRecordBatch(records, { producerId: 1, producerEpoch: 0, baseSequence: -1 }), 'baseSequence -1 must be an integer from 0 to 4294967295'],
    ];
    for (const [run, message] of cases) expect(refusal(run)).toMatchObject({ code: 'INVALID_REQUEST', message });
  });
});

describe('decodeRecordBatch', () => {
  it('returns the records at base offset plus their position, an empty key as none', () => {
    const batch = overTheWire({ ...encodeRecordBatch(records), baseOffset: 1000 });
    expect(decodeRecordBatch(batch).map(plain)).toEqual(expected(records, 1000));
    expect(decodeRecordBatch(batch)[2]?.key).toBeUndefined();
  });

  it('catches a flipped byte in the records as CORRUPT_RECORD naming the base offset and both checksums', () => {
    const batch = { ...encodeRecordBatch(records), baseOffset: 77 };
    const damaged = Buffer.from(batch.records);
    damaged[5] = (damaged[5] as number) ^ 0x10;
    const error = refusal(() => decodeRecordBatch({ ...batch, records: damaged }));
    expect(error).toMatchObject({
      code: 'CORRUPT_RECORD',
      message: `batch at offset 77 (3 records): CRC32C ${hex(crc32c(damaged))} does not match the ${hex(batch.crc32c)} it carries; the records are not returned`,
    });
  });

  it('refuses codecs it cannot read and batches that do not hold what they say', () => {
    const good = encodeRecordBatch(records);
    const garbage = Buffer.from([0xff, 0xff]);
    const cases: Array<[RecordBatch, string, string]> = [
      [{ ...good, codec: 9 as Codec }, 'UNKNOWN', 'batch at offset 0 (3 records): codec 9 is not a codec this client can decompress; upgrade the client'],
      [{ ...good, codec: Codec.UNSPECIFIED }, 'CORRUPT_RECORD', 'batch at offset 0 (3 records): codec CODEC_UNSPECIFIED (0) is not a codec a broker sends; the records are not returned'],
      [{ ...good, recordCount: 4 }, 'CORRUPT_RECORD', 'batch at offset 0 (4 records): its records hold 3 records; the records are not returned'],
      [batchOf([wireRecord(0), wireRecord(2)]), 'CORRUPT_RECORD', 'batch at offset 0 (2 records): record 1 has offset_delta 2; the records are not returned'],
    ];
    for (const [batch, code, message] of cases) expect(refusal(() => decodeRecordBatch(batch))).toMatchObject({ code, message });
    const undecodable = refusal(() => decodeRecordBatch({ ...good, records: garbage, crc32c: crc32c(garbage) }));
    expect(undecodable.code).toBe('CORRUPT_RECORD');
    expect(undecodable.message).toMatch(/^batch at offset 0 \(3 records\): its records do not decode as a RecordSet \(.+\); the records are not returned$/);
  });
});

describe('record batch codec, properties', () => {
  const record = producerRecordArbitrary;
  const batch = fc.array(record, { minLength: 1, maxLength: 12 });

  it('every batch of records decodes to the same records at their offsets', () => {
    fc.assert(
      fc.property(batch, fc.maxSafeNat(), (produced, baseOffset) => {
        const wire = overTheWire({ ...encodeRecordBatch(produced), baseOffset: Math.max(0, baseOffset - produced.length) });
        expect(decodeRecordBatch(wire).map(plain)).toEqual(expected(produced, wire.baseOffset));
      }),
    );
  });

  it('every flipped byte of the records is caught', () => {
    fc.assert(
      fc.property(batch, fc.nat(), fc.integer({ min: 1, max: 255 }), (produced, position, mask) => {
        const encoded = encodeRecordBatch(produced);
        const damaged = Buffer.from(encoded.records);
        const index = position % damaged.byteLength;
        damaged[index] = (damaged[index] as number) ^ mask;
        expect(refusal(() => decodeRecordBatch({ ...encoded, records: damaged })).code).toBe('CORRUPT_RECORD');
      }),
    );
  });
});

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
