import type { handleServerStreamingCall, handleUnaryCall } from '@grpc/grpc-js';
import type { Clock } from '../../actors/clock.js';
import type { Logger } from '../../observability/index.js';
import { toGrpcStatus } from '../error-status.js';
import {
  ConsumerServiceService, type FetchRequest, type FetchResponse, type GrantCreditRequest, type GrantCreditResponse, type ListOffsetsRequest, type SubscribeRequest,
  type SubscribeResponse,
} from '../generated/tributary/client/v1/consumer_service.js';
import type { RpcService } from '../server/rpc-server.js';
import type { BrokerPartitions } from './broker-partitions.js';
import type { BrokerServiceSettings } from './broker-service-settings.js';
import { type FetchContext, fetchLongPoll } from './fetch-long-poll.js';
import { LeaderChanges } from './leader-changes.js';
import { listOffsets } from './list-offsets.js';
import { notImplementedStatus } from './not-implemented-status.js';
import { serveUnary } from './serve-unary.js';

export interface ConsumerServiceOptions {
  readonly partitions: BrokerPartitions;
  readonly settings: BrokerServiceSettings;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * `tributary.client.v1.ConsumerService` on a broker: Fetch long-polls and ListOffsets over the
 * partitions it leads, never past the high watermark (docs/PROTOCOL.md §8, "Produce and fetch on a broker").
 * The push subscription (Subscribe, GrantCredit) arrives with issue #7.
 */
export function createConsumerService(options: ConsumerServiceOptions): RpcService {
  const context: FetchContext = { ...options, changes: new LeaderChanges() };
  const fetch: handleUnaryCall<FetchRequest, FetchResponse> = (call, callback) => {
    // The long poll ends early when the caller goes away or the server begins to shut down.
    const stop = new AbortController();
    const onStop = (): void => stop.abort();
    call.on('cancelled', onStop);
    options.partitions.shutdownSignal.addEventListener('abort', onStop, { once: true });
    fetchLongPoll(call.request, context, stop.signal)
      .then((response) => callback(null, response), (error: unknown) => callback(toGrpcStatus(error)))
      .finally(() => options.partitions.shutdownSignal.removeEventListener('abort', onStop));
  };
  const subscribe: handleServerStreamingCall<SubscribeRequest, SubscribeResponse> = (call) => {
    call.emit('error', notImplementedStatus('ConsumerService.Subscribe', 7, 'long-poll with Fetch meanwhile'));
  };
  const grantCredit: handleUnaryCall<GrantCreditRequest, GrantCreditResponse> = (_call, callback) => {
    callback(notImplementedStatus('ConsumerService.GrantCredit', 7, 'long-poll with Fetch meanwhile'));
  };
  return {
    definition: ConsumerServiceService,
    implementation: { fetch, subscribe, grantCredit, listOffsets: serveUnary((request: ListOffsetsRequest) => listOffsets(request, options)) },
  };
}
