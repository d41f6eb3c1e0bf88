import type { LeaderRead, PartitionLeader } from '../../actors/partition-replica/partition-leader.js';
import type { TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import { toErrorDetail } from '../error-status.js';
import type { RecordBatch } from '../generated/tributary/common/v1/common.js';
import type { SubscribeData, SubscribePartitionEnd } from '../generated/tributary/client/v1/consumer_service.js';
import type { BrokerPartitions } from './broker-partitions.js';
import { wireBatchFromStored } from './record-batch-mapping.js';
import { reportedError } from './reported-error.js';
import type { SubscribedPartition } from './subscribe-plan.js';

/** What the next message of a partition may carry, from the subscription's credit. */
export interface MessageRoom {
  /** Record bytes the credit window has left; 0 with something outstanding reads nothing. */
  readonly windowBytes: number;
  /** Nothing is outstanding: the first batch goes whatever its size, alone. */
  readonly nothingOutstanding: boolean;
  /** Record bytes of one message (max_message_bytes); a larger first batch still goes, alone in it. */
  readonly messageBytesMax: number;
  /** Most batches in one message: each adds its framing beside its records. */
  readonly batchesMax: number;
}

/** What one look at a partition found. */
export type PartitionStep =
  | { readonly kind: 'data'; readonly data: SubscribeData }
  | { readonly kind: 'end'; readonly end: SubscribePartitionEnd }
  /** Its next batch does not fit the window (or the window is spent): it waits for credit. */
  | { readonly kind: 'blocked'; readonly leader: PartitionLeader }
  /** Nothing below the high watermark to send: it waits for the high watermark to move. */
  | { readonly kind: 'caught-up'; readonly leader: PartitionLeader; readonly highWatermark: number }
  /** The partition is being opened here or its new leader has not caught up: look again shortly. */
  | { readonly kind: 'unavailable' };

export interface SubscribeReadContext {
  readonly partitions: BrokerPartitions;
  readonly logger: Logger;
}

/** Batches taken for the next message so far. */
interface TakenBatches {
  readonly batches: RecordBatch[];
  bytes: number;
}

/** Record bytes the message may still take: what the message bound and the window leave (the first batch aside). */
function remainingBytes(room: MessageRoom, taken: TakenBatches): number {
  if (taken.batches.length >= room.batchesMax) return 0;
  const message = room.messageBytesMax - taken.bytes;
  return taken.batches.length === 0 && room.nothingOutstanding ? message : Math.min(message, room.windowBytes - taken.bytes);
}

/**
 * The next SubscribeData of `partition` within `room`, read from its leader here, whole batches
 * below the high watermark only; or why there is none. Errors that end the partition (NOT_LEADER
 * with the hint, OFFSET_OUT_OF_RANGE, CORRUPT_RECORD, TOPIC_NOT_FOUND…) come back as its
 * SubscribePartitionEnd; SHUTTING_DOWN is thrown, since it ends the whole subscription.
 */
export async function readSubscribedPartition(partition: SubscribedPartition, room: MessageRoom, context: SubscribeReadContext): Promise<PartitionStep> {
  let leader: PartitionLeader | undefined;
  try {
    leader = context.partitions.leaderFor(partition.topicPartition, partition.currentLeaderEpoch);
    if (room.windowBytes <= 0 && !room.nothingOutstanding) return { kind: 'blocked', leader };
    const read = await leader.read(partition.nextOffset, Math.max(1, remainingBytes(room, { batches: [], bytes: 0 })));
    if (read.batches.length === 0) return { kind: 'caught-up', leader, highWatermark: read.highWatermark };
    const taken: TakenBatches = { batches: [], bytes: 0 };
    const last = await takeBatches(leader, read, room, taken);
    if (taken.batches.length === 0) return { kind: 'blocked', leader };
    return { kind: 'data', data: dataOf(partition, taken, last) };
  } catch (error) {
    return stepAfter(error, partition, leader, context);
  }
}

/**
 * Takes batches from `read` on while they fit, reading on from where a read taken whole ended:
 * the log cuts a read by stored bytes, a little more than the record bytes the room counts.
 * A failure after something was taken ends the message there; the next look meets it again
 * first, and then it ends the partition. Answers the last read, for its bounds.
 */
async function takeBatches(leader: PartitionLeader, first: LeaderRead, room: MessageRoom, taken: TakenBatches): Promise<LeaderRead> {
  let read = first;
  try {
    for (;;) {
      const whole = takeFrom(read, room, taken, leader.partition);
      const last = read.batches.at(-1);
      if (!whole || last === undefined || remainingBytes(room, taken) <= 0) return read;
      read = await leader.read(last.lastOffset + 1, remainingBytes(room, taken));
    }
  } catch (error) {
    if (taken.batches.length === 0) throw error;
    return read;
  }
}

/**
 * Takes the batches of `read` that fit the room, in order: within the message bound (the first
 * batch whatever its size) and the window (the first whatever its size when nothing is
 * outstanding). Answers whether it took them all.
 */
function takeFrom(read: LeaderRead, room: MessageRoom, taken: TakenBatches, partitionName: string): boolean {
  for (const stored of read.batches) {
    const batch = wireBatchFromStored(stored, partitionName);
    const size = batch.records.byteLength;
    if (taken.batches.length > 0 && size > remainingBytes(room, taken)) return false;
    if (taken.batches.length === 0 && !room.nothingOutstanding && size > room.windowBytes) return false;
    taken.batches.push(batch);
    taken.bytes += size;
  }
  return true;
}

function dataOf(partition: SubscribedPartition, taken: TakenBatches, read: LeaderRead): SubscribeData {
  return { topicPartition: partition.topicPartition, batches: taken.batches, chargedBytes: taken.bytes, highWatermark: read.highWatermark, logStartOffset: read.logStartOffset };
}

/**
 * What a failed look means. NOT_AVAILABLE is passing (a partition being opened, a new leader not
 * caught up). A read refused by a leader that resigned meanwhile carries no hint, so the lookup
 * is asked again: it names the new leader from the metadata, or finds this broker leading again.
 */
function stepAfter(error: unknown, partition: SubscribedPartition, leader: PartitionLeader | undefined, context: SubscribeReadContext): PartitionStep {
  const reported = reportedError(error, partition.topicPartition, context.logger, 'subscribe');
  if (reported.code === 'SHUTTING_DOWN') throw reported;
  if (reported.code === 'NOT_AVAILABLE') return { kind: 'unavailable' };
  if (reported.code === 'NOT_LEADER' && reported.leaderHint === undefined && leader !== undefined) {
    try {
      context.partitions.leaderFor(partition.topicPartition, partition.currentLeaderEpoch);
      return { kind: 'unavailable' };
    } catch (lookupError) {
      return stepAfter(lookupError, partition, undefined, context);
    }
  }
  return { kind: 'end', end: endOf(partition, reported, leader) };
}

/** The partition's end at the first offset not delivered, with its bounds when its leader here still knows them. */
function endOf(partition: SubscribedPartition, error: TributaryError, leader: PartitionLeader | undefined): SubscribePartitionEnd {
  return {
    topicPartition: partition.topicPartition,
    error: toErrorDetail(error),
    nextOffset: partition.nextOffset,
    logStartOffset: leader?.logStartOffset() ?? 0,
    highWatermark: leader?.highWatermark() ?? 0,
  };
}
