import type { ChannelCredentials, ChannelOptions, Client, Metadata, ServiceError } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import { callUnary } from './call-unary.js';
import { callMetadata, channelCredentialsFor, type ClientOptions } from './client-options.js';
import { LeaderRouter, type LeaderRoutingPolicy, leaderRoutingDefaults } from './leader-router.js';
import { StubCache } from './stub-cache.js';

/** Controllers a client keeps a channel to at once: a quorum has at most 16 members (metadataLimits.controllersMax). */
const channelsMax = 16;

/** How a controller client finds the quorum, on top of how it reaches one node. */
export interface ControllerClientOptions extends ClientOptions {
  /** Controller addresses to start from, "host:port"; the router learns the leader from NOT_LEADER hints. */
  bootstrap: readonly string[];
  routing?: LeaderRoutingPolicy;
}

/** One generated client method call: `(stub, metadata, options, callback) => stub.method(request, metadata, options, callback)`. */
export type Invocation<Stub, Response> = (
  stub: Stub,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Response) => void,
) => unknown;

/**
 * One generated gRPC client per controller address, made on first use, and the LeaderRouter that
 * picks the address of each call. Shared by the admin and metadata clients.
 */
export class ControllerChannels<Stub extends Client> {
  private readonly stubs: StubCache<Stub>;
  readonly router: LeaderRouter;

  constructor(
    makeStub: (address: string, credentials: ChannelCredentials, options: ChannelOptions) => Stub,
    readonly options: ControllerClientOptions,
  ) {
    if (options.bootstrap.length === 0) throw new TributaryError('INVALID_REQUEST', 'a controller client needs at least one bootstrap address');
    this.stubs = new StubCache(makeStub, channelCredentialsFor(options.tls), channelsMax);
    this.router = new LeaderRouter(options.bootstrap, options.routing ?? leaderRoutingDefaults);
  }

  /** A call routed to the controller leader (or any controller that answers), with the router's bounded retries. */
  routed<Response>(invoke: Invocation<Stub, Response>, routing: { idempotent: boolean }): Promise<Response> {
    return this.router.call((address) => this.direct(address, invoke), routing);
  }

  /** One call to one controller, no redirects. */
  direct<Response>(address: string, invoke: Invocation<Stub, Response>): Promise<Response> {
    const stub = this.stubs.stubFor(address);
    return callUnary(this.options.deadlineMs, (callOptions, callback) => invoke(stub, callMetadata(this.options), callOptions, callback));
  }

  close(): void {
    this.stubs.close();
  }
}
