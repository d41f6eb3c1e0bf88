import { randomInt } from 'node:crypto';
import { systemClock } from '../actors/clock.js';
import { leaderDutyDefaults } from '../actors/metadata-controller/controller-leader-duties.js';
import { MetadataController } from '../actors/metadata-controller/metadata-controller.js';
import { raftHostDefaults } from '../actors/raft-host/raft-host-settings.js';
import type { NodeConfig } from '../config/index.js';
import { componentLogger, type Logger } from '../observability/index.js';
import { createGrpcRaftTransport } from '../rpc/clients/raft-peer-transport.js';
import type { RpcService } from '../rpc/server/rpc-server.js';
import { createAdminService } from '../rpc/services/admin-service.js';
import { createControllerBrokerService } from '../rpc/services/controller-broker-service.js';
import { createControllerRaftService } from '../rpc/services/controller-raft-service.js';
import { createGroupCoordinatorService } from '../rpc/services/group-coordinator-service.js';
import { createMetadataService } from '../rpc/services/metadata-service.js';
import type { NodeStorage } from '../storage/open-node-storage.js';
import type { NodeIdentity } from './node-identity.js';
import { peerTls, peerToken } from './peer-credentials.js';

/** Recent metadata deltas a controller keeps so watchers resume without a full image. */
const metadataHistoryDeltasMax = 10_000;
/** WatchMetadata streams one controller serves at once: every broker and a few tools. */
const metadataWatchersMax = 1_024;

/** A running controller role: its services for the node's gRPC server, and how to stop it. */
export interface ControllerRole {
  readonly controller: MetadataController;
  readonly services: RpcService[];
  /** Tells the role the address the node's server bound, which peers and clients dial. */
  bound(address: string): void;
  /** Stops the Raft host, then the transport. Call after the server stopped; the node closes storage. */
  stop(): Promise<void>;
}

/**
 * The controller role (docs/CONTROLLER.md): the Raft stores in the node's storage, the gRPC Raft
 * transport to the other controllers, the metadata controller over them, and the services it
 * answers through.
 * `onFailure` is told when the Raft host stops for good (storage failed): the node must exit.
 */
export async function startControllerRole(
  config: NodeConfig,
  storage: NodeStorage,
  identity: NodeIdentity,
  logger: Logger,
  serverShutdown: AbortSignal,
  onFailure: (error: Error) => void,
): Promise<ControllerRole> {
  const transport = createGrpcRaftTransport({
    nodeId: config.nodeId,
    clusterId: config.clusterId,
    client: { clientId: `controller-${config.nodeId}`, tls: peerTls(config), token: peerToken(config) },
    logger: componentLogger(logger, 'raft-transport'),
  });
  const quorum = new Map(config.controller.quorum.map((voter) => [voter.id, voter.address]));
  // A single node with no quorum configured is its own quorum (trib dev); its address is known
  // once the server has bound (port 0 picks one), before the first leader duty runs.
  if (quorum.size === 0) quorum.set(config.nodeId, config.advertisedAddress ?? config.listen.grpc);
  const raft = { ...raftHostDefaults, ...config.controller.raft };
  let controller: MetadataController;
  try {
    controller = await MetadataController.start({
      nodeId: config.nodeId,
      quorum,
      join: config.controller.join,
      stores: { log: storage.raftLog, hardState: storage.hardState, snapshots: storage.snapshots },
      transport,
      clock: systemClock,
      random: { nextInt: (maxExclusive) => randomInt(maxExclusive) },
      logger: componentLogger(logger, 'controller'),
      raft,
      // Brokers could not heartbeat while there was no leader: a new one waits a whole session before fencing.
      duties: { ...leaderDutyDefaults, leaderGraceMs: config.controller.brokerSessionTimeoutMs },
      feed: { historyDeltasMax: metadataHistoryDeltasMax, watchersMax: metadataWatchersMax },
      onFailure,
    });
  } catch (error) {
    await transport.close();
    throw error;
  }
  const services: RpcService[] = [
    createControllerRaftService({ nodeId: identity.nodeId, clusterId: identity.clusterId, sink: (message) => controller.step(message), shutdownSignal: serverShutdown }),
    // A transfer's target campaigns at once, but may lose a split vote: wait for the longest randomized election timeout.
    createAdminService({ controller, clusterId: identity.clusterId, transferTimeoutMs: 2 * raft.electionTimeoutTicks * raft.tickIntervalMs }),
    createMetadataService({ controller, clusterId: identity.clusterId }),
    createControllerBrokerService({ controller, clusterId: identity.clusterId, clock: systemClock, brokerSessionTimeoutMs: config.controller.brokerSessionTimeoutMs, maxMessageBytes: config.limits.maxMessageBytes, shutdownSignal: serverShutdown }),
    createGroupCoordinatorService({ controller, clock: systemClock, shutdownSignal: serverShutdown }),
  ];
  return {
    controller,
    services,
    bound: (address) => {
      if (config.controller.quorum.length === 0) quorum.set(config.nodeId, address);
    },
    stop: async () => {
      await controller.stop();
      await transport.close();
    },
  };
}
