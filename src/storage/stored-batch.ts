import assert from 'node:assert/strict';
import { checksumBytes, corruptRecord, sealChecksummedValue, verifyChecksummedValue } from './checksummed-value.js';
import { crc32c, crc32cCombine } from './crc32c.js';

/** The idempotent-producer fields of a batch (Kafka's producerId, producerEpoch, baseSequence). */
export interface BatchProducer {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** Sequence number of the batch's first record; record i has baseSequence + i. */
  readonly baseSequence: number;
}

/**
 * A record batch as a partition log stores it: the records are an opaque payload (the broker
 * encodes them), the fields around it are what the log itself needs: how many offsets the batch
 * takes, its leader epoch, its timestamps for time retention, and its producer for deduplication.
 * A domain type, not a protobuf one: rpc/services maps between them.
 */
export interface StoredBatch {
  /** Records in the batch: it takes offsets baseOffset to baseOffset + recordCount - 1. */
  readonly recordCount: number;
  /** Epoch of the leader that appended the batch. */
  readonly partitionLeaderEpoch: number;
  readonly firstTimestampMs: number;
  readonly maxTimestampMs: number;
  /** Undefined for a producer that is not idempotent. */
  readonly producer?: BatchProducer | undefined;
  readonly payload: Uint8Array;
  /**
   * The CRC-32C of the payload from `fromByte` on, when whoever built the batch has just verified
   * it (the broker checks a produced or replicated batch's records against the CRC they carry):
   * the stored value's checksum then combines it instead of reading those bytes a second time.
   * A wrong one would make the value fail its check on every read (CORRUPT_RECORD), so only a
   * verified CRC may be given.
   */
  readonly payloadTailCrc32c?: { readonly fromByte: number; readonly crc32c: number } | undefined;
}

/**
 * Below this many tail bytes the checksum reads them again: combining costs about as much as
 * reading a few hundred bytes, and a small batch's bytes are in cache anyway.
 */
const combinedTailBytesMin = 4_096;

/** Bounds the storage enforces whatever the broker is configured to accept. */
export const batchRecordCountMax = 2 ** 20;
export const batchPayloadBytesMax = 16 * 1024 * 1024;

const formatVersion = 1;
const hasProducerFlag = 1;
/**
 * After the checksum: version u8, flags u8, recordCount u32, baseOffset u64, leader epoch u64,
 * first and max timestamp u64, producer id u64, producer epoch u32, base sequence u32. The base
 * offset is inside the checksummed bytes so a value found under the wrong key is caught too.
 */
const headerBytes = 1 + 1 + 4 + 8 + 8 + 8 + 8 + 8 + 4 + 4;
const uint32Max = 0xffffffff;
/** What a stored batch takes beyond its payload: the checksum and the header. */
export const storedBatchOverheadBytes = checksumBytes + headerBytes;

export function encodeStoredBatch(batch: StoredBatch, baseOffset: number): Uint8Array {
  assertStoredBatch(batch);
  // Header and payload go straight behind the checksum's room: one allocation and one copy of the payload.
  const value = new Uint8Array(storedBatchOverheadBytes + batch.payload.byteLength);
  const view = new DataView(value.buffer, checksumBytes, headerBytes);
  const producer = batch.producer;
  view.setUint8(0, formatVersion);
  view.setUint8(1, producer === undefined ? 0 : hasProducerFlag);
  view.setUint32(2, batch.recordCount);
  setUint64(view, 6, baseOffset);
  setUint64(view, 14, batch.partitionLeaderEpoch);
  setUint64(view, 22, batch.firstTimestampMs);
  setUint64(view, 30, batch.maxTimestampMs);
  setUint64(view, 38, producer?.producerId ?? 0);
  view.setUint32(46, producer?.producerEpoch ?? 0);
  view.setUint32(50, producer?.baseSequence ?? 0);
  value.set(batch.payload, storedBatchOverheadBytes);
  const tail = batch.payloadTailCrc32c;
  if (tail === undefined || batch.payload.byteLength - tail.fromByte < combinedTailBytesMin) return sealChecksummedValue(value);
  const head = crc32c(value.subarray(checksumBytes, storedBatchOverheadBytes + tail.fromByte));
  new DataView(value.buffer, value.byteOffset, checksumBytes).setUint32(0, crc32cCombine(head, tail.crc32c, batch.payload.byteLength - tail.fromByte));
  return value;
}

/**
 * The batch stored at `baseOffset`; CORRUPT_RECORD naming `where` (the partition, the offset and the
 * database) if its bytes are not intact.
 */
export function decodeStoredBatch(bytes: Uint8Array, baseOffset: number, where: string): StoredBatch {
  const body = verifyChecksummedValue(bytes, where);
  if (body.byteLength < headerBytes) {
    throw corruptRecord(where, `the batch is ${bytes.byteLength} bytes, shorter than its ${storedBatchOverheadBytes}-byte header`);
  }
  const view = new DataView(body.buffer, body.byteOffset, headerBytes);
  const version = view.getUint8(0);
  if (version !== formatVersion) throw corruptRecord(where, `unknown batch format version ${version}`);
  const storedBaseOffset = getUint64(view, 6);
  if (storedBaseOffset !== baseOffset) throw corruptRecord(where, `the stored batch says its base offset is ${storedBaseOffset}`);
  const producer: BatchProducer | undefined =
    (view.getUint8(1) & hasProducerFlag) === 0
      ? undefined
      : { producerId: getUint64(view, 38), producerEpoch: view.getUint32(46), baseSequence: view.getUint32(50) };
  return {
    recordCount: view.getUint32(2),
    partitionLeaderEpoch: getUint64(view, 14),
    firstTimestampMs: getUint64(view, 22),
    maxTimestampMs: getUint64(view, 30),
    producer,
    payload: body.subarray(headerBytes),
  };
}

export function assertStoredBatch(batch: StoredBatch): void {
  const { recordCount, partitionLeaderEpoch, firstTimestampMs, maxTimestampMs, producer, payload } = batch;
  assertIntegerFrom(recordCount, 1, batchRecordCountMax, 'recordCount');
  assertSafe(partitionLeaderEpoch, 'partitionLeaderEpoch');
  assertSafe(firstTimestampMs, 'firstTimestampMs');
  assertSafe(maxTimestampMs, 'maxTimestampMs');
  assert.ok(firstTimestampMs <= maxTimestampMs, `firstTimestampMs ${firstTimestampMs} must not exceed maxTimestampMs ${maxTimestampMs}`);
  assert.ok(payload.byteLength <= batchPayloadBytesMax, `a batch payload must be at most ${batchPayloadBytesMax} bytes, got ${payload.byteLength}`);
  const tail = batch.payloadTailCrc32c;
  if (tail !== undefined) assert.ok(Number.isSafeInteger(tail.fromByte) && tail.fromByte >= 0 && tail.fromByte <= payload.byteLength, `payloadTailCrc32c.fromByte ${tail.fromByte} is outside the ${payload.byteLength}-byte payload`);
  if (producer === undefined) return;
  assertSafe(producer.producerId, 'producerId');
  assertIntegerFrom(producer.producerEpoch, 0, uint32Max, 'producerEpoch');
  assertIntegerFrom(producer.baseSequence, 0, uint32Max, 'baseSequence');
}

function assertIntegerFrom(value: number, min: number, max: number, name: string): void {
  assert.ok(Number.isInteger(value) && value >= min && value <= max, `${name} must be an integer from ${min} to ${max}, got ${value}`);
}

function assertSafe(value: number, name: string): void {
  assert.ok(Number.isSafeInteger(value) && value >= 0, `${name} must be a safe non-negative integer, got ${value}`);
}

function setUint64(view: DataView, position: number, value: number): void {
  assertSafe(value, 'a batch header number');
  view.setUint32(position, Math.floor(value / 2 ** 32));
  view.setUint32(position + 4, value >>> 0);
}

function getUint64(view: DataView, position: number): number {
  return view.getUint32(position) * 2 ** 32 + view.getUint32(position + 4);
}
