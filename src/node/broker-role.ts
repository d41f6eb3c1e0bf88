import { randomUUID } from 'node:crypto';
import { systemClock } from '../actors/clock.js';
import { BrokerLifecycle, brokerLifecycleDefaults } from '../actors/broker-lifecycle/broker-lifecycle.js';
import { BrokerMetadataView } from '../actors/broker-metadata/broker-metadata-view.js';
import { PartitionLeaderLookup, type PartitionLeaderSource } from '../actors/partition-replica/partition-leader-lookup.js';
import { PartitionReplicas, partitionReplicasDefaults } from '../actors/partition-replica/partition-replicas.js';
import type { NodeConfig } from '../config/index.js';
import type { TributaryError } from '../errors/index.js';
import { componentLogger, type Logger } from '../observability/index.js';
import { ControllerBrokerClient, defaultClientOptions, type MetadataWatch } from '../rpc/clients/index.js';
import type { NodeStorage } from '../storage/open-node-storage.js';
import { peerTls, peerToken } from './peer-credentials.js';

/** Deadline of one call to the controllers; the lifecycle retries on its own schedule. */
const controllerCallDeadlineMs = 5_000;

/** The broker role of a running node. */
export interface BrokerRole {
  readonly lifecycle: BrokerLifecycle;
  readonly metadata: BrokerMetadataView;
  /** The partitions this broker hosts, each leading, following or offline as the metadata says. */
  readonly replicas: PartitionReplicas;
  /** Where the produce, fetch and replication services find the partitions this broker leads. */
  readonly leaders: PartitionLeaderSource;
  /** Controlled shutdown (leaderships moved away first), then the controller connections closed. */
  stop(): Promise<void>;
}

export interface BrokerRoleOptions {
  /** The address the node's gRPC server bound or advertises: what the controller tells clients and peers. */
  readonly address: string;
  /** The node's storage: partition logs share its group commit. */
  readonly storage: NodeStorage;
  /** Told once when the controller refuses this broker for good (another process took its node id). */
  readonly onFailure: (error: Error) => void;
}

/**
 * Starts a node's broker role (DESIGN.md §8): registration and heartbeats with the controller
 * quorum (broker-lifecycle); the metadata view that WatchMetadata keeps current, whose version
 * each heartbeat reports so the controller unfences the broker once it knows its partitions; and
 * the partition replicas that every metadata change assigns to this broker.
 * Starts after the gRPC server has bound, since registration tells the controller its address.
 */
export function startBrokerRole(config: NodeConfig, logger: Logger, options: BrokerRoleOptions): BrokerRole {
  const brokerLogger = componentLogger(logger, 'broker');
  const client = new ControllerBrokerClient({
    ...defaultClientOptions(`broker-${config.nodeId}`),
    deadlineMs: controllerCallDeadlineMs,
    bootstrap: controllerAddresses(config, options.address),
    tls: peerTls(config),
    token: peerToken(config),
  });
  const metadata = new BrokerMetadataView();
  const replicas = new PartitionReplicas({
    brokerId: config.nodeId,
    openLog: (partition) => options.storage.openPartitionLog(partition),
    minInSyncReplicasOf: (topic) => metadata.topic(topic)?.config.minInSyncReplicas,
    clock: systemClock,
    logger: brokerLogger,
    settings: partitionReplicasDefaults,
  });
  const watch: MetadataWatch = client.watchMetadata(0, (update) => replicas.apply(metadata.apply(update)), {
    clusterId: config.clusterId,
    onError: (error) => brokerLogger.error({ err: error }, 'the metadata watch stopped for good'),
  });
  const lifecycle = new BrokerLifecycle({
    registration: { nodeId: config.nodeId, address: options.address, rack: config.broker.rack, incarnationId: randomUUID(), clusterId: config.clusterId },
    link: client,
    appliedMetadataVersion: () => metadata.version,
    clock: systemClock,
    random: Math.random,
    logger: brokerLogger,
    settings: { ...brokerLifecycleDefaults, controlledShutdownTimeoutMs: config.broker.controlledShutdownTimeoutMs },
    onFailure: (error: TributaryError) => options.onFailure(error),
  });
  lifecycle.start();
  let stopped: Promise<void> | undefined;
  return {
    lifecycle,
    metadata,
    replicas,
    leaders: new PartitionLeaderLookup(config.nodeId, metadata, replicas),
    stop: () => {
      stopped ??= (async () => {
        await lifecycle.shutdown();
        watch.close();
        replicas.stop();
        client.close();
      })();
      return stopped;
    },
  };
}

/** The controllers to dial: the configured quorum, or this node itself when it is its own single-node quorum. */
function controllerAddresses(config: NodeConfig, ownAddress: string): string[] {
  const quorum = config.controller.quorum.map((voter) => voter.address);
  return quorum.length > 0 ? quorum : [ownAddress];
}
