import { Server, type ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger, MetricsRegistry } from '../../observability/index.js';
import { loadReflectionDefinition } from '../proto-files.js';
import { TributaryError } from '../../errors/index.js';
import { apiVersionInterceptor } from './api-version-interceptor.js';
import { createAuthInterceptor } from './auth-interceptor.js';
import { type CallRegistry, createCallRegistry } from './call-registry-interceptor.js';
import { createDeadlineInterceptor } from './deadline-interceptor.js';
import { instrumentServiceDefinition } from './instrument-service-definition.js';
import { createObserveInterceptor } from './observe-interceptor.js';
import { requestContextInterceptor } from './request-context-interceptor.js';
import { raiseServerWindows } from '../transport-windows.js';

const healthServiceName = 'grpc.health.v1.Health';
const reflectionServiceName = 'grpc.reflection.v1.ServerReflection';

/** One gRPC service a role serves: the generated definition and its handlers. */
export interface RpcService {
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface RpcServerLimits {
  /** Largest message either direction, in bytes. */
  maxMessageBytes: number;
  /** Concurrent HTTP/2 streams per client connection. */
  maxConcurrentStreams: number;
  /** Bound on a unary call the client gave no deadline. */
  requestTimeoutMs: number;
  /** How long shutdown waits for in-flight calls before cancelling them. */
  shutdownGraceMs: number;
}

export interface RpcServerOptions {
  /** "host:port" to listen on; port 0 picks an ephemeral port. */
  address: string;
  services: readonly RpcService[];
  limits: RpcServerLimits;
  logger: Logger;
  metrics: MetricsRegistry;
  credentials: ServerCredentials;
  /** SHA-256 hex digests of the bearer tokens accepted; no authentication when absent. */
  tokenHashes?: readonly string[] | undefined;
}

export interface RpcServer {
  /** The bound "host:port". */
  readonly address: string;
  readonly port: number;
  /**
   * Aborted when shutdown begins. Handlers of long-lived streams (Subscribe, WatchMetadata,
   * ReplicateStream) end their streams on it, so a graceful shutdown is not held up by them.
   */
  readonly shutdownSignal: AbortSignal;
  /** Flips every service's `grpc.health.v1` status. */
  setServing(serving: boolean): void;
  /**
   * Stops accepting calls, lets in-flight calls finish within the grace period, then cancels the
   * rest. Resolves with whether the grace period ran out.
   */
  shutdown(): Promise<{ forced: boolean }>;
}

/**
 * Builds and starts a grpc-js server for the services of a role: interceptors for request
 * context, metrics and logging, deadlines and API versions; `grpc.health.v1` for every service;
 * server reflection over the shipped .proto files.
 */
export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { limits, logger, metrics } = options;
  const calls = createCallRegistry();
  const server = new Server({
    'grpc.max_receive_message_length': limits.maxMessageBytes,
    'grpc.max_send_message_length': limits.maxMessageBytes,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    // Interceptors see inbound events in this order and outbound ones in reverse: the observer is
    // nearest the wire so it counts every status, including those the later interceptors send;
    // the call registry sits outside the interceptors that answer for the handler, so it sees
    // their status first and drops the handler's late one.
    interceptors: [
      requestContextInterceptor,
      createObserveInterceptor(metrics, logger),
      calls.interceptor,
      ...(options.tokenHashes === undefined ? [] : [createAuthInterceptor(options.tokenHashes)]),
      createDeadlineInterceptor(limits.requestTimeoutMs),
      apiVersionInterceptor,
    ],
  });
  const serviceNames = options.services.map((service) => {
    server.addService(instrumentServiceDefinition(service.definition, metrics), service.implementation);
    return serviceNameOf(service.definition);
  });
  const health = new HealthImplementation(Object.fromEntries(['', ...serviceNames].map((name) => [name, 'NOT_SERVING'])));
  health.addToServer(server);
  // Reflection lists what this server really serves, not every service of the contract.
  const reflected = [...serviceNames, healthServiceName, reflectionServiceName];
  new ReflectionService(loadReflectionDefinition(), { services: reflected }).addToServer(server);

  const port = await bind(server, options.address, options.credentials);
  const address = `${hostOf(options.address)}:${port}`;
  const abort = new AbortController();
  const setServing = (serving: boolean) => {
    for (const name of ['', ...serviceNames]) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  };
  setServing(true);
  logger.info({ address, services: serviceNames }, 'gRPC server listening');
  let shutdownPromise: Promise<{ forced: boolean }> | undefined;
  return {
    address,
    port,
    shutdownSignal: abort.signal,
    setServing,
    shutdown: () => {
      shutdownPromise ??= drain({ server, calls, abort, setServing, shutdownGraceMs: limits.shutdownGraceMs, logger });
      return shutdownPromise;
    },
  };
}

interface DrainContext {
  server: Server;
  calls: CallRegistry;
  abort: AbortController;
  setServing: (serving: boolean) => void;
  shutdownGraceMs: number;
  logger: Logger;
}

async function drain({ server, calls, abort, setServing, shutdownGraceMs, logger }: DrainContext): Promise<{ forced: boolean }> {
  setServing(false);
  abort.abort(new Error('server shutting down'));
  let graceTimer: NodeJS.Timeout | undefined;
  const forced = await Promise.race([
    new Promise<boolean>((resolve) => server.tryShutdown(() => resolve(false))),
    new Promise<boolean>((resolve) => {
      graceTimer = setTimeout(() => resolve(true), shutdownGraceMs);
    }),
  ]);
  clearTimeout(graceTimer);
  if (forced) {
    logger.warn({ shutdownGraceMs, inFlight: calls.inFlightCount() }, 'in-flight calls outlived the shutdown grace period; ending them');
    calls.endAll(new TributaryError('SHUTTING_DOWN', `the node shut down and ended this call after its ${shutdownGraceMs} ms grace period; retry against another node`));
    server.forceShutdown();
  }
  logger.info({ forced }, 'gRPC server stopped');
  return { forced };
}

function bind(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => {
      if (error) {
        reject(new Error(`gRPC server could not listen on "${address}": ${error.message}`, { cause: error }));
        return;
      }
      // In this callback, before the event loop can accept the first connection.
      raiseServerWindows(server);
      resolve(port);
    });
  });
}

function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':'));
}

/** `tributary.client.v1.ProducerService` from any of the definition's method paths. */
export function serviceNameOf(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0];
  if (first === undefined) throw new Error('a gRPC service definition has no methods');
  return first.path.split('/')[1] ?? first.path;
}
