import assert from 'node:assert/strict';
import { TributaryError } from '../../errors/index.js';
import { batchPayloadBytesMax, batchRecordCountMax, type BatchProducer, crc32c, type LogBatch, type StoredBatch } from '../../storage/index.js';
import { codecName, decompressRecords, isSupportedCodec, uncompressedRecordsBytesMax } from '../batch-compression.js';
import { Codec, type RecordBatch } from '../generated/tributary/common/v1/common.js';
import { scanRecordSet } from './record-set-scan.js';

/*
 * The one place where a wire RecordBatch becomes the StoredBatch a partition log keeps, and back
 * (docs/PROTOCOL.md, "Record batches on the wire and on disk"). The log treats a batch's payload as
 * opaque; the broker fills it with a small envelope of its own:
 *
 *   [format u8][codec u8][wire CRC-32C u32][uncompressed bytes u32][records: the wire bytes as sent]
 *
 * The wire CRC is kept so that Fetch and ReplicateStream serve a batch without recomputing the
 * checksum over its records (the log's own checksum already guards the bytes on disk). The codec is
 * kept so that compressed batches need no StoredBatch field of their own: the records stay exactly
 * as the producer compressed them, never re-encoded, so the producer's CRC-32C holds from producer
 * to consumer and Fetch and replication ship the bytes untouched. Numbers are big-endian.
 */

/** Bumped when the envelope changes; a stored batch with another format is CORRUPT_RECORD. */
const envelopeFormat = 1;
const envelopeFormatPosition = 0;
const envelopeCodecPosition = 1;
const envelopeCrcPosition = 2;
const envelopeUncompressedBytesPosition = 6;
const envelopeRecordsPosition = 10;
/** What the envelope adds to a batch's records. */
export const envelopeHeaderBytes = envelopeRecordsPosition;

/**
 * Codecs as the envelope numbers them: our own numbering, so the stored bytes never depend on how
 * generated code names the enum. They equal the wire numbers today and must never be reused.
 */
const envelopeCodecByWire: ReadonlyMap<Codec, number> = new Map([[Codec.NONE, 1], [Codec.LZ4, 2], [Codec.ZSTD, 3]]);
const wireCodecByEnvelope: ReadonlyMap<number, Codec> = new Map([...envelopeCodecByWire].map(([wire, stored]) => [stored, wire]));

/** The most records bytes a StoredBatch payload can hold once the envelope is added. */
export const batchRecordsBytesMax = batchPayloadBytesMax - envelopeHeaderBytes;

/**
 * How far ahead of the broker's clock a batch's max timestamp may be. Time retention deletes the
 * oldest batches once their max timestamp is older than retention.ms, so one batch stamped far in
 * the future would pin itself and every later batch (Kafka bounds this with
 * message.timestamp.after.max.ms).
 */
export const batchTimestampAheadMsMax = 60 * 60 * 1000;

const uint32Max = 0xffff_ffff;

export interface RecordBatchContext {
  /** The partition in Kafka's form, `orders-3`: every rejection names it. */
  readonly partition: string;
  /**
   * Epoch stamped on the stored batch: the leader's current epoch when a producer's batch is
   * appended, the epoch the leader's batch carries when a follower copies it. Never the
   * producer's, who cannot know it.
   */
  readonly partitionLeaderEpoch: number;
  /** The largest `records` accepted in one batch: the topic's max_message_bytes, at most the broker's limits.maxMessageBytes. */
  readonly maxBatchBytes: number;
  /** The broker's clock; when given, timestamps more than batchTimestampAheadMsMax ahead are refused. */
  readonly nowMs?: number | undefined;
  /**
   * A follower copying its leader's batch: the leader decompressed and scanned the records before
   * storing them, and the CRC-32C checked here proves these are those bytes, so the scan (most of
   * the check's cost, a decompression included) is not repeated on every replica.
   */
  readonly recordsCheckedByLeader?: boolean;
}

/**
 * A produced batch, validated, as the StoredBatch the partition log appends with its records as
 * sent, compressed or not. Every rejection is a TributaryError naming the partition and the bad
 * value: INVALID_REQUEST for a malformed batch or a codec this broker does not support,
 * RESOURCE_EXHAUSTED for one too large, CORRUPT_RECORD when the records fail the CRC-32C it carries
 * or do not decompress to its uncompressed_bytes. The wire's base_offset and partition_leader_epoch
 * are the leader's to assign, so whatever the producer sent there is ignored.
 */
export function storedBatchFromWire(batch: RecordBatch, context: RecordBatchContext): StoredBatch {
  assertContext(context);
  const check = new BatchCheck(batch, context.partition);
  check.codec();
  check.recordCount();
  check.recordsBytes(Math.min(context.maxBatchBytes, batchRecordsBytesMax));
  check.checksum();
  check.timestamps(context.nowMs);
  check.uncompressedBytes();
  const producer = check.producer();
  if (context.recordsCheckedByLeader !== true) check.recordSet();
  const stored: StoredBatch = {
    recordCount: batch.recordCount,
    partitionLeaderEpoch: context.partitionLeaderEpoch,
    firstTimestampMs: batch.firstTimestampMs,
    maxTimestampMs: batch.maxTimestampMs,
    producer,
    payload: envelope(batch),
    // check.checksum() verified the records against this CRC just now: the log reuses it.
    payloadTailCrc32c: { fromByte: envelopeRecordsPosition, crc32c: batch.crc32c },
  };
  assert.equal(stored.payload.byteLength, envelopeHeaderBytes + batch.records.byteLength);
  return stored;
}

/**
 * A batch read back from a partition log as the RecordBatch that Fetch and ReplicateStream send,
 * with the codec, CRC-32C and uncompressed size its envelope kept. The records are a view of the
 * stored payload, not a copy. CORRUPT_RECORD naming `partition` and the offset when the envelope is
 * not one this broker writes.
 */
export function wireBatchFromStored(batch: LogBatch, partition: string): RecordBatch {
  assert.equal(batch.lastOffset - batch.baseOffset + 1, batch.recordCount, 'a stored batch takes one offset per record');
  const { payload } = batch;
  const where = `partition "${partition}" offset ${batch.baseOffset}`;
  if (payload.byteLength < envelopeHeaderBytes) {
    throw corruptBatch(where, `the batch payload is ${payload.byteLength} bytes, shorter than its ${envelopeHeaderBytes}-byte envelope`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, envelopeHeaderBytes);
  const format = view.getUint8(envelopeFormatPosition);
  if (format !== envelopeFormat) throw corruptBatch(where, `unknown batch envelope format ${format} (this broker writes ${envelopeFormat})`);
  const codec = wireCodecByEnvelope.get(view.getUint8(envelopeCodecPosition));
  if (codec === undefined) throw corruptBatch(where, `unknown codec ${view.getUint8(envelopeCodecPosition)} in the batch envelope`);
  const producer = batch.producer;
  return {
    baseOffset: batch.baseOffset,
    recordCount: batch.recordCount,
    codec,
    crc32c: view.getUint32(envelopeCrcPosition),
    records: Buffer.from(payload.buffer, payload.byteOffset + envelopeRecordsPosition, payload.byteLength - envelopeRecordsPosition),
    producerId: producer?.producerId ?? 0,
    producerEpoch: producer?.producerEpoch ?? 0,
    baseSequence: producer?.baseSequence ?? 0,
    partitionLeaderEpoch: batch.partitionLeaderEpoch,
    firstTimestampMs: batch.firstTimestampMs,
    maxTimestampMs: batch.maxTimestampMs,
    uncompressedBytes: view.getUint32(envelopeUncompressedBytesPosition),
  };
}

function assertContext(context: RecordBatchContext): void {
  const { partitionLeaderEpoch, maxBatchBytes, nowMs } = context;
  assert.ok(Number.isSafeInteger(partitionLeaderEpoch) && partitionLeaderEpoch >= 0, `partitionLeaderEpoch must be a safe non-negative integer, got ${partitionLeaderEpoch}`);
  assert.ok(Number.isSafeInteger(maxBatchBytes) && maxBatchBytes >= 1, `maxBatchBytes must be a positive integer, got ${maxBatchBytes}`);
  assert.ok(nowMs === undefined || (Number.isSafeInteger(nowMs) && nowMs >= 0), `nowMs must be a safe non-negative integer, got ${nowMs}`);
}

/** The envelope around the records exactly as the producer sent them (see the top of this file). */
function envelope(batch: RecordBatch): Uint8Array {
  const codec = envelopeCodecByWire.get(batch.codec);
  assert.ok(codec !== undefined, `codec ${batch.codec} passed validation but has no envelope number`);
  const payload = new Uint8Array(envelopeHeaderBytes + batch.records.byteLength);
  const view = new DataView(payload.buffer);
  view.setUint8(envelopeFormatPosition, envelopeFormat);
  view.setUint8(envelopeCodecPosition, codec);
  view.setUint32(envelopeCrcPosition, batch.crc32c);
  // A compressed batch's uncompressed_bytes was checked against its decompressed records; an
  // uncompressed one's is its records' size, also when the producer sent 0 for "unknown".
  view.setUint32(envelopeUncompressedBytesPosition, batch.codec === Codec.NONE ? batch.records.byteLength : batch.uncompressedBytes);
  payload.set(batch.records, envelopeRecordsPosition);
  return payload;
}

/**
 * The checks of one produced batch, each throwing a TributaryError that names the batch (its
 * record count and partition) and the bad value. Run in the order storedBatchFromWire calls them:
 * the cheap header checks first, so an oversized or mislabelled batch costs no CRC or decode.
 */
class BatchCheck {
  constructor(
    private readonly batch: RecordBatch,
    private readonly partition: string,
  ) {}

  /** Any codec this broker can decompress; the producer chooses, the broker stores what it chose. */
  codec(): void {
    const { codec } = this.batch;
    if (codec === Codec.UNSPECIFIED) throw this.invalid('codec CODEC_UNSPECIFIED (0) is never sent; send CODEC_NONE, CODEC_LZ4 or CODEC_ZSTD');
    if (!isSupportedCodec(codec)) throw this.invalid(`codec ${codec} is not a codec this broker supports; send CODEC_NONE, CODEC_LZ4 or CODEC_ZSTD`);
  }

  recordCount(): void {
    const { recordCount } = this.batch;
    if (recordCount < 1 || recordCount > batchRecordCountMax) {
      throw this.invalid(`record_count ${recordCount} is outside 1..${batchRecordCountMax}; send at least one record and at most ${batchRecordCountMax} per batch`);
    }
  }

  /** RESOURCE_EXHAUSTED as the contract says (PartitionBatch.batch), and not retriable: the same batch never fits. */
  recordsBytes(recordsBytesMax: number): void {
    const recordsBytes = this.batch.records.byteLength;
    if (recordsBytes > recordsBytesMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `${this.name()}: records are ${recordsBytes} bytes, more than the ${recordsBytesMax} this broker accepts in one batch; send smaller batches`, { retriable: false });
    }
  }

  checksum(): void {
    const computed = crc32c(this.batch.records);
    if (computed !== this.batch.crc32c) {
      throw new TributaryError('CORRUPT_RECORD', `${this.name()}: CRC32C ${hex(computed)} does not match the ${hex(this.batch.crc32c)} it carries`);
    }
  }

  timestamps(nowMs: number | undefined): void {
    const { firstTimestampMs, maxTimestampMs } = this.batch;
    if (firstTimestampMs < 0) throw this.invalid(`first_timestamp_ms ${firstTimestampMs} is negative; timestamps are milliseconds since the Unix epoch`);
    if (maxTimestampMs < 0) throw this.invalid(`max_timestamp_ms ${maxTimestampMs} is negative; timestamps are milliseconds since the Unix epoch`);
    if (firstTimestampMs > maxTimestampMs) throw this.invalid(`first_timestamp_ms ${firstTimestampMs} is after max_timestamp_ms ${maxTimestampMs}`);
    if (nowMs !== undefined && maxTimestampMs > nowMs + batchTimestampAheadMsMax) {
      throw this.invalid(`max_timestamp_ms ${maxTimestampMs} is more than ${batchTimestampAheadMsMax} ms ahead of the broker's clock (${nowMs}); check the producer's clock`);
    }
  }

  /**
   * Uncompressed: the records' size or 0 (unknown). Compressed: the size the records decompress to
   * (checked in recordSet), which bounds the decompression, so it must be given and at most
   * uncompressedRecordsBytesMax.
   */
  uncompressedBytes(): void {
    const { uncompressedBytes, records, codec } = this.batch;
    if (codec === Codec.NONE) {
      if (uncompressedBytes !== 0 && uncompressedBytes !== records.byteLength) {
        throw this.invalid(`uncompressed_bytes ${uncompressedBytes} does not match the ${records.byteLength} bytes of its uncompressed records; send ${records.byteLength} or 0`);
      }
      return;
    }
    if (uncompressedBytes < 1 || uncompressedBytes > uncompressedRecordsBytesMax) {
      throw this.invalid(`uncompressed_bytes ${uncompressedBytes} of a ${codecName(codec)} batch is outside 1..${uncompressedRecordsBytesMax}; send the size of the serialized RecordSet before compression`);
    }
  }

  /** producer_id 0 means a producer that is not idempotent, which sends no epoch or sequence either. */
  producer(): BatchProducer | undefined {
    const { producerId, producerEpoch, baseSequence } = this.batch;
    if (producerId !== 0) return { producerId, producerEpoch, baseSequence };
    if (producerEpoch !== 0 || baseSequence !== 0) {
      throw this.invalid(`producer_epoch ${producerEpoch} and base_sequence ${baseSequence} come without a producer_id; send all three (from InitProducerId) or none`);
    }
    return undefined;
  }

  /**
   * The records decode as a RecordSet of record_count records, offset_delta 0..n-1, whose
   * timestamps the batch's first and max timestamps bound exactly (retention trusts them).
   * A compressed batch is decompressed for this, once, because it is stored as sent: a batch whose
   * records do not match its header would be served to every consumer and replica as
   * CORRUPT_RECORD for as long as it is retained, and its timestamps would mislead retention and
   * ListOffsets. It stays cheap: one single-shot decompression into a buffer of exactly
   * uncompressed_bytes, dropped once checked, and a scan that reads each record's offset_delta and
   * timestamp without copying keys and values (docs/BENCHMARKS.md, "compression").
   */
  recordSet(): void {
    const { recordCount, firstTimestampMs, maxTimestampMs } = this.batch;
    const scan = this.scannedRecords();
    if (scan.recordCount !== recordCount) throw this.invalid(`records hold ${scan.recordCount} records, not the ${recordCount} of record_count`);
    const { badDelta } = scan;
    if (badDelta !== undefined) throw this.invalid(`record ${badDelta.index} has offset_delta ${badDelta.offsetDelta}; record i must have offset_delta i`);
    if (scan.smallestMs !== firstTimestampMs) throw this.invalid(`first_timestamp_ms ${firstTimestampMs} is not the smallest record timestamp, ${scan.smallestMs}`);
    if (scan.largestMs !== maxTimestampMs) throw this.invalid(`max_timestamp_ms ${maxTimestampMs} is not the largest record timestamp, ${scan.largestMs}`);
  }

  /** The record count, the first offset_delta out of place (reported after the count, which explains more) and the timestamp range. */
  private scannedRecords(): { recordCount: number; badDelta: { index: number; offsetDelta: number } | undefined; smallestMs: number; largestMs: number } {
    const { codec, records, uncompressedBytes } = this.batch;
    const uncompressed = decompressRecords(codec, records, uncompressedBytes, this.name());
    let index = 0;
    let badDelta: { index: number; offsetDelta: number } | undefined;
    let smallestMs = Number.POSITIVE_INFINITY;
    let largestMs = Number.NEGATIVE_INFINITY;
    try {
      const recordCount = scanRecordSet(uncompressed, (offsetDelta, timestampMs) => {
        if (offsetDelta !== index && badDelta === undefined) badDelta = { index, offsetDelta };
        smallestMs = Math.min(smallestMs, timestampMs);
        largestMs = Math.max(largestMs, timestampMs);
        index++;
      });
      return { recordCount, badDelta, smallestMs, largestMs };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw this.invalid(`records do not decode as a RecordSet (${reason}); send a serialized tributary.common.v1.RecordSet`);
    }
  }

  private name(): string {
    return `batch of ${this.batch.recordCount} records for partition "${this.partition}"`;
  }

  private invalid(detail: string): TributaryError {
    return new TributaryError('INVALID_REQUEST', `${this.name()}: ${detail}`);
  }
}

function corruptBatch(where: string, detail: string): TributaryError {
  return new TributaryError('CORRUPT_RECORD', `${where}: ${detail}; the batch is not served (restore it from a replica)`);
}

function hex(value: number): string {
  assert.ok(Number.isInteger(value) && value >= 0 && value <= uint32Max, `a CRC-32C is a uint32, got ${value}`);
  return `0x${value.toString(16).padStart(8, '0')}`;
}
