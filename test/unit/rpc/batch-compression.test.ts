import { compressSync as lz4Compress } from 'lz4-napi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compressRecords, decompressRecords, uncompressedRecordsBytesMax } from '../../../src/rpc/batch-compression.js';
import { type CompressionCodec, decodeRecordBatch, encodeRecordBatch, type ProducerRecord } from '../../../src/rpc/clients/index.js';
import { Codec, type RecordBatch, RecordSet } from '../../../src/rpc/generated/tributary/common/v1/common.js';
import { type RecordBatchContext, storedBatchFromWire, wireBatchFromStored } from '../../../src/rpc/services/record-batch-mapping.js';
import { crc32c, type LogBatch, type StoredBatch } from '../../../src/storage/index.js';
import { bytes, expected, overTheWire, plain, producerRecordArbitrary, refusal } from '../../support/record-batches.js';

const partition = 'readings-2';
const context: RecordBatchContext = { partition, partitionLeaderEpoch: 3, maxBatchBytes: 1024 * 1024 };
const compressedCodecs: ReadonlyArray<[CompressionCodec, Codec]> = [['lz4', Codec.LZ4], ['zstd', Codec.ZSTD]];

/** Sensor readings as devices send them: JSON that compresses well. */
const readings: ProducerRecord[] = Array.from({ length: 200 }, (_, index) => ({
  key: bytes(`sensor-${index % 7}`),
  value: bytes(JSON.stringify({ device: `sensor-${index % 7}`, temperature: 20 + (index % 13) / 10, humidity: 40 + (index % 17), status: 'ok' })),
  timestampMs: 1_700_000_000_000 + index,
}));

function asLogBatch(stored: StoredBatch, baseOffset: number): LogBatch {
  return { ...stored, baseOffset, lastOffset: baseOffset + stored.recordCount - 1 };
}

/** `batch` with `records` in place of its own and a CRC that matches them, so only the codec can object. */
function carrying(batch: RecordBatch, records: Uint8Array, fields: Partial<RecordBatch> = {}): RecordBatch {
  return { ...batch, records: Buffer.from(records), crc32c: crc32c(records), ...fields };
}

describe('compressed record batches', () => {
  for (const [compression, codec] of compressedCodecs) {
    it(`${compression}: round trip through producer, broker, storage and consumer for any records`, () => {
      fc.assert(
        fc.property(fc.array(producerRecordArbitrary, { minLength: 1, maxLength: 20 }), fc.nat({ max: 2 ** 40 }), (produced, baseOffset) => {
          const sent = overTheWire(encodeRecordBatch(produced, undefined, compression));
          expect(sent.codec).toBe(codec);
          expect(sent.crc32c).toBe(crc32c(sent.records));
          const served = overTheWire(wireBatchFromStored(asLogBatch(storedBatchFromWire(sent, context), baseOffset), partition));
          // Stored and served exactly as produced: the producer's CRC holds end to end.
          expect([served.codec, served.crc32c, served.uncompressedBytes]).toEqual([sent.codec, sent.crc32c, sent.uncompressedBytes]);
          expect(Buffer.compare(served.records, sent.records)).toBe(0);
          expect(decodeRecordBatch({ ...served, baseOffset }).map(plain)).toEqual(expected(produced, baseOffset));
        }),
      );
    });

    it(`${compression}: compresses sensor readings and records their uncompressed size`, () => {
      const batch = encodeRecordBatch(readings, undefined, compression);
      const uncompressed = encodeRecordBatch(readings);
      expect(batch.uncompressedBytes).toBe(uncompressed.records.byteLength);
      expect(batch.records.byteLength * 3).toBeLessThan(uncompressed.records.byteLength);
    });

    it(`${compression}: any bytes come back from compressRecords and decompressRecords`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 4096 }), (input) => {
          const compressed = compressRecords(codec, input);
          expect([...decompressRecords(codec, compressed, input.byteLength, 'test batch')]).toEqual([...input]);
        }),
      );
    });

    it(`${compression}: a truncated or garbage payload with a matching CRC is CORRUPT_RECORD naming the batch's base offset`, () => {
      const batch = { ...encodeRecordBatch(readings, undefined, compression), baseOffset: 4_242 };
      fc.assert(
        fc.property(fc.integer({ min: 1, max: batch.records.byteLength - 1 }), (keptBytes) => {
          const error = refusal(() => decodeRecordBatch(carrying(batch, batch.records.subarray(0, keptBytes))));
          expect(error.code).toBe('CORRUPT_RECORD');
          expect(error.message).toMatch(/^batch at offset 4242 \(200 records\): /);
        }),
      );
      const garbage = Buffer.concat([batch.records.subarray(0, 4), Buffer.alloc(64, 0xa5)]);
      expect(refusal(() => decodeRecordBatch(carrying(batch, garbage))).message).toMatch(new RegExp(`^batch at offset 4242 \\(200 records\\): its ${compression} records`));
    });

    it(`${compression}: the broker refuses a batch that does not decompress to its uncompressed_bytes, naming the partition`, () => {
      const batch = encodeRecordBatch(readings, undefined, compression);
      const error = refusal(() => storedBatchFromWire({ ...batch, uncompressedBytes: batch.uncompressedBytes + 1 }, context));
      expect(error.code).toBe('CORRUPT_RECORD');
      expect(error.message).toMatch(new RegExp(`^batch of 200 records for partition "readings-2": its ${compression} `));
    });

    it(`${compression}: the broker refuses a missing or oversized uncompressed_bytes before decompressing`, () => {
      const batch = encodeRecordBatch(readings, undefined, compression);
      for (const uncompressedBytes of [0, uncompressedRecordsBytesMax + 1]) {
        expect(refusal(() => storedBatchFromWire({ ...batch, uncompressedBytes }, context))).toMatchObject({
          code: 'INVALID_REQUEST',
          message: `batch of 200 records for partition "readings-2": uncompressed_bytes ${uncompressedBytes} of a ${compression} batch is outside 1..${uncompressedRecordsBytesMax}; send the size of the serialized RecordSet before compression`,
        });
      }
    });
  }
});

describe('decompression bombs', () => {
  /** 8 MiB of zeros: a few hundred bytes compressed, a bomb for anyone who believes a small uncompressed_bytes less than the data. */
  const zeros = new Uint8Array(8 * 1024 * 1024);

  it('zstd: output beyond uncompressed_bytes is refused inside libzstd, not allocated', () => {
    const bomb = compressRecords(Codec.ZSTD, zeros);
    expect(bomb.byteLength).toBeLessThan(2_048);
    expect(refusal(() => decompressRecords(Codec.ZSTD, bomb, 1_000, 'batch at offset 9 (1 records)'))).toMatchObject({
      code: 'CORRUPT_RECORD',
      message: 'batch at offset 9 (1 records): its zstd records do not decompress to 1000 bytes (Destination buffer is too small)',
    });
  });

  it('lz4: a size prefix other than uncompressed_bytes is refused before decompressing; output beyond it inside lz4', () => {
    const bomb = compressRecords(Codec.LZ4, zeros);
    expect(refusal(() => decompressRecords(Codec.LZ4, bomb, 1_000, 'batch at offset 9 (1 records)'))).toMatchObject({
      code: 'CORRUPT_RECORD',
      message: `batch at offset 9 (1 records): its lz4 size prefix says ${zeros.byteLength} bytes, not the 1000 of uncompressed_bytes`,
    });
    const lying = Buffer.from(bomb);
    lying.writeUInt32LE(1_000, 0);
    const error = refusal(() => decompressRecords(Codec.LZ4, lying, 1_000, 'batch at offset 9 (1 records)'));
    expect(error.code).toBe('CORRUPT_RECORD');
    expect(error.message).toMatch(/^batch at offset 9 \(1 records\): its lz4 records do not decompress to 1000 bytes \(.+\)$/);
  });

  it('an uncompressed_bytes above the bound is refused before any allocation, whatever the codec', () => {
    for (const [, codec] of compressedCodecs) {
      expect(refusal(() => decompressRecords(codec, compressRecords(codec, bytes('x')), 2 ** 31, 'batch at offset 0 (1 records)')).message).toBe(
        `batch at offset 0 (1 records): uncompressed_bytes 2147483648 of a ${codec === Codec.LZ4 ? 'lz4' : 'zstd'} batch is outside 1..${uncompressedRecordsBytesMax}`,
      );
    }
  });

  it('a consumer refuses a fetched bomb as CORRUPT_RECORD naming its base offset', () => {
    const records = Buffer.from(RecordSet.encode({ records: [{ key: Buffer.alloc(0), value: Buffer.from(zeros), timestampMs: 1, offsetDelta: 0, headers: [] }] }).finish());
    const bomb = lz4Compress(records);
    bomb.writeUInt32LE(64, 0);
    const batch: RecordBatch = { ...encodeRecordBatch([{ value: bytes('x'), timestampMs: 1 }]), baseOffset: 77, codec: Codec.LZ4, records: bomb, crc32c: crc32c(bomb), uncompressedBytes: 64 };
    expect(refusal(() => decodeRecordBatch(batch))).toMatchObject({ code: 'CORRUPT_RECORD', message: expect.stringMatching(/^batch at offset 77 \(1 records\): its lz4 records do not decompress to 64 bytes/) as unknown });
  });

  it('compressRecords refuses records above the bound, which no receiver would take', () => {
    expect(refusal(() => compressRecords(Codec.ZSTD, new Uint8Array(uncompressedRecordsBytesMax + 1)))).toMatchObject({
      code: 'INVALID_REQUEST',
      message: `a batch's records are ${uncompressedRecordsBytesMax + 1} bytes uncompressed, more than the ${uncompressedRecordsBytesMax} one batch may hold; send smaller batches`,
    });
  });
});
