import { TributaryError } from '../../errors/index.js';
import {
  ConsumerServiceClient, type FetchPartitionResult, type FetchResponse, type ListOffsetsResponse, type ListOffsetsResult, OffsetSpec,
} from '../generated/tributary/client/v1/consumer_service.js';
import { BrokerChannels } from './broker-channels.js';
import type { ClientOptions } from './client-options.js';
import { itemErrorFromProto } from './cluster-metadata-types.js';
import { type ConsumedRecord, decodeRecordBatch } from './record-batch-codec.js';
import { newRequestHeader } from './request-header.js';

export interface FetchPartitionInput {
  topic: string;
  partition: number;
  fetchOffset: number;
  /** Most record bytes for this partition; 0 = the server's default. */
  maxBytes: number;
  /** 0 skips the broker's leader-epoch check. */
  currentLeaderEpoch: number;
}

export interface FetchInput {
  partitions: readonly FetchPartitionInput[];
  /** How long the broker may hold the call waiting for `minBytes`; 0 answers at once. */
  maxWaitMs: number;
  minBytes: number;
  /** Most record bytes in the whole answer; 0 = the server's default. */
  maxBytes: number;
}

/** One partition's part of a Fetch answer, its batches already decoded and checked. */
export interface FetchedPartition {
  topic: string;
  partition: number;
  /**
   * Set when the partition could not be read, or when a batch failed its checks (CORRUPT_RECORD):
   * then `records` holds the batches before it, which are intact.
   */
  error: TributaryError | undefined;
  /** Whole batches' records in offset order; the first may start below the fetch offset. */
  records: ConsumedRecord[];
  highWatermark: number;
  logStartOffset: number;
}

export type OffsetQuery = 'earliest' | 'latest';

export interface ListOffsetsInput {
  topic: string;
  partition: number;
  spec: OffsetQuery;
  currentLeaderEpoch: number;
}

export interface ListedOffsets {
  topic: string;
  partition: number;
  error: TributaryError | undefined;
  /** The resolved offset: the log start offset for `earliest`, the high watermark for `latest`. */
  offset: number;
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
  leaderEpoch: number;
}

const specOf: Record<OffsetQuery, OffsetSpec> = { earliest: OffsetSpec.EARLIEST, latest: OffsetSpec.LATEST };

/**
 * `tributary.client.v1.ConsumerService` Fetch and ListOffsets for the SDK and CLI, against the
 * broker at `address` (the leader of the partitions asked). Per-partition failures come back in
 * the results; only whole-call failures reject.
 */
export class ConsumerClient {
  private readonly channels: BrokerChannels<ConsumerServiceClient>;

  constructor(readonly options: ClientOptions) {
    this.channels = new BrokerChannels((address, credentials) => new ConsumerServiceClient(address, credentials), options);
  }

  async fetch(address: string, input: FetchInput): Promise<FetchedPartition[]> {
    const request = {
      header: newRequestHeader(this.options.clientId),
      partitions: input.partitions.map((partition) => ({
        topicPartition: { topic: partition.topic, partition: partition.partition },
        fetchOffset: partition.fetchOffset,
        maxBytes: partition.maxBytes,
        currentLeaderEpoch: partition.currentLeaderEpoch,
      })),
      maxWaitMs: input.maxWaitMs,
      minBytes: input.minBytes,
      maxBytes: input.maxBytes,
    };
    // The broker may hold the call for maxWaitMs before it answers; the deadline comes after that.
    const deadlineMs = input.maxWaitMs + this.options.deadlineMs;
    const response = await this.channels.call<FetchResponse>(address, deadlineMs, (stub, ...rest) => stub.fetch(request, ...rest));
    return response.results.map(fetchedPartition);
  }

  async listOffsets(address: string, partitions: readonly ListOffsetsInput[]): Promise<ListedOffsets[]> {
    const request = {
      header: newRequestHeader(this.options.clientId),
      partitions: partitions.map((partition) => ({
        topicPartition: { topic: partition.topic, partition: partition.partition },
        spec: specOf[partition.spec],
        timestampMs: 0,
        currentLeaderEpoch: partition.currentLeaderEpoch,
      })),
    };
    const response = await this.channels.call<ListOffsetsResponse>(address, this.options.deadlineMs, (stub, ...rest) => stub.listOffsets(request, ...rest));
    return response.results.map(listedOffsets);
  }

  close(): void {
    this.channels.close();
  }
}

function fetchedPartition(result: FetchPartitionResult): FetchedPartition {
  const records: ConsumedRecord[] = [];
  let error = itemErrorFromProto(result.error);
  for (const batch of result.batches) {
    try {
      // A loop, not push(...records): a batch may hold a million records, too many arguments.
      for (const record of decodeRecordBatch(batch)) records.push(record);
    } catch (decodeError) {
      // What came before the bad batch is intact and in order; the consumer stops at the bad one.
      error = TributaryError.from(decodeError);
      break;
    }
  }
  const { topic, partition } = result.topicPartition ?? { topic: '', partition: 0 };
  return { topic, partition, error, records, highWatermark: result.highWatermark, logStartOffset: result.logStartOffset };
}

function listedOffsets(result: ListOffsetsResult): ListedOffsets {
  const { topic, partition } = result.topicPartition ?? { topic: '', partition: 0 };
  return {
    topic,
    partition,
    error: itemErrorFromProto(result.error),
    offset: result.offset,
    logStartOffset: result.logStartOffset,
    highWatermark: result.highWatermark,
    logEndOffset: result.logEndOffset,
    leaderEpoch: result.leaderEpoch,
  };
}
