import type { ServiceError } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import { fromGrpcError } from '../error-status.js';
import type { RecordBatch } from '../generated/tributary/common/v1/common.js';
import {
  ConsumerServiceClient, type FetchPartitionResult, type FetchResponse, type GrantCreditResponse, type ListOffsetsResponse, type ListOffsetsResult, OffsetSpec,
  type SubscribeData, type SubscribePartitionEnd, type SubscribeRequest, type SubscribeResponse,
} from '../generated/tributary/client/v1/consumer_service.js';
import { BrokerChannels } from './broker-channels.js';
import { callMetadata, channelCredentialsFor, type ClientOptions } from './client-options.js';
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

export interface SubscribePartitionInput {
  topic: string;
  partition: number;
  /** Offset of the first record wanted; the first batch may start below it. */
  startOffset: number;
  /** 0 skips the broker's leader-epoch check. */
  currentLeaderEpoch: number;
}

export interface SubscribeInput {
  partitions: readonly SubscribePartitionInput[];
  /** Credit window asked for, in record bytes; 0 = the broker's default. */
  windowBytes: number;
  /** Most record bytes in one message; 0 = the broker's default. */
  maxMessageBytes: number;
}

/** SubscribeStarted: the id GrantCredit names, the window granted, and the broker serving it. */
export interface SubscriptionStarted {
  subscriptionId: string;
  windowBytes: number;
  nodeId: number;
}

/** One SubscribeData, its batches decoded and checked. */
export interface SubscribedRecords {
  topic: string;
  partition: number;
  /** Whole batches' records in offset order; the first may start below the start offset. */
  records: ConsumedRecord[];
  /** Credit this message used: report it consumed once the application has taken its records. */
  chargedBytes: number;
  /** CORRUPT_RECORD when a batch failed its checks: `records` holds the intact batches before it. */
  error: TributaryError | undefined;
  highWatermark: number;
  logStartOffset: number;
}

/** A partition the broker stopped delivering, and where to resume it. */
export interface SubscribedPartitionEnd {
  topic: string;
  partition: number;
  /** NOT_LEADER (with the leader hint), OFFSET_OUT_OF_RANGE, CORRUPT_RECORD, TOPIC_NOT_FOUND… */
  error: TributaryError;
  /** The first offset not delivered: where a new subscription or Fetch resumes. */
  nextOffset: number;
  logStartOffset: number;
  highWatermark: number;
}

/** What a subscription's stream delivers, in order. */
export interface SubscriptionHandlers {
  started(started: SubscriptionStarted): void;
  records(records: SubscribedRecords): void;
  partitionEnd(end: SubscribedPartitionEnd): void;
  /** The call ended: undefined when every partition ended (OK), else why. Not called after cancel(). */
  ended(error: TributaryError | undefined): void;
}

/** The client's hold on an open Subscribe call. */
export interface SubscribeCall {
  /** Stops reading the stream: HTTP/2 flow control then holds the broker back too. */
  pause(): void;
  resume(): void;
  /** Ends the call; the broker forgets the subscription. */
  cancel(): void;
}

/** A subscription's flow-control state as GrantCredit reports it. */
export interface GrantedCredit {
  /** Running total of charged bytes the broker has sent. */
  sentBytes: number;
  /** The largest running total of consumed bytes the broker has recorded. */
  consumedBytes: number;
  /** The window now in force. */
  windowBytes: number;
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
    this.channels = new BrokerChannels((address, credentials, channelOptions) => new ConsumerServiceClient(address, credentials, channelOptions), options);
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

  /**
   * Opens Subscribe on the broker at `address`, on a connection of its own (a long-lived stream
   * is worth one, and its HTTP/2 flow control then concerns it alone), closed when the call ends.
   */
  subscribe(address: string, input: SubscribeInput, handlers: SubscriptionHandlers): SubscribeCall {
    const request: SubscribeRequest = {
      header: newRequestHeader(this.options.clientId),
      partitions: input.partitions.map((partition) => ({
        topicPartition: { topic: partition.topic, partition: partition.partition },
        startOffset: partition.startOffset,
        currentLeaderEpoch: partition.currentLeaderEpoch,
      })),
      windowBytes: input.windowBytes,
      maxMessageBytes: input.maxMessageBytes,
    };
    const client = new ConsumerServiceClient(address, channelCredentialsFor(this.options.tls));
    const call = client.subscribe(request, callMetadata(this.options));
    let open = true;
    const end = (error: TributaryError | undefined): void => {
      if (!open) return;
      open = false;
      client.close();
      handlers.ended(error);
    };
    call.on('data', (response: SubscribeResponse) => {
      if (open) delivered(response, handlers);
    });
    call.on('error', (error: ServiceError) => end(fromGrpcError(error)));
    call.on('end', () => end(undefined));
    return {
      pause: () => call.pause(),
      resume: () => call.resume(),
      cancel: () => {
        if (!open) return;
        open = false;
        call.cancel();
        client.close();
      },
    };
  }

  /** Reports `consumedBytes` (a running total) of a subscription consumed, to the broker serving it; `windowBytes` 0 keeps the window. */
  async grantCredit(address: string, input: { subscriptionId: string; consumedBytes: number; windowBytes: number }): Promise<GrantedCredit> {
    const request = { header: newRequestHeader(this.options.clientId), ...input };
    const response = await this.channels.call<GrantCreditResponse>(address, this.options.deadlineMs, (stub, ...rest) => stub.grantCredit(request, ...rest));
    return { sentBytes: response.sentBytes, consumedBytes: response.consumedBytes, windowBytes: response.windowBytes };
  }

  close(): void {
    this.channels.close();
  }
}

function delivered(response: SubscribeResponse, handlers: SubscriptionHandlers): void {
  const kind = response.kind;
  if (kind?.$case === 'started') handlers.started({ ...kind.value });
  else if (kind?.$case === 'data') handlers.records(subscribedRecords(kind.value));
  else if (kind?.$case === 'partitionEnd') handlers.partitionEnd(subscribedPartitionEnd(kind.value));
}

function subscribedRecords(data: SubscribeData): SubscribedRecords {
  const { records, error } = decodedBatches(data.batches);
  const { topic, partition } = data.topicPartition ?? { topic: '', partition: 0 };
  return { topic, partition, records, chargedBytes: data.chargedBytes, error, highWatermark: data.highWatermark, logStartOffset: data.logStartOffset };
}

function subscribedPartitionEnd(end: SubscribePartitionEnd): SubscribedPartitionEnd {
  const { topic, partition } = end.topicPartition ?? { topic: '', partition: 0 };
  const error = itemErrorFromProto(end.error) ?? new TributaryError('UNKNOWN', `the broker ended partition "${topic}-${partition}" without saying why`);
  return { topic, partition, error, nextOffset: end.nextOffset, logStartOffset: end.logStartOffset, highWatermark: end.highWatermark };
}

/** The records of `batches` in order, up to the first that fails its checks (whose error comes back). */
function decodedBatches(batches: readonly RecordBatch[]): { records: ConsumedRecord[]; error: TributaryError | undefined } {
  const records: ConsumedRecord[] = [];
  for (const batch of batches) {
    try {
      // A loop, not push(...records): a batch may hold a million records, too many arguments.
      for (const record of decodeRecordBatch(batch)) records.push(record);
    } catch (decodeError) {
      // What came before the bad batch is intact and in order; the consumer stops at the bad one.
      return { records, error: TributaryError.from(decodeError) };
    }
  }
  return { records, error: undefined };
}

function fetchedPartition(result: FetchPartitionResult): FetchedPartition {
  const { records, error: decodeError } = decodedBatches(result.batches);
  const { topic, partition } = result.topicPartition ?? { topic: '', partition: 0 };
  // A batch that fails its checks is the partition's error, whatever else the broker said.
  const error = decodeError ?? itemErrorFromProto(result.error);
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
