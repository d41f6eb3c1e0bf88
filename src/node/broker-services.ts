import type { Clock } from '../actors/clock.js';
import type { Logger, MetricsRegistry } from '../observability/index.js';
import type { RpcService } from '../rpc/server/rpc-server.js';
import { BrokerPartitions, type ServedBroker } from '../rpc/services/broker-partitions.js';
import { createBrokerReplicationService, type ReplicationBroker } from '../rpc/services/broker-replication-service.js';
import type { BrokerServiceSettings } from '../rpc/services/broker-service-settings.js';
import { replicaFetchSessionDefaults } from '../rpc/services/replica-fetch-session.js';
import { createConsumerService } from '../rpc/services/consumer-service.js';
import { createControlPlaneService } from '../rpc/services/control-plane-service.js';
import type { ControlPlane } from '../ingest/control-plane.js';
import { createDataIngestService } from '../rpc/services/data-ingest-service.js';
import type { IngestBroker } from '../rpc/services/ingest-leaders.js';
import { ingestSettingsDefaults } from '../rpc/services/ingest-settings.js';
import { createProducerService } from '../rpc/services/producer-service.js';

export interface BrokerServicesOptions {
  readonly nodeId: number;
  /** Followers from another cluster are refused. */
  readonly clusterId: string;
  /** The running broker role; undefined until it starts, after the server has bound. */
  readonly broker: () => (ServedBroker & ReplicationBroker & IngestBroker & { readonly controlPlane: ControlPlane }) | undefined;
  /** The server's shutdown: calls are answered SHUTTING_DOWN and long polls end from then on. */
  readonly shutdownSignal: AbortSignal;
  readonly settings: BrokerServiceSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

/**
 * The gRPC services of a node's broker role (docs/ARCHITECTURE.md): producers append to and
 * consumers read from the partitions this broker leads, and follower brokers replicate them. They
 * are registered before the server binds and answer NOT_AVAILABLE until the broker role runs.
 */
export function createBrokerServices(options: BrokerServicesOptions): RpcService[] {
  const { nodeId, clusterId, broker, shutdownSignal, settings, clock, logger, metrics } = options;
  const partitions = new BrokerPartitions({ nodeId, broker, shutdownSignal });
  return [
    createProducerService({ partitions, settings, clock, logger, metrics }),
    createConsumerService({ partitions, settings, clock, logger }),
    createBrokerReplicationService({ nodeId, clusterId, broker, clock, limits: replicaFetchSessionDefaults, shutdownSignal }),
    createDataIngestService({ partitions, broker, settings: ingestSettingsDefaults, batchBytesMax: settings.batchBytesMax, clock, logger, metrics }),
    createControlPlaneService({ nodeId, plane: () => broker()?.controlPlane, shutdownSignal }),
  ];
}
