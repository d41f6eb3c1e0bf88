import { TributaryError } from '../../errors/index.js';
import { crc32c } from '../../storage/crc32c.js';
import { batchRecordCountMax } from '../../storage/stored-batch.js';
import { codecName, compressRecords, decompressRecords, isSupportedCodec } from '../batch-compression.js';
import { Codec, type Record as WireRecord, type RecordBatch, RecordSet } from '../generated/tributary/common/v1/common.js';
import { type CompressionCodec, codecToProto } from './cluster-metadata-types.js';

/*
 * Records as producers hand them in and consumers get them out, and the RecordBatch that carries
 * them on the wire (docs/PROTOCOL.md, "Record batches on the wire and on disk"): a serialized
 * RecordSet compressed with the batch's codec (none, lz4 or zstd: rpc/batch-compression.ts), with
 * the CRC-32C of the bytes exactly as sent. The broker checks the same things on produce (rpc/services/record-batch-mapping.ts);
 * checking them here too means a client never sends a batch the broker must refuse, and a consumer
 * never returns records that were damaged on the way.
 *
 * A key of zero bytes and no key are the same on the wire (proto3 `bytes` has no presence), so a
 * consumer sees both as `undefined`.
 */

export interface RecordHeaderEntry {
  key: string;
  value: Uint8Array;
}

export interface ProducerRecord {
  key?: Uint8Array | undefined;
  value: Uint8Array;
  /** Creation time, milliseconds since the Unix epoch. */
  timestampMs: number;
  headers?: readonly RecordHeaderEntry[] | undefined;
}

/** The idempotent-producer fields of a batch, from InitProducerId. */
export interface BatchProducerFields {
  producerId: number;
  producerEpoch: number;
  /** Sequence number of the batch's first record for this producer and partition. */
  baseSequence: number;
}

export interface ConsumedRecord {
  /** The batch's base offset plus the record's position in it. */
  offset: number;
  key: Uint8Array | undefined;
  value: Uint8Array;
  timestampMs: number;
  headers: RecordHeaderEntry[];
}

const uint32Max = 0xffff_ffff;

/**
 * One batch of `records` (at least one, at most batchRecordCountMax) compressed with
 * `compression`, as a producer sends it: base offset and leader epoch 0 (the leader assigns
 * them), first and max timestamps the smallest and largest record timestamps, the CRC-32C over the
 * compressed bytes. Whether it is small enough is the broker's to say (its limits.maxMessageBytes).
 * INVALID_REQUEST naming the record when an input is out of range.
 */
export function encodeRecordBatch(records: readonly ProducerRecord[], producer?: BatchProducerFields, compression: CompressionCodec = 'none'): RecordBatch {
  if (records.length < 1 || records.length > batchRecordCountMax) {
    throw invalid(`a record batch holds 1 to ${batchRecordCountMax} records, got ${records.length}`);
  }
  const wireRecords = records.map(wireRecord);
  // A loop, not Math.min(...timestamps): a million arguments would overflow the call stack.
  let firstTimestampMs = Number.POSITIVE_INFINITY;
  let maxTimestampMs = Number.NEGATIVE_INFINITY;
  for (const { timestampMs } of wireRecords) {
    firstTimestampMs = Math.min(firstTimestampMs, timestampMs);
    maxTimestampMs = Math.max(maxTimestampMs, timestampMs);
  }
  const codec = codecToProto(compression);
  const uncompressed = RecordSet.encode({ records: wireRecords }).finish();
  const sent = compressRecords(codec, uncompressed);
  return {
    baseOffset: 0,
    recordCount: records.length,
    codec,
    crc32c: crc32c(sent),
    records: asBuffer(sent),
    ...producerFields(producer),
    partitionLeaderEpoch: 0,
    firstTimestampMs,
    maxTimestampMs,
    uncompressedBytes: uncompressed.byteLength,
  };
}

/**
 * The records of a fetched batch at their offsets, decompressed. CORRUPT_RECORD naming the base
 * offset when the records fail the batch's CRC-32C (checked on the bytes as sent, before
 * decompressing), do not decompress to `uncompressed_bytes` (at most uncompressedRecordsBytesMax)
 * or do not hold what the batch says; UNKNOWN for a codec this client cannot read (it needs an
 * upgrade, not a retry). Keys, values and header values are the generated decoder's copies, so
 * they do not keep the (possibly decompressed) batch alive.
 */
export function decodeRecordBatch(batch: RecordBatch): ConsumedRecord[] {
  const where = `batch at offset ${batch.baseOffset} (${batch.recordCount} records)`;
  checkCodec(batch.codec, where);
  const computed = crc32c(batch.records);
  if (computed !== batch.crc32c) throw corrupt(where, `CRC32C ${hex(computed)} does not match the ${hex(batch.crc32c)} it carries`);
  const records = decodedRecordSet(decompressRecords(batch.codec, batch.records, batch.uncompressedBytes, where), where);
  if (records.length !== batch.recordCount) throw corrupt(where, `its records hold ${records.length} records`);
  return records.map((record, index) => {
    if (record.offsetDelta !== index) throw corrupt(where, `record ${index} has offset_delta ${record.offsetDelta}`);
    return {
      offset: batch.baseOffset + index,
      key: record.key.byteLength === 0 ? undefined : record.key,
      value: record.value,
      timestampMs: record.timestampMs,
      headers: record.headers.map((header) => ({ key: header.key, value: header.value })),
    };
  });
}

function wireRecord(record: ProducerRecord, index: number): WireRecord {
  const { timestampMs } = record;
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) {
    throw invalid(`record ${index} has timestampMs ${timestampMs}; a timestamp is a non-negative integer of milliseconds since the Unix epoch`);
  }
  return {
    key: asBuffer(record.key ?? new Uint8Array(0)),
    value: asBuffer(record.value),
    timestampMs,
    offsetDelta: index,
    headers: (record.headers ?? []).map((header) => ({ key: header.key, value: asBuffer(header.value) })),
  };
}

function producerFields(producer: BatchProducerFields | undefined): Pick<RecordBatch, 'producerId' | 'producerEpoch' | 'baseSequence'> {
  if (producer === undefined) return { producerId: 0, producerEpoch: 0, baseSequence: 0 };
  const { producerId, producerEpoch, baseSequence } = producer;
  if (!Number.isSafeInteger(producerId) || producerId < 1) throw invalid(`producerId ${producerId} must be a positive safe integer (0 means no producer: leave producer out)`);
  if (!isUint32(producerEpoch)) throw invalid(`producerEpoch ${producerEpoch} must be an integer from 0 to ${uint32Max}`);
  if (!isUint32(baseSequence)) throw invalid(`baseSequence ${baseSequence} must be an integer from 0 to ${uint32Max}`);
  return { producerId, producerEpoch, baseSequence };
}

/**
 * A codec a broker sends but this client does not know is a newer broker's: UNKNOWN, upgrade the
 * client. CODEC_UNSPECIFIED is never sent, so it means a damaged batch.
 */
function checkCodec(codec: Codec, where: string): void {
  if (codec === Codec.UNSPECIFIED) throw corrupt(where, 'codec CODEC_UNSPECIFIED (0) is not a codec a broker sends');
  if (!isSupportedCodec(codec)) throw new TributaryError('UNKNOWN', `${where}: ${codecName(codec)} is not a codec this client can decompress; upgrade the client`);
}

function decodedRecordSet(bytes: Uint8Array, where: string): WireRecord[] {
  try {
    return RecordSet.decode(bytes).records;
  } catch (error) {
    throw corrupt(where, `its records do not decode as a RecordSet (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** The generated types ask for Buffer; a Buffer over the same memory costs no copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isUint32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= uint32Max;
}

function invalid(detail: string): TributaryError {
  return new TributaryError('INVALID_REQUEST', detail);
}

function corrupt(where: string, detail: string): TributaryError {
  return new TributaryError('CORRUPT_RECORD', `${where}: ${detail}; the records are not returned`);
}

function hex(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
