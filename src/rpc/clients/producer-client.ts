import { TributaryError } from '../../errors/index.js';
import { Acks, type InitProducerIdResponse, type ProduceResponse, ProducerServiceClient } from '../generated/tributary/client/v1/producer_service.js';
import { BrokerChannels } from './broker-channels.js';
import type { ClientOptions } from './client-options.js';
import type { CompressionCodec } from './cluster-metadata-types.js';
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
 * The call's deadline beyond the ack timeout: the broker answers TIMEOUT when the acks take
 * longer, and that answer must arrive before the call's own deadline cuts it off.
 */
export const produceDeadlineMarginMs = 2_000;

/**
 * `tributary.client.v1.ProducerService` for the SDK: Produce sends one batch, compressed as the
 * input asks and stamped with the idempotent producer's fields when it has them, to one partition
 * on the broker at `address`; InitProducerId gets or bumps a producer identity from any broker.
 * Failures are TributaryErrors with the broker's code, `retriable` and leader hint.
 */
export class ProducerClient {
  private readonly channels: BrokerChannels<ProducerServiceClient>;

  constructor(readonly options: ClientOptions) {
    this.channels = new BrokerChannels((address, credentials) => new ProducerServiceClient(address, credentials), options);
  }

  async produce(address: string, input: ProduceBatchInput): Promise<ProducedBatch> {
    if (!Number.isSafeInteger(input.currentLeaderEpoch) || input.currentLeaderEpoch < 0) {
      throw new TributaryError('INVALID_REQUEST', `currentLeaderEpoch ${input.currentLeaderEpoch} must be a non-negative safe integer`);
    }
    const request = {
      header: newRequestHeader(this.options.clientId),
      partitionBatch: {
        topicPartition: { topic: input.topic, partition: input.partition },
        batch: encodeRecordBatch(input.records, input.producer, input.compression),
        currentLeaderEpoch: input.currentLeaderEpoch,
      },
      acks: acksOf[input.acks],
      timeoutMs: input.ackTimeoutMs,
    };
    const deadlineMs = Math.max(this.options.deadlineMs, input.ackTimeoutMs + produceDeadlineMarginMs);
    const response = await this.channels.call<ProduceResponse>(address, deadlineMs, (stub, ...rest) => stub.produce(request, ...rest));
    return { baseOffset: response.baseOffset, logAppendTimeMs: response.logAppendTimeMs, logStartOffset: response.logStartOffset, duplicate: response.duplicate };
  }

  /** A fresh identity (`producerId` 0) or the next epoch of the one held; safe to retry. */
  async initProducerId(address: string, producerId: number, producerEpoch: number): Promise<ProducerIdentity> {
    const request = { header: newRequestHeader(this.options.clientId), producerId, producerEpoch };
    const response = await this.channels.call<InitProducerIdResponse>(address, this.options.deadlineMs, (stub, ...rest) => stub.initProducerId(request, ...rest));
    return { producerId: response.producerId, producerEpoch: response.producerEpoch, maxInFlightBatchesPerPartition: response.maxInFlightBatchesPerPartition };
  }

  close(): void {
    this.channels.close();
  }
}
