import type { LeaderRead, PartitionLeader } from '../../actors/partition-replica/partition-leader.js';
import { TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import type { LogBatch } from '../../storage/index.js';
import { decompressRecords } from '../batch-compression.js';
import { toErrorDetail } from '../error-status.js';
import { RecordSet, type TopicPartition } from '../generated/tributary/common/v1/common.js';
import { type ListOffsetsPartition, type ListOffsetsRequest, type ListOffsetsResponse, type ListOffsetsResult, OffsetSpec } from '../generated/tributary/client/v1/consumer_service.js';
import type { BrokerPartitions } from './broker-partitions.js';
import type { BrokerServiceSettings } from './broker-service-settings.js';
import { leaderBounds } from './leader-bounds.js';
import { wireBatchFromStored } from './record-batch-mapping.js';
import { reportedError } from './reported-error.js';
import { checkRequestPartitions } from './request-partitions.js';

export interface ListOffsetsContext {
  readonly partitions: BrokerPartitions;
  readonly settings: BrokerServiceSettings;
  readonly logger: Logger;
}

/** The offset a spec resolved to, with the timestamp and leader epoch ListOffsetsResult reports. */
interface ResolvedOffset {
  readonly offset: number;
  readonly timestampMs: number;
  readonly leaderEpoch: number;
}

/** The wire's "no timestamp" in ListOffsetsResult.timestamp_ms. */
const noTimestampMs = -1;

/** ListOffsets: one result per partition, in request order; a partition's failure is its result's error. */
export async function listOffsets(request: ListOffsetsRequest, context: ListOffsetsContext): Promise<ListOffsetsResponse> {
  const topicPartitions = checkRequestPartitions({ method: 'ListOffsets', field: 'partitions' }, request.partitions.map((entry) => entry.topicPartition), context.settings.requestPartitionsMax);
  context.partitions.assertServing();
  const results = request.partitions.map((entry, position) => resolveEntry(entry, topicPartitions[position] as TopicPartition, context));
  return { results: await Promise.all(results) };
}

async function resolveEntry(entry: ListOffsetsPartition, topicPartition: TopicPartition, context: ListOffsetsContext): Promise<ListOffsetsResult> {
  try {
    checkSpec(entry);
    const leader = context.partitions.leaderFor(topicPartition, entry.currentLeaderEpoch);
    const bounds = await leaderBounds(leader);
    const resolved = await resolveSpec(entry, leader, bounds, context.settings);
    const { logStartOffset, highWatermark, logEndOffset } = bounds;
    return { topicPartition, error: undefined, ...resolved, logStartOffset, highWatermark, logEndOffset };
  } catch (error) {
    const detail = toErrorDetail(reportedError(error, topicPartition, context.logger, 'list offsets'));
    return { topicPartition, error: detail, offset: 0, timestampMs: noTimestampMs, leaderEpoch: 0, logStartOffset: 0, highWatermark: 0, logEndOffset: 0 };
  }
}

function checkSpec(entry: ListOffsetsPartition): void {
  const { spec, timestampMs } = entry;
  if (spec === OffsetSpec.UNSPECIFIED) throw new TributaryError('INVALID_REQUEST', 'spec OFFSET_SPEC_UNSPECIFIED (0) is never sent; send OFFSET_SPEC_EARLIEST, OFFSET_SPEC_LATEST or OFFSET_SPEC_TIMESTAMP');
  if (spec !== OffsetSpec.EARLIEST && spec !== OffsetSpec.LATEST && spec !== OffsetSpec.TIMESTAMP) {
    throw new TributaryError('INVALID_REQUEST', `spec ${String(spec)} is not a known OffsetSpec; send OFFSET_SPEC_EARLIEST, OFFSET_SPEC_LATEST or OFFSET_SPEC_TIMESTAMP`);
  }
  if (spec === OffsetSpec.TIMESTAMP && timestampMs < 0) throw new TributaryError('INVALID_REQUEST', `timestamp_ms ${timestampMs} is negative; timestamps are milliseconds since the Unix epoch`);
}

async function resolveSpec(entry: ListOffsetsPartition, leader: PartitionLeader, bounds: LeaderRead, settings: BrokerServiceSettings): Promise<ResolvedOffset> {
  if (entry.spec === OffsetSpec.LATEST) return { offset: bounds.highWatermark, timestampMs: noTimestampMs, leaderEpoch: leader.leaderEpoch };
  if (entry.spec === OffsetSpec.EARLIEST) return { offset: bounds.logStartOffset, timestampMs: noTimestampMs, leaderEpoch: await epochAt(leader, bounds) };
  return firstAtOrAfter(leader, bounds, entry.timestampMs, settings);
}

/** The leader epoch of the batch holding the log start offset; the current epoch when nothing is readable. */
async function epochAt(leader: PartitionLeader, bounds: LeaderRead): Promise<number> {
  if (bounds.logStartOffset >= bounds.highWatermark) return leader.leaderEpoch;
  const { batches } = await leader.read(bounds.logStartOffset, 1);
  return batches[0]?.partitionLeaderEpoch ?? leader.leaderEpoch;
}

/**
 * The first offset below the high watermark whose record timestamp is at or after `targetMs`, by
 * reading the log from its start: batches whose max timestamp is earlier are skipped without
 * decoding, the first that reaches it is searched record by record (timestamps need not grow with
 * offsets). Without a time index (a later improvement) this reads the log, so it reads at most
 * timestampScanBytesMax and then answers RESOURCE_EXHAUSTED naming how far it got.
 */
async function firstAtOrAfter(leader: PartitionLeader, bounds: LeaderRead, targetMs: number, settings: BrokerServiceSettings): Promise<ResolvedOffset> {
  const { highWatermark } = bounds;
  let offset = bounds.logStartOffset;
  let scannedBytes = 0;
  while (offset < highWatermark) {
    if (scannedBytes >= settings.timestampScanBytesMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `partition "${leader.partition}": no record at or after timestamp ${targetMs} in the ${scannedBytes} bytes from offset ${bounds.logStartOffset} to ${offset}; a timestamp search reads at most ${settings.timestampScanBytesMax} bytes, so fetch from offset ${offset} instead`, { retriable: false });
    }
    // The bounds' high watermark, not the read's (it may have moved): the answer stays consistent with the bounds reported.
    const batches = (await leader.read(offset, settings.timestampScanReadBytes)).batches.filter((batch) => batch.lastOffset < highWatermark);
    for (const batch of batches) {
      const found = batch.maxTimestampMs >= targetMs ? recordAtOrAfter(batch, offset, targetMs, leader.partition) : undefined;
      if (found !== undefined) return found;
      scannedBytes += batch.payload.byteLength;
    }
    const last = batches.at(-1);
    if (last === undefined) break;
    offset = last.lastOffset + 1;
  }
  return { offset: highWatermark, timestampMs: noTimestampMs, leaderEpoch: leader.leaderEpoch };
}

/**
 * The first record of `batch` at or after `fromOffset` whose timestamp reaches `targetMs`. Only a
 * batch whose max timestamp reaches the target gets here, and it holds the answer unless its match
 * lies before the log start, so a search decompresses one or two batches, each into no more than
 * its uncompressed_bytes.
 */
function recordAtOrAfter(batch: LogBatch, fromOffset: number, targetMs: number, partition: string): ResolvedOffset | undefined {
  const wire = wireBatchFromStored(batch, partition);
  const where = `partition "${partition}" offset ${batch.baseOffset}`;
  let records: RecordSet['records'];
  try {
    records = RecordSet.decode(decompressRecords(wire.codec, wire.records, wire.uncompressedBytes, where)).records;
  } catch (error) {
    const reason = error instanceof TributaryError ? error.message : `${where}: the stored records do not decode (${String(error)})`;
    throw new TributaryError('CORRUPT_RECORD', `${reason}; the batch is not served (restore it from a replica)`);
  }
  for (const record of records) {
    const offset = batch.baseOffset + record.offsetDelta;
    if (offset >= fromOffset && record.timestampMs >= targetMs) return { offset, timestampMs: record.timestampMs, leaderEpoch: batch.partitionLeaderEpoch };
  }
  return undefined;
}
