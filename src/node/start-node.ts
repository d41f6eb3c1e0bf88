import { systemClock } from '../actors/clock.js';
import type { MetadataController } from '../actors/metadata-controller/metadata-controller.js';
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
import { brokerServiceSettingsFor } from '../rpc/services/broker-service-settings.js';
import { createPipelineService } from '../rpc/services/pipeline-service.js';
import { type NodeStorage, openNodeStorage } from '../storage/open-node-storage.js';
import { type BrokerRole, startBrokerRole } from './broker-role.js';
import { createBrokerServices } from './broker-services.js';
import { type ControllerRole, startControllerRole } from './controller-role.js';
import { writeThreadFor } from './write-thread-for.js';
import { loadTokenHashes } from './load-token-hashes.js';
import { type NodeIdentity, nodeIdentityOf } from './node-identity.js';
import { writePidFile } from './pid-file.js';

/** A started Tributary process: what it is, where it listens, and how to stop it. */
export interface RunningNode {
  readonly identity: NodeIdentity;
  /** Bound gRPC "host:port". */
  readonly grpcAddress: string;
  /** Bound metrics/health HTTP "host:port"; undefined when metrics are disabled. */
  readonly metricsAddress: string | undefined;
  /** The controller role's metadata controller; undefined on a node without that role. */
  readonly controller: MetadataController | undefined;
  /** The broker role; undefined on a node without that role. */
  readonly broker: BrokerRole | undefined;
  /** Graceful shutdown: not ready, drain gRPC within the grace period, close HTTP. Idempotent. */
  stop(): Promise<void>;
}

/** What the process running a node decides for it. */
export interface StartNodeOptions {
  nowMs?: () => number;
  /**
   * Called once when a role fails for good (the controller's storage failed) after the node
   * stopped itself; the CLI exits non-zero so a supervisor restarts the process.
   */
  onFatal?: (error: Error) => void;
}

/**
 * The composition root of a node (docs/ARCHITECTURE.md): reading it tells which parts a role is
 * made of. Every role serves GetVersion, health and reflection; a controller adds the Raft quorum
 * and the metadata services. The node holds its data directory's pid file while it runs.
 */
export async function startNode(config: NodeConfig, logger: Logger, options: StartNodeOptions = {}): Promise<RunningNode> {
  const identity = nodeIdentityOf(config, (options.nowMs ?? Date.now)());
  logger.info({ config: redactConfig(config) }, 'effective configuration');
  const releasePidFile = writePidFile(config.dataDir);
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
  let stopNode: () => Promise<void> = () => Promise.resolve();
  const fatal = (error: Error): void => {
    logger.fatal({ err: error }, 'a role failed for good; stopping the node');
    void stopNode().finally(() => options.onFatal?.(error));
  };
  let controllerRole: ControllerRole | undefined;
  // Set once the server has bound; the broker services registered before that ask for it per call.
  let brokerRole: BrokerRole | undefined = undefined;
  let rpc: RpcServer;
  // One database for every role of the node: its writes share one group commit (docs/STORAGE.md).
  let storage: NodeStorage | undefined;
  try {
    storage = await openNodeStorage(config, { writeThread: writeThreadFor(config) });
    if (config.roles.includes('controller')) {
      controllerRole = await startControllerRole(config, storage, identity, logger, serverShutdown.signal, fatal);
      services.push(...controllerRole.services);
    }
    if (config.roles.includes('broker')) {
      services.push(...createBrokerServices({
        nodeId: config.nodeId, clusterId: config.clusterId, broker: () => brokerRole, shutdownSignal: serverShutdown.signal, settings: brokerServiceSettingsFor(config.limits.maxMessageBytes),
        clock: systemClock, logger: componentLogger(logger, 'broker-services'), metrics,
      }));
    }
    rpc = await startRpcServer({
      address: config.listen.grpc,
      services,
      limits: config.limits,
      logger: componentLogger(logger, 'rpc'),
      metrics,
      credentials: serverCredentialsFor(config.tls),
      tokenHashes: config.auth.enabled ? loadTokenHashes(config.auth) : undefined,
    });
  } catch (error) {
    await controllerRole?.stop();
    await storage?.close();
    releasePidFile();
    throw error;
  }
  const advertisedAddress = config.advertisedAddress ?? rpc.address;
  controllerRole?.bound(advertisedAddress);
  brokerRole = config.roles.includes('broker') ? await startBrokerRole(config, logger, { address: advertisedAddress, storage, metrics, onFailure: fatal }) : undefined;
  rpc.shutdownSignal.addEventListener('abort', () => serverShutdown.abort(), { once: true });
  let stopping = false;
  const http = config.metrics.enabled ? await startMetricsEndpoint(config, logger, metrics, rpc, () => stopping) : undefined;
  logger.info({ nodeId: identity.nodeId, roles: identity.roles, grpc: rpc.address, metrics: http?.address }, 'node started');
  let stopPromise: Promise<void> | undefined;
  stopNode = () => {
    stopping = true;
    stopPromise ??= (async () => {
      // Controlled shutdown first: the controllers (this node's own, when combined) still serve.
      await brokerRole?.stop();
      await rpc.shutdown();
      await controllerRole?.stop();
      await storage.close();
      await http?.close();
      releasePidFile();
      logger.info({ nodeId: identity.nodeId }, 'node stopped');
    })();
    return stopPromise;
  };
  return {
    identity,
    grpcAddress: rpc.address,
    metricsAddress: http?.address,
    controller: controllerRole?.controller,
    broker: brokerRole,
    stop: stopNode,
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
