import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ConsumedRecord, decodeRecordBatch, encodeRecordBatch, type ProducerRecord } from '../../../src/rpc/clients/index.js';
import { Codec, type Record as WireRecord, type RecordBatch } from '../../../src/rpc/generated/tributary/common/v1/common.js';
import {
  batchRecordsBytesMax, batchTimestampAheadMsMax, envelopeHeaderBytes, type RecordBatchContext, storedBatchFromWire, wireBatchFromStored,
} from '../../../src/rpc/services/record-batch-mapping.js';
import { crc32c, GroupCommitWriter, type LogBatch, MemoryKeyValueStore, openPartitionLog, type StoredBatch } from '../../../src/storage/index.js';
import { decodeStoredBatch, encodeStoredBatch } from '../../../src/storage/stored-batch.js';
import { batchCarrying, bytes, expected, overTheWire, plain, producerRecordArbitrary, refusal } from '../../support/record-batches.js';

const partition = 'orders-3';
const context: RecordBatchContext = { partition, partitionLeaderEpoch: 7, maxBatchBytes: 1024 * 1024 };

const records: ProducerRecord[] = [
  { key: bytes('k1'), value: bytes('first'), timestampMs: 1_700_000_000_002, headers: [{ key: 'trace', value: bytes('abc') }] },
  { value: bytes('second'), timestampMs: 1_700_000_000_001 },
  { key: bytes('k3'), value: new Uint8Array([0, 255, 0]), timestampMs: 1_700_000_000_005 },
];

/** Into the partition log's bytes at `baseOffset` and back out, as a Fetch reads it. */
function throughStorage(stored: StoredBatch, baseOffset: number): LogBatch {
  const readBack = decodeStoredBatch(encodeStoredBatch(stored, baseOffset), baseOffset, `partition "${partition}" offset ${baseOffset}`);
  return { ...readBack, baseOffset, lastOffset: baseOffset + readBack.recordCount - 1 };
}

/** Producer → broker → disk → broker → consumer. */
function produceAndFetch(produced: readonly ProducerRecord[], baseOffset: number): ConsumedRecord[] {
  const stored = storedBatchFromWire(overTheWire(encodeRecordBatch(produced)), context);
  return decodeRecordBatch(overTheWire(wireBatchFromStored(throughStorage(stored, baseOffset), partition)));
}

const wireRecord = (offsetDelta: number, timestampMs = 5): WireRecord => ({ key: Buffer.alloc(0), value: Buffer.from('v'), timestampMs, offsetDelta, headers: [] });

/** A batch whose records are `wireRecords` as given, with a matching CRC and size. */
function batchOf(wireRecords: WireRecord[], fields: Partial<RecordBatch> = {}): RecordBatch {
  return batchCarrying(encodeRecordBatch(records), wireRecords, fields);
}

describe('storedBatchFromWire and wireBatchFromStored', () => {
  it('a produced batch comes back from storage as the same records at its offsets', () => {
    expect(produceAndFetch(records, 1000).map(plain)).toEqual(expected(records, 1000));
  });

  it('stores the leader epoch it is given, the producer, the timestamps and an envelope around the records as sent', () => {
    const wire = overTheWire({ ...encodeRecordBatch(records, { producerId: 42, producerEpoch: 3, baseSequence: 17 }), partitionLeaderEpoch: 99, baseOffset: 5 });
    const stored = storedBatchFromWire(wire, context);
    expect(stored).toMatchObject({
      recordCount: 3, partitionLeaderEpoch: 7, firstTimestampMs: 1_700_000_000_001, maxTimestampMs: 1_700_000_000_005,
      producer: { producerId: 42, producerEpoch: 3, baseSequence: 17 },
    });
    const header = new DataView(stored.payload.buffer, stored.payload.byteOffset, envelopeHeaderBytes);
    expect([header.getUint8(0), header.getUint8(1), header.getUint32(2), header.getUint32(6)]).toEqual([1, 1, wire.crc32c, wire.records.byteLength]);
    expect([...stored.payload.subarray(envelopeHeaderBytes)]).toEqual([...wire.records]);
    expect(storedBatchFromWire(encodeRecordBatch(records), context).producer).toBeUndefined();
  });

  it('hands the log the records\' verified CRC, and the stored value is the same bytes as one checksummed in full', () => {
    // Large enough (over 4 KiB of records) for the log to combine the CRC instead of reading the records again.
    const large = Array.from({ length: 40 }, (_, index) => ({ value: new Uint8Array(500).fill(index), timestampMs: 1_700_000_000_000 + index }));
    const wire = overTheWire(encodeRecordBatch(large));
    const stored = storedBatchFromWire(wire, context);
    expect(stored.payloadTailCrc32c).toEqual({ fromByte: envelopeHeaderBytes, crc32c: wire.crc32c });
    const combined = encodeStoredBatch(stored, 77);
    expect(combined).toEqual(encodeStoredBatch({ ...stored, payloadTailCrc32c: undefined }, 77));
    expect(decodeStoredBatch(combined, 77, 'partition "orders-3" offset 77').payload).toEqual(stored.payload);
    // A CRC that was not the records' would make the value fail its check on every read: never given unverified.
    const wrong = encodeStoredBatch({ ...stored, payloadTailCrc32c: { fromByte: envelopeHeaderBytes, crc32c: (wire.crc32c + 1) >>> 0 } }, 77);
    expect(() => decodeStoredBatch(wrong, 77, 'partition "orders-3" offset 77')).toThrow(expect.objectContaining({ code: 'CORRUPT_RECORD' }));
  });

  it('serves the wire fields back from the stored batch, filling in an unknown uncompressed size', () => {
    const sent = { ...encodeRecordBatch(records, { producerId: 42, producerEpoch: 3, baseSequence: 17 }), uncompressedBytes: 0 };
    const served = wireBatchFromStored(throughStorage(storedBatchFromWire(sent, context), 500), partition);
    expect(served).toEqual({ ...sent, baseOffset: 500, partitionLeaderEpoch: 7, uncompressedBytes: sent.records.byteLength });
  });

  it('round-trips through a partition log, each batch at the offsets the log assigned', async () => {
    const engine = new MemoryKeyValueStore();
    const log = await openPartitionLog(engine, new GroupCommitWriter(engine, { durability: 'none' }), { topic: 'orders', partition: 3 });
    const second: ProducerRecord[] = [{ value: bytes('fourth'), timestampMs: 9 }, { value: bytes('fifth'), timestampMs: 10 }];
    for (const produced of [records, second]) await log.append(storedBatchFromWire(overTheWire(encodeRecordBatch(produced)), context));
    const fetched = (await log.read(0, 1024 * 1024)).flatMap((batch) => decodeRecordBatch(overTheWire(wireBatchFromStored(batch, partition))));
    expect(fetched.map(plain)).toEqual([...expected(records, 0), ...expected(second, 3)]);
  });

  it('refuses a stored envelope it did not write as CORRUPT_RECORD naming partition and offset', () => {
    const stored = throughStorage(storedBatchFromWire(encodeRecordBatch(records), context), 12);
    const withByte = (position: number, value: number): LogBatch => {
      const payload = Uint8Array.from(stored.payload);
      payload[position] = value;
      return { ...stored, payload };
    };
    const cases: Array<[LogBatch, string]> = [
      [withByte(0, 2), 'unknown batch envelope format 2 (this broker writes 1)'],
      [withByte(1, 9), 'unknown codec 9 in the batch envelope'],
      [{ ...stored, payload: stored.payload.subarray(0, 9) }, 'the batch payload is 9 bytes, shorter than its 10-byte envelope'],
    ];
    for (const [batch, detail] of cases) {
      expect(refusal(() => wireBatchFromStored(batch, partition))).toMatchObject({
        code: 'CORRUPT_RECORD', message: `partition "orders-3" offset 12: ${detail}; the batch is not served (restore it from a replica)`,
      });
    }
  });
});

describe('storedBatchFromWire refuses', () => {
  const good = encodeRecordBatch(records);
  const prefix = 'batch of 3 records for partition "orders-3": ';
  const invalidCases: Array<[string, RecordBatch, string, Partial<RecordBatchContext>?]> = [
    ['codec UNSPECIFIED', { ...good, codec: Codec.UNSPECIFIED }, 'codec CODEC_UNSPECIFIED (0) is never sent; send CODEC_NONE, CODEC_LZ4 or CODEC_ZSTD'],
    ['an unknown codec', { ...good, codec: 9 as Codec }, 'codec 9 is not a codec this broker supports; send CODEC_NONE, CODEC_LZ4 or CODEC_ZSTD'],
    ['a negative first timestamp', { ...good, firstTimestampMs: -1 }, 'first_timestamp_ms -1 is negative; timestamps are milliseconds since the Unix epoch'],
    ['a negative max timestamp', { ...good, maxTimestampMs: -2 }, 'max_timestamp_ms -2 is negative; timestamps are milliseconds since the Unix epoch'],
    ['a first timestamp after the max', { ...good, firstTimestampMs: 1_700_000_000_006 }, 'first_timestamp_ms 1700000000006 is after max_timestamp_ms 1700000000005'],
    [
      'a max timestamp too far ahead of the clock', good,
      `max_timestamp_ms 1700000000005 is more than ${batchTimestampAheadMsMax} ms ahead of the broker's clock (1699990000000); check the producer's clock`,
      { nowMs: 1_699_990_000_000 },
    ],
    ['an uncompressed size that is not the records size', { ...good, uncompressedBytes: 1 }, `uncompressed_bytes 1 does not match the ${good.records.byteLength} bytes of its uncompressed records; send ${good.records.byteLength} or 0`],
    ['an epoch without a producer id', { ...good, producerEpoch: 2 }, 'producer_epoch 2 and base_sequence 0 come without a producer_id; send all three (from InitProducerId) or none'],
    ['a sequence without a producer id', { ...good, baseSequence: 8 }, 'producer_epoch 0 and base_sequence 8 come without a producer_id; send all three (from InitProducerId) or none'],
    ['a record count the records do not hold', batchOf([wireRecord(0), wireRecord(1)], { recordCount: 3 }), 'records hold 2 records, not the 3 of record_count'],
    ['offset deltas other than 0..n-1', batchOf([wireRecord(0), wireRecord(2), wireRecord(1)], { firstTimestampMs: 5, maxTimestampMs: 5 }), 'record 1 has offset_delta 2; record i must have offset_delta i'],
    ['a first timestamp that is not the smallest', batchOf([wireRecord(0, 5), wireRecord(1, 8), wireRecord(2, 6)], { firstTimestampMs: 4, maxTimestampMs: 8 }), 'first_timestamp_ms 4 is not the smallest record timestamp, 5'],
    ['a max timestamp that is not the largest', batchOf([wireRecord(0, 5), wireRecord(1, 8), wireRecord(2, 6)], { firstTimestampMs: 5, maxTimestampMs: 9 }), 'max_timestamp_ms 9 is not the largest record timestamp, 8'],
  ];

  for (const [what, batch, detail, overrides] of invalidCases) {
    it(`${what} as INVALID_REQUEST naming the value`, () => {
      expect(refusal(() => storedBatchFromWire(batch, { ...context, ...overrides }))).toMatchObject({ code: 'INVALID_REQUEST', message: prefix + detail });
    });
  }

  it('a record count of 0 or above the bound as INVALID_REQUEST', () => {
    expect(refusal(() => storedBatchFromWire({ ...good, recordCount: 0 }, context))).toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'batch of 0 records for partition "orders-3": record_count 0 is outside 1..1048576; send at least one record and at most 1048576 per batch',
    });
    expect(refusal(() => storedBatchFromWire({ ...good, recordCount: 2 ** 20 + 1 }, context)).message).toBe(
      'batch of 1048577 records for partition "orders-3": record_count 1048577 is outside 1..1048576; send at least one record and at most 1048576 per batch',
    );
  });

  it('records longer than maxBatchBytes as RESOURCE_EXHAUSTED, not retriable, naming both sizes', () => {
    expect(refusal(() => storedBatchFromWire(good, { ...context, maxBatchBytes: 40 }))).toMatchObject({
      code: 'RESOURCE_EXHAUSTED', retriable: false,
      message: `${prefix}records are ${good.records.byteLength} bytes, more than the 40 this broker accepts in one batch; send smaller batches`,
    });
  });

  it('records larger than a stored batch can hold, whatever maxBatchBytes says', () => {
    const huge = Buffer.alloc(batchRecordsBytesMax + 1);
    const batch = { ...good, records: huge, crc32c: crc32c(huge), uncompressedBytes: 0 };
    expect(refusal(() => storedBatchFromWire(batch, { ...context, maxBatchBytes: 2 ** 30 }))).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      message: `${prefix}records are ${batchRecordsBytesMax + 1} bytes, more than the ${batchRecordsBytesMax} this broker accepts in one batch; send smaller batches`,
    });
  });

  it('records that do not decode as a RecordSet as INVALID_REQUEST', () => {
    const garbage = Buffer.from([0xff, 0xff]);
    const error = refusal(() => storedBatchFromWire({ ...good, records: garbage, crc32c: crc32c(garbage), uncompressedBytes: 0 }, context));
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.message).toMatch(/^batch of 3 records for partition "orders-3": records do not decode as a RecordSet \(.+\); send a serialized tributary\.common\.v1\.RecordSet$/);
  });

  it('on a follower, leaves the records\' scan to the leader that ran it, but still checks the checksum', () => {
    const garbage = Buffer.from([0xff, 0xff]);
    const copied = { ...context, recordsCheckedByLeader: true };
    expect(storedBatchFromWire({ ...good, records: garbage, crc32c: crc32c(garbage), uncompressedBytes: 0 }, copied).recordCount).toBe(3);
    expect(refusal(() => storedBatchFromWire({ ...good, records: garbage }, copied)).code).toBe('CORRUPT_RECORD');
  });

  it('a flipped byte in the records as CORRUPT_RECORD naming both checksums', () => {
    const damaged = Buffer.from(good.records);
    damaged[3] = (damaged[3] as number) ^ 0x01;
    expect(refusal(() => storedBatchFromWire({ ...good, records: damaged }, context))).toMatchObject({
      code: 'CORRUPT_RECORD',
      message: `${prefix}CRC32C ${hex(crc32c(damaged))} does not match the ${hex(good.crc32c)} it carries`,
    });
  });

  it('accepts what it refuses nothing for: an unknown uncompressed size, a max timestamp just within the clock bound', () => {
    expect(() => storedBatchFromWire({ ...good, uncompressedBytes: 0 }, { ...context, nowMs: good.maxTimestampMs - batchTimestampAheadMsMax })).not.toThrow();
  });
});

describe('record batch mapping, properties', () => {
  const record = producerRecordArbitrary;

  it('producer → broker → storage → broker → consumer gives back the records at their offsets', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 12 }), fc.nat({ max: 2 ** 40 }), (produced, baseOffset) => {
        expect(produceAndFetch(produced, baseOffset).map(plain)).toEqual(expected(produced, baseOffset));
      }),
    );
  });

  it('a flipped byte anywhere in the records never reaches storage', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 6 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (produced, position, mask) => {
        const batch = encodeRecordBatch(produced);
        const damaged = Buffer.from(batch.records);
        const index = position % damaged.byteLength;
        damaged[index] = (damaged[index] as number) ^ mask;
        expect(refusal(() => storedBatchFromWire({ ...batch, records: damaged }, context)).code).toBe('CORRUPT_RECORD');
      }),
    );
  });
});

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
