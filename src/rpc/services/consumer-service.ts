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
import { callerPrincipal } from './caller-principal.js';
import { type FetchContext, fetchLongPoll } from './fetch-long-poll.js';
import { grantCredit } from './grant-credit.js';
import { LeaderChanges } from './leader-changes.js';
import { listOffsets } from './list-offsets.js';
import { serveUnary } from './serve-unary.js';
import { type SubscribeContext, SubscribeStream } from './subscribe-stream.js';
import { SubscriptionRegistry } from './subscription-registry.js';

export interface ConsumerServiceOptions {
  readonly partitions: BrokerPartitions;
  readonly settings: BrokerServiceSettings;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * `tributary.client.v1.ConsumerService` on a broker: Fetch long-polls, credit-flow-controlled
 * Subscribe streams with their GrantCredit, and ListOffsets over the partitions it leads, never
 * past the high watermark (docs/PROTOCOL.md §8, "Produce and fetch on a broker").
 */
export function createConsumerService(options: ConsumerServiceOptions): RpcService {
  const changes = new LeaderChanges();
  const context: FetchContext = { ...options, changes };
  const registry = new SubscriptionRegistry({ nodeId: options.partitions.nodeId, subscriptionsMax: options.settings.subscriptionsMax });
  const subscribeContext: SubscribeContext = { ...options, changes, registry };
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
    new SubscribeStream(call, subscribeContext, callerPrincipal(call)).start();
  };
  const grant: handleUnaryCall<GrantCreditRequest, GrantCreditResponse> = (call, callback) => {
    try {
      callback(null, grantCredit(call.request, callerPrincipal(call), registry));
    } catch (error) {
      callback(toGrpcStatus(error));
    }
  };
  return {
    definition: ConsumerServiceService,
    implementation: { fetch, subscribe, grantCredit: grant, listOffsets: serveUnary((request: ListOffsetsRequest) => listOffsets(request, options)) },
  };
}
