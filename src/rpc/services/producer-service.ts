import type { handleBidiStreamingCall } from '@grpc/grpc-js';
import type { Clock } from '../../actors/clock.js';
import { producerBatchesCachedMax } from '../../broker/index.js';
import type { Logger, MetricsRegistry } from '../../observability/index.js';
import {
  type InitProducerIdRequest, type InitProducerIdResponse, type ProduceBatchRequest, type ProduceBatchResponse, ProducerServiceService, type ProduceRequest,
  type ProduceResponse, type ProduceStreamRequest, type ProduceStreamResponse,
} from '../generated/tributary/client/v1/producer_service.js';
import type { RpcService } from '../server/rpc-server.js';
import type { BrokerPartitions } from './broker-partitions.js';
import type { BrokerServiceSettings } from './broker-service-settings.js';
import { addressedBatchOf, PartitionBatchAppender, produceModeOf } from './partition-batch-appender.js';
import { registerProduceResults } from './produce-results.js';
import { ProduceStream } from './produce-stream.js';
import { checkRequestPartitions } from './request-partitions.js';
import { serveUnary } from './serve-unary.js';

export interface ProducerServiceOptions {
  readonly partitions: BrokerPartitions;
  readonly settings: BrokerServiceSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

/**
 * `tributary.client.v1.ProducerService` on a broker: appends to the partitions it leads, with the
 * acks each request asks for (docs/PROTOCOL.md §8, "Produce and fetch on a broker"), and hands
 * out idempotent-producer identities from the block the controllers gave this broker.
 */
export function createProducerService(options: ProducerServiceOptions): RpcService {
  const { partitions, settings } = options;
  const appender = new PartitionBatchAppender({ ...options, results: registerProduceResults(options.metrics) });
  const produceStream: handleBidiStreamingCall<ProduceStreamRequest, ProduceStreamResponse> = (call) => {
    new ProduceStream(call, { partitions, appender, settings }).start();
  };
  return {
    definition: ProducerServiceService,
    implementation: {
      initProducerId: serveUnary((request: InitProducerIdRequest) => initProducerId(partitions, request)),
      produce: serveUnary((request: ProduceRequest) => produce(appender, settings, request)),
      produceBatch: serveUnary((request: ProduceBatchRequest) => produceBatch(appender, settings, request)),
      produceStream,
    },
  };
}

async function initProducerId(partitions: BrokerPartitions, request: InitProducerIdRequest): Promise<InitProducerIdResponse> {
  const { producerId, producerEpoch } = await partitions.producerIds().init(request.producerId, request.producerEpoch);
  return { producerId, producerEpoch, maxInFlightBatchesPerPartition: producerBatchesCachedMax };
}

async function produce(appender: PartitionBatchAppender, settings: BrokerServiceSettings, request: ProduceRequest): Promise<ProduceResponse> {
  const mode = produceModeOf(request.acks, request.timeoutMs, settings);
  const outcome = await appender.append(addressedBatchOf(request.partitionBatch, 'Produce partition_batch'), mode);
  return outcome;
}

/** Every batch is checked before any is appended: a malformed request appends nothing. */
async function produceBatch(appender: PartitionBatchAppender, settings: BrokerServiceSettings, request: ProduceBatchRequest): Promise<ProduceBatchResponse> {
  const mode = produceModeOf(request.acks, request.timeoutMs, settings);
  const batches = request.partitionBatches;
  checkRequestPartitions({ method: 'ProduceBatch', field: 'partition_batches' }, batches.map((entry) => entry.topicPartition), settings.requestPartitionsMax);
  const addressed = batches.map((entry, position) => addressedBatchOf(entry, `ProduceBatch partition_batches[${position}]`));
  return { results: await Promise.all(addressed.map((entry) => appender.result(entry, mode))) };
}
