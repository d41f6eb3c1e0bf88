import { type NodeConfig, redactConfig } from '../config/index.js';
import {
  componentLogger,
  createMetricsRegistry,
  type HttpEndpoint,
  type Logger,
  startHttpEndpoint,
} from '../observability/index.js';
import { serverCredentialsFor } from '../rpc/server/server-credentials.js';
import { type RpcServer, type RpcService, serviceNameOf, startRpcServer } from '../rpc/server/rpc-server.js';
import { createControllerRaftService, type RaftMessageSink } from '../rpc/services/controller-raft-service.js';
import { createPipelineService } from '../rpc/services/pipeline-service.js';
import { loadTokenHashes } from './load-token-hashes.js';
import { type NodeIdentity, nodeIdentityOf } from './node-identity.js';

/** A started Tributary process: what it is, where it listens, and how to stop it. */
export interface RunningNode {
  readonly identity: NodeIdentity;
  /** Bound gRPC "host:port". */
  readonly grpcAddress: string;
  /** Bound metrics/health HTTP "host:port"; undefined when metrics are disabled. */
  readonly metricsAddress: string | undefined;
  /** Graceful shutdown: not ready, drain gRPC within the grace period, close HTTP. Idempotent. */
  stop(): Promise<void>;
}

/** What the roles a node runs hand to its composition root. */
export interface StartNodeOptions {
  nowMs?: () => number;
  /**
   * Where ControllerRaftService delivers peers' Raft messages: the controller role's raft host.
   * The service is served only when one is given.
   */
  raftMessageSink?: RaftMessageSink | undefined;
}

/**
 * The composition root of a node (docs/ARCHITECTURE.md): reading it tells which parts a role is
 * made of. Every role serves GetVersion, health and reflection; later roles add their services here.
 */
export async function startNode(config: NodeConfig, logger: Logger, options: StartNodeOptions = {}): Promise<RunningNode> {
  const identity = nodeIdentityOf(config, (options.nowMs ?? Date.now)());
  logger.info({ config: redactConfig(config) }, 'effective configuration');
  const metrics = createMetricsRegistry({ defaultMetrics: true });
  // Services exist before the server does; their long-lived streams end on its shutdown through this relay.
  const serverShutdown = new AbortController();
  const services: RpcService[] = [
    createPipelineService({
      identity,
      servedServices: (): string[] => services.map((service) => serviceNameOf(service.definition)),
      maxMessageBytes: config.limits.maxMessageBytes,
    }),
  ];
  if (options.raftMessageSink !== undefined) {
    const { nodeId, clusterId } = identity;
    services.push(createControllerRaftService({ nodeId, clusterId, sink: options.raftMessageSink, shutdownSignal: serverShutdown.signal }));
  }
  const rpc = await startRpcServer({
    address: config.listen.grpc,
    services,
    limits: config.limits,
    logger: componentLogger(logger, 'rpc'),
    metrics,
    credentials: serverCredentialsFor(config.tls),
    tokenHashes: config.auth.enabled ? loadTokenHashes(config.auth) : undefined,
  });
  rpc.shutdownSignal.addEventListener('abort', () => serverShutdown.abort(), { once: true });
  let stopping = false;
  const http = config.metrics.enabled ? await startMetricsEndpoint(config, logger, metrics, rpc, () => stopping) : undefined;
  logger.info({ nodeId: identity.nodeId, roles: identity.roles, grpc: rpc.address, metrics: http?.address }, 'node started');
  let stopPromise: Promise<void> | undefined;
  return {
    identity,
    grpcAddress: rpc.address,
    metricsAddress: http?.address,
    stop: () => {
      stopping = true;
      stopPromise ??= (async () => {
        await rpc.shutdown();
        await http?.close();
        logger.info({ nodeId: identity.nodeId }, 'node stopped');
      })();
      return stopPromise;
    },
  };
}

function startMetricsEndpoint(
  config: NodeConfig,
  logger: Logger,
  metrics: ReturnType<typeof createMetricsRegistry>,
  rpc: RpcServer,
  isStopping: () => boolean,
): Promise<HttpEndpoint> {
  const [host, port] = splitHostPort(config.listen.metrics);
  return startHttpEndpoint({
    host,
    port,
    registry: metrics,
    logger: componentLogger(logger, 'http'),
    readiness: () => {
      const serving = !isStopping() && !rpc.shutdownSignal.aborted;
      return { ready: serving, checks: [{ name: 'grpc', ready: serving, detail: serving ? rpc.address : 'shutting down' }] };
    },
  });
}

function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[|\]$/g, ''), Number(address.slice(colon + 1))];
}
