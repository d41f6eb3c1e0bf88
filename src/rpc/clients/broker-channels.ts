import type { ChannelCredentials, ChannelOptions, Client } from '@grpc/grpc-js';
import { callUnary } from './call-unary.js';
import { callMetadata, channelCredentialsFor, type ClientOptions } from './client-options.js';
import type { Invocation } from './controller-channels.js';
import { StubCache } from './stub-cache.js';

/**
 * Brokers a data-plane client keeps a channel to at once. A client talks to the leaders of the
 * partitions it uses; past this many brokers the least recently added channel is closed and
 * reopened when needed again.
 */
export const brokerChannelsMax = 64;

/**
 * One generated gRPC client per broker address and direct calls to them. Unlike the controller
 * clients there is no router here: which broker to ask depends on the partition, so the SDK picks
 * the address from its metadata and handles NOT_LEADER itself.
 */
export class BrokerChannels<Stub extends Client> {
  private readonly stubs: StubCache<Stub>;

  constructor(makeStub: (address: string, credentials: ChannelCredentials, options: ChannelOptions) => Stub, readonly options: ClientOptions) {
    this.stubs = new StubCache(makeStub, channelCredentialsFor(options.tls), brokerChannelsMax);
  }

  /** The client of the broker at `address`, for streaming calls the owner manages itself. */
  stubFor(address: string): Stub {
    return this.stubs.stubFor(address);
  }

  /** One call to the broker at `address` with a deadline `deadlineMs` from now. */
  call<Response>(address: string, deadlineMs: number, invoke: Invocation<Stub, Response>): Promise<Response> {
    const stub = this.stubs.stubFor(address);
    return callUnary(deadlineMs, (callOptions, callback) => invoke(stub, callMetadata(this.options), callOptions, callback));
  }

  close(): void {
    this.stubs.close();
  }
}
