import assert from 'node:assert/strict';
import type { ChannelCredentials, ClientDuplexStream } from '@grpc/grpc-js';
import { noEpoch, type EpochEndOffset } from '../../broker/index.js';
import { TributaryError } from '../../errors/index.js';
import type { StoredBatch } from '../../storage/index.js';
import { fromErrorDetail, fromGrpcError } from '../error-status.js';
import {
  BrokerReplicationServiceClient, type PartitionFetchResult, type ReplicateAck, type ReplicateFetch, type ReplicateStreamRequest, type ReplicateStreamResponse,
} from '../generated/tributary/broker/v1/broker_replication_service.js';
import { batchRecordsBytesMax, storedBatchFromWire } from '../services/record-batch-mapping.js';
import { transportChannelOptions } from '../transport-windows.js';
import { callMetadata } from './client-options.js';
import { newRequestHeader } from './request-header.js';

/** Who opens a replication stream, and to which leader broker. */
export interface ReplicationStreamOpen {
  readonly replicaId: number;
  readonly incarnationEpoch: number;
  readonly leaderId: number;
  readonly clusterId: string;
}

/** One partition's fetch state as the follower lists it (domain epochs: `noEpoch` for an empty log). */
export interface PartitionFetchState {
  readonly topic: string;
  readonly partition: number;
  readonly topicId: string;
  readonly currentLeaderEpoch: number;
  readonly fetchOffset: number;
  readonly lastFetchedEpoch: number;
  readonly durableEndOffset: number;
  readonly logStartOffset: number;
  readonly partitionMaxBytes: number;
}

/** A partition's durable end, reported between fetches (ReplicateAck). */
export interface DurableEndReport {
  readonly topic: string;
  readonly partition: number;
  readonly currentLeaderEpoch: number;
  readonly durableEndOffset: number;
}

export interface ReplicaFetchCall {
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  /** Partitions new to the session or whose state changed since the previous fetch. */
  readonly partitions: readonly PartitionFetchState[];
  readonly removed: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
}

/** A batch the leader sent, validated (CRC-32C and shape), with the offset it must land at. */
export interface ReplicatedBatch {
  readonly baseOffset: number;
  readonly batch: StoredBatch;
}

/** The leader's answer for one partition, in domain terms. */
export interface PartitionFetchOutcome {
  readonly topic: string;
  readonly partition: number;
  /** Set when the partition failed, including a batch that failed validation (CORRUPT_RECORD): batches before it are kept. */
  readonly error: TributaryError | undefined;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly leaderEpoch: number;
  readonly batches: readonly ReplicatedBatch[];
  readonly diverging: EpochEndOffset | undefined;
}

export interface ReplicationStreamOptions {
  readonly address: string;
  readonly credentials: ChannelCredentials;
  readonly token: string | undefined;
  readonly clientId: string;
  readonly open: ReplicationStreamOpen;
  /** Bound on waiting for `opened`, and on each fetch beyond its own max wait. */
  readonly answerTimeoutMs: number;
}

interface PendingAnswer {
  readonly resolve: (response: ReplicateStreamResponse) => void;
  readonly reject: (error: TributaryError) => void;
}

/**
 * A follower's ReplicateStream to one leader broker: `open` is answered by `opened`, then one fetch
 * at a time, each answered by its result. Any failure of the call (the leader died, refused the
 * stream, or took longer than the bound to answer) rejects the answer awaited and ends the stream;
 * the fetcher opens a new one. Wire epochs are mapped here: 0 on the wire is `noEpoch`.
 */
export class ReplicationStream {
  private readonly client: BrokerReplicationServiceClient;
  private readonly call: ClientDuplexStream<ReplicateStreamRequest, ReplicateStreamResponse>;
  private pending: PendingAnswer | undefined;
  private failure: TributaryError | undefined;
  private nextFetchId = 1;

  private constructor(private readonly options: ReplicationStreamOptions) {
    this.client = new BrokerReplicationServiceClient(options.address, options.credentials, transportChannelOptions);
    this.call = this.client.replicateStream(callMetadata({ token: options.token }));
    this.call.on('data', (response: ReplicateStreamResponse) => this.answered(response));
    this.call.on('error', (error) => this.fail(fromGrpcError(error as Parameters<typeof fromGrpcError>[0])));
    this.call.on('end', () => this.fail(new TributaryError('NOT_AVAILABLE', `the leader at ${options.address} ended the replication stream`)));
  }

  /** Opens a stream and waits for the leader to accept it; the leader's incarnation epoch comes back. */
  static async open(options: ReplicationStreamOptions): Promise<{ stream: ReplicationStream; leaderIncarnationEpoch: number }> {
    const stream = new ReplicationStream(options);
    const { open } = options;
    try {
      const response = await stream.exchange({ header: newRequestHeader(options.clientId), kind: { $case: 'open', value: open } }, options.answerTimeoutMs);
      if (response.kind?.$case !== 'opened') throw new TributaryError('INVALID_REQUEST', `the leader at ${options.address} answered open with ${response.kind?.$case ?? 'nothing'}`);
      if (response.kind.value.leaderId !== open.leaderId) {
        throw new TributaryError('INVALID_REQUEST', `the broker at ${options.address} is node ${response.kind.value.leaderId}, not leader ${open.leaderId}`);
      }
      return { stream, leaderIncarnationEpoch: response.kind.value.leaderIncarnationEpoch };
    } catch (error) {
      stream.close();
      throw error;
    }
  }

  /** Sends one fetch and waits for its result (at most its max wait plus the answer bound). */
  async fetch(request: ReplicaFetchCall): Promise<PartitionFetchOutcome[]> {
    const fetchId = this.nextFetchId++;
    const wire = replicateFetchToWire(fetchId, request);
    const response = await this.exchange({ kind: { $case: 'fetch', value: wire } }, request.maxWaitMs + this.options.answerTimeoutMs);
    if (response.kind?.$case !== 'fetchResult' || response.kind.value.fetchId !== fetchId) {
      const got = response.kind?.$case === 'fetchResult' ? `the result of fetch ${response.kind.value.fetchId}` : (response.kind?.$case ?? 'nothing');
      throw this.ended(new TributaryError('INVALID_REQUEST', `the leader at ${this.options.address} answered fetch ${fetchId} with ${got}`));
    }
    return response.kind.value.partitions.map(partitionFetchOutcomeFromWire);
  }

  /** Reports durable ends between fetches (ReplicateAck); the leader answers nothing. Dropped on a broken stream. */
  ack(reports: readonly DurableEndReport[]): void {
    if (this.failure !== undefined || reports.length === 0) return;
    this.call.write({ kind: { $case: 'ack', value: replicateAckToWire(reports) } });
  }

  close(): void {
    this.fail(new TributaryError('NOT_AVAILABLE', 'the replication stream was closed'));
  }

  private exchange(request: ReplicateStreamRequest, timeoutMs: number): Promise<ReplicateStreamResponse> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    assert.ok(this.pending === undefined, 'one request at a time on a replication stream');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new TributaryError('TIMEOUT', `the leader at ${this.options.address} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        this.pending = undefined;
      };
      this.pending = {
        resolve: (response) => {
          settle();
          resolve(response);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      this.call.write(request);
    });
  }

  private answered(response: ReplicateStreamResponse): void {
    const pending = this.pending;
    if (pending === undefined) {
      this.fail(new TributaryError('INVALID_REQUEST', `the leader at ${this.options.address} sent ${response.kind?.$case ?? 'a message'} nobody asked for`));
      return;
    }
    pending.resolve(response);
  }

  private ended(error: TributaryError): TributaryError {
    this.fail(error);
    return error;
  }

  private fail(error: TributaryError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.pending?.reject(error);
    this.call.cancel();
    this.client.close();
  }
}

/** A fetch as the wire carries it; the follower's `noEpoch` travels as 0. */
export function replicateFetchToWire(fetchId: number, request: ReplicaFetchCall): ReplicateFetch {
  return {
    fetchId,
    maxWaitMs: request.maxWaitMs,
    minBytes: request.minBytes,
    maxBytes: request.maxBytes,
    partitions: request.partitions.map((state) => ({
      topicPartition: { topic: state.topic, partition: state.partition },
      topicId: state.topicId,
      currentLeaderEpoch: state.currentLeaderEpoch,
      fetchOffset: state.fetchOffset,
      lastFetchedEpoch: state.lastFetchedEpoch === noEpoch ? 0 : state.lastFetchedEpoch,
      durableEndOffset: state.durableEndOffset,
      logStartOffset: state.logStartOffset,
      partitionMaxBytes: state.partitionMaxBytes,
    })),
    removedPartitions: request.removed.map(({ topic, partition }) => ({ topic, partition })),
  };
}

export function replicateAckToWire(reports: readonly DurableEndReport[]): ReplicateAck {
  return { partitions: reports.map(({ topic, partition, currentLeaderEpoch, durableEndOffset }) => ({ topicPartition: { topic, partition }, currentLeaderEpoch, durableEndOffset })) };
}

/** One partition's result in domain terms, its batches validated. */
export function partitionFetchOutcomeFromWire(result: PartitionFetchResult): PartitionFetchOutcome {
  const topic = result.topicPartition?.topic ?? '';
  const partition = result.topicPartition?.partition ?? 0;
  const { batches, error } = validatedBatches(result, `${topic}-${partition}`);
  return {
    topic,
    partition,
    error: result.error === undefined ? error : fromErrorDetail(result.error),
    highWatermark: result.highWatermark,
    logStartOffset: result.logStartOffset,
    logEndOffset: result.logEndOffset,
    leaderEpoch: result.leaderEpoch,
    batches,
    diverging: result.divergingEpoch === undefined ? undefined : { epoch: result.divergingEpoch.epoch, endOffset: result.divergingEpoch.endOffset },
  };
}

/** The batches up to the first that fails validation; that one's error is the partition's. */
function validatedBatches(result: PartitionFetchResult, partition: string): { batches: ReplicatedBatch[]; error: TributaryError | undefined } {
  const batches: ReplicatedBatch[] = [];
  for (const wire of result.batches) {
    try {
      // The follower keeps the epoch the leader's batch carries (the leader already applied its own size limit).
      const batch = storedBatchFromWire(wire, { partition, partitionLeaderEpoch: wire.partitionLeaderEpoch, maxBatchBytes: batchRecordsBytesMax, recordsCheckedByLeader: true });
      batches.push({ baseOffset: wire.baseOffset, batch });
    } catch (error) {
      return { batches, error: TributaryError.from(error) };
    }
  }
  return { batches, error: undefined };
}
