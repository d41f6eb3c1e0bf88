import type { LeaderRead, PartitionLeader } from '../../actors/partition-replica/partition-leader.js';
import type { TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import { toErrorDetail } from '../error-status.js';
import type { RecordBatch, TopicPartition } from '../generated/tributary/common/v1/common.js';
import type { FetchPartitionResult, FetchRequest } from '../generated/tributary/client/v1/consumer_service.js';
import type { BrokerPartitions } from './broker-partitions.js';
import type { BrokerServiceSettings } from './broker-service-settings.js';
import { leaderBounds } from './leader-bounds.js';
import { wireBatchFromStored } from './record-batch-mapping.js';
import { reportedError } from './reported-error.js';
import { checkRequestPartitions } from './request-partitions.js';

/** One partition of a Fetch, its max_bytes resolved. */
export interface PlannedPartition {
  readonly topicPartition: TopicPartition;
  readonly fetchOffset: number;
  readonly maxBytes: number;
  readonly currentLeaderEpoch: number;
}

/** A Fetch request checked and clamped to the server's bounds. */
export interface FetchPlan {
  readonly partitions: readonly PlannedPartition[];
  readonly waitMs: number;
  /** Record bytes that end the wait early: min_bytes, at least 1, at most the response's max_bytes. */
  readonly minBytes: number;
  readonly maxBytes: number;
}

/** What one pass over the partitions found. */
export interface FetchRound {
  readonly results: FetchPartitionResult[];
  readonly recordBytes: number;
  /** Whether any partition answered an error: the Fetch answers at once then. */
  readonly failed: boolean;
  /** Each partition's leader and the high watermark this pass read at: what a long-poll waits to change. */
  readonly watched: ReadonlyArray<{ readonly partition: PlannedPartition; readonly leader: PartitionLeader; readonly highWatermark: number }>;
}

export interface FetchRoundContext {
  readonly partitions: BrokerPartitions;
  readonly settings: BrokerServiceSettings;
  readonly logger: Logger;
}

/** The Fetch request as a plan; INVALID_REQUEST for a malformed partition list. */
export function fetchPlanOf(request: FetchRequest, settings: BrokerServiceSettings): FetchPlan {
  const topicPartitions = checkRequestPartitions({ method: 'Fetch', field: 'partitions' }, request.partitions.map((entry) => entry.topicPartition), settings.requestPartitionsMax);
  const maxBytes = Math.min(request.maxBytes === 0 ? settings.fetchResponseBytesDefault : request.maxBytes, settings.fetchResponseBytesMax);
  const partitions = request.partitions.map((entry, position) => ({
    topicPartition: topicPartitions[position] as TopicPartition,
    fetchOffset: entry.fetchOffset,
    maxBytes: Math.min(entry.maxBytes === 0 ? settings.fetchPartitionBytesDefault : entry.maxBytes, maxBytes),
    currentLeaderEpoch: entry.currentLeaderEpoch,
  }));
  return { partitions, waitMs: Math.min(request.maxWaitMs, settings.fetchWaitMsMax), minBytes: Math.min(Math.max(request.minBytes, 1), maxBytes), maxBytes };
}

/** The response's remaining room, shared by its partitions in request order. */
interface ResponseBudget {
  bytes: number;
  batches: number;
  /** Batches taken so far: the first one of the response is taken whatever its size. */
  taken: number;
}

/**
 * One pass: each partition in request order reads from its fetch offset within its own max_bytes
 * and what the response has left, whole batches below the high watermark only. Once the response
 * is full, the remaining partitions report their bounds without reading, so their fetch offsets
 * are checked on a later Fetch (clients rotate the order).
 */
export async function readFetchRound(plan: FetchPlan, context: FetchRoundContext): Promise<FetchRound> {
  const budget: ResponseBudget = { bytes: plan.maxBytes, batches: context.settings.fetchResponseBatchesMax, taken: 0 };
  const results: FetchPartitionResult[] = [];
  const watched: Array<FetchRound['watched'][number]> = [];
  let recordBytes = 0;
  for (const partition of plan.partitions) {
    const { result, leader, bytes } = await readPartition(partition, budget, context);
    results.push(result);
    recordBytes += bytes;
    if (leader !== undefined && result.error === undefined) watched.push({ partition, leader, highWatermark: result.highWatermark });
  }
  return { results, recordBytes, failed: results.some((result) => result.error !== undefined), watched };
}

interface PartitionRead {
  readonly result: FetchPartitionResult;
  readonly leader: PartitionLeader | undefined;
  readonly bytes: number;
}

async function readPartition(partition: PlannedPartition, budget: ResponseBudget, context: FetchRoundContext): Promise<PartitionRead> {
  const { topicPartition } = partition;
  let leader: PartitionLeader | undefined;
  try {
    leader = context.partitions.leaderFor(topicPartition, partition.currentLeaderEpoch);
    if (budget.bytes <= 0 || budget.batches <= 0) return { result: { ...boundsResult(topicPartition, await leaderBounds(leader)), batches: [], error: undefined }, leader, bytes: 0 };
    return { ...(await collectBatches(leader, partition, budget, context.logger)), leader };
  } catch (error) {
    return { result: failedResult(topicPartition, leader, reportedError(error, topicPartition, context.logger, 'fetch')), leader, bytes: 0 };
  }
}

/** Batches taken for one partition so far. */
interface TakenBatches {
  readonly batches: RecordBatch[];
  bytes: number;
}

/** Record bytes the partition may still take: what its max_bytes and the response's room leave. */
function roomOf(partition: PlannedPartition, budget: ResponseBudget, taken: TakenBatches): number {
  return budget.batches > 0 ? Math.min(partition.maxBytes - taken.bytes, budget.bytes) : 0;
}

/**
 * Reads from the fetch offset while the partition and the response have room. The log cuts a read
 * by stored bytes, a little more than the record bytes the budgets count, so a read that was
 * taken whole is followed by one from where it ended. A batch that fails its checks, or a read
 * that fails after the first, ends the partition with that error and the batches before it.
 */
async function collectBatches(leader: PartitionLeader, partition: PlannedPartition, budget: ResponseBudget, logger: Logger): Promise<Omit<PartitionRead, 'leader'>> {
  const taken: TakenBatches = { batches: [], bytes: 0 };
  let read = await leader.read(partition.fetchOffset, Math.max(1, roomOf(partition, budget, taken)));
  try {
    for (;;) {
      const whole = takeBatches(leader, read, partition, budget, taken);
      const last = read.batches.at(-1);
      if (!whole || last === undefined || roomOf(partition, budget, taken) <= 0) break;
      read = await leader.read(last.lastOffset + 1, roomOf(partition, budget, taken));
    }
  } catch (error) {
    const detail = toErrorDetail(reportedError(error, partition.topicPartition, logger, 'fetch'));
    return { result: { ...boundsResult(partition.topicPartition, read), batches: taken.batches, error: detail }, bytes: taken.bytes };
  }
  return { result: { ...boundsResult(partition.topicPartition, read), batches: taken.batches, error: undefined }, bytes: taken.bytes };
}

/**
 * Takes the batches of `read` that fit the partition's max_bytes and the response's room; the
 * first batch of the response is taken whatever its size, so a consumer never stalls on a large
 * batch. Answers whether it took them all.
 */
function takeBatches(leader: PartitionLeader, read: LeaderRead, partition: PlannedPartition, budget: ResponseBudget, taken: TakenBatches): boolean {
  for (const stored of read.batches) {
    const batch = wireBatchFromStored(stored, leader.partition);
    const size = batch.records.byteLength;
    const fits = taken.bytes + size <= partition.maxBytes && size <= budget.bytes && budget.batches > 0;
    if (!fits && budget.taken > 0) return false;
    taken.batches.push(batch);
    taken.bytes += size;
    budget.bytes -= size;
    budget.batches -= 1;
    budget.taken += 1;
  }
  return true;
}

function boundsResult(topicPartition: TopicPartition, read: LeaderRead): Omit<FetchPartitionResult, 'batches' | 'error'> {
  return { topicPartition, highWatermark: read.highWatermark, logStartOffset: read.logStartOffset };
}

/** An error result; OFFSET_OUT_OF_RANGE carries the partition's bounds so the consumer can choose where to resume. */
function failedResult(topicPartition: TopicPartition, leader: PartitionLeader | undefined, error: TributaryError): FetchPartitionResult {
  const known = error.code === 'OFFSET_OUT_OF_RANGE' && leader !== undefined;
  return {
    topicPartition,
    error: toErrorDetail(error),
    batches: [],
    highWatermark: known ? (leader.highWatermark() ?? 0) : 0,
    logStartOffset: known ? leader.logStartOffset() : 0,
  };
}

