import { TributaryError } from '../../errors/index.js';
import { Acks, type InitProducerIdResponse, ProducerServiceClient } from '../generated/tributary/client/v1/producer_service.js';
import { BrokerChannels, brokerChannelsMax } from './broker-channels.js';
import { callMetadata, type ClientOptions } from './client-options.js';
import type { CompressionCodec } from './cluster-metadata-types.js';
import { ProduceStreamChannel, produceStreamIdleCloseMs, produceStreamQueuedMax } from './produce-stream-channel.js';
import { type BatchProducerFields, encodeRecordBatch, type ProducerRecord } from './record-batch-codec.js';
import { newRequestHeader } from './request-header.js';

/** How durable a batch must be before the broker answers (ProducerService `Acks`). */
export type ProduceAcks = 'none' | 'leader' | 'all';

export interface ProduceBatchInput {
  topic: string;
  partition: number;
  records: readonly ProducerRecord[];
  acks: ProduceAcks;
  /** How long the leader may wait for the acks before it answers TIMEOUT; 0 = the server's default. */
  ackTimeoutMs: number;
  /** The leader epoch the producer believes current; 0 skips the broker's fencing check. */
  currentLeaderEpoch: number;
  /** The batch's codec; `none` when unset. */
  compression?: CompressionCodec;
  /** An idempotent producer's id, epoch and the batch's first sequence; unset for a producer that is not idempotent. */
  producer?: BatchProducerFields;
}

export interface ProducedBatch {
  /** Offset of the batch's first record; meaningless (0) under acks `none`. */
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  /** The leader had the batch already (a retry of an idempotent producer's batch): `baseOffset` is the original's. */
  duplicate: boolean;
}

/** An idempotent producer's identity from InitProducerId. */
export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
  /** Batches the producer may have in flight per partition: what leaders remember for deduplication. */
  maxInFlightBatchesPerPartition: number;
}

const acksOf: Record<ProduceAcks, Acks> = { none: Acks.NONE, leader: Acks.LEADER, all: Acks.ALL };

/**
 * How much longer than the ack timeout a produce waits for its result: the broker answers TIMEOUT
 * when the acks take longer, and that answer must arrive before the client gives up on it.
 */
export const produceDeadlineMarginMs = 2_000;

/**
 * `tributary.client.v1.ProducerService` for the SDK: Produce sends one batch, compressed as the
 * input asks and stamped with the idempotent producer's fields when it has them, to one partition
 * on the broker at `address`; InitProducerId gets or bumps a producer identity from any broker.
 * Failures are TributaryErrors with the broker's code, `retriable` and leader hint.
 *
 * Batches go over one ProduceStream per broker, acks and ack timeout rather than one unary call
 * each: grpc-js's cost per call (an HTTP/2 stream, headers, trailers, the server's interceptors)
 * dominated small batches. A stream that failed or closed when idle is replaced on the next batch.
 */
export class ProducerClient {
  /** One client per broker: InitProducerId calls and the streams share its connection. */
  private readonly channels: BrokerChannels<ProducerServiceClient>;
  /** Streams by broker address, acks and ack timeout; at most brokerChannelsMax, the oldest closed first. */
  private readonly streams = new Map<string, ProduceStreamChannel>();

  constructor(readonly options: ClientOptions) {
    this.channels = new BrokerChannels((address, credentials, channelOptions) => new ProducerServiceClient(address, credentials, channelOptions), options);
  }

  async produce(address: string, input: ProduceBatchInput): Promise<ProducedBatch> {
    if (!Number.isSafeInteger(input.currentLeaderEpoch) || input.currentLeaderEpoch < 0) {
      throw new TributaryError('INVALID_REQUEST', `currentLeaderEpoch ${input.currentLeaderEpoch} must be a non-negative safe integer`);
    }
    const partitionBatch = {
      topicPartition: { topic: input.topic, partition: input.partition },
      batch: encodeRecordBatch(input.records, input.producer, input.compression),
      currentLeaderEpoch: input.currentLeaderEpoch,
    };
    return this.streamFor(address, input.acks, input.ackTimeoutMs).append(partitionBatch);
  }

  /** A fresh identity (`producerId` 0) or the next epoch of the one held; safe to retry. */
  async initProducerId(address: string, producerId: number, producerEpoch: number): Promise<ProducerIdentity> {
    const request = { header: newRequestHeader(this.options.clientId), producerId, producerEpoch };
    const response = await this.channels.call<InitProducerIdResponse>(address, this.options.deadlineMs, (stub, ...rest) => stub.initProducerId(request, ...rest));
    return { producerId: response.producerId, producerEpoch: response.producerEpoch, maxInFlightBatchesPerPartition: response.maxInFlightBatchesPerPartition };
  }

  close(): void {
    for (const stream of this.streams.values()) stream.close();
    this.streams.clear();
    this.channels.close();
  }

  /** The live stream for these settings, opened when there is none or the last one died. */
  private streamFor(address: string, acks: ProduceAcks, ackTimeoutMs: number): ProduceStreamChannel {
    const key = `${address}/${acks}/${ackTimeoutMs}`;
    const existing = this.streams.get(key);
    if (existing?.usable === true) return existing;
    this.streams.delete(key);
    if (this.streams.size >= brokerChannelsMax) {
      const [oldestKey, oldest] = this.streams.entries().next().value as [string, ProduceStreamChannel];
      oldest.close();
      this.streams.delete(oldestKey);
    }
    const call = this.channels.stubFor(address).produceStream(callMetadata(this.options));
    const stream = new ProduceStreamChannel(call, {
      address, clientId: this.options.clientId, acks: acksOf[acks], ackTimeoutMs,
      openTimeoutMs: this.options.deadlineMs,
      // As long as a unary Produce's deadline was: the acks wait, and the margin for the answer to arrive.
      resultTimeoutMs: Math.max(this.options.deadlineMs, ackTimeoutMs + produceDeadlineMarginMs),
      queuedMax: produceStreamQueuedMax, idleCloseMs: produceStreamIdleCloseMs,
    });
    this.streams.set(key, stream);
    return stream;
  }
}
