import type { Clock } from '../actors/clock.js';
import type { Logger } from '../observability/index.js';
import type { RpcService } from '../rpc/server/rpc-server.js';
import { BrokerPartitions, type ServedBroker } from '../rpc/services/broker-partitions.js';
import type { BrokerServiceSettings } from '../rpc/services/broker-service-settings.js';
import { createConsumerService } from '../rpc/services/consumer-service.js';
import { createProducerService } from '../rpc/services/producer-service.js';

export interface BrokerServicesOptions {
  readonly nodeId: number;
  /** The running broker role; undefined until it starts, after the server has bound. */
  readonly broker: () => ServedBroker | undefined;
  /** The server's shutdown: calls are answered SHUTTING_DOWN and long polls end from then on. */
  readonly shutdownSignal: AbortSignal;
  readonly settings: BrokerServiceSettings;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * The gRPC services of a node's broker role (docs/ARCHITECTURE.md): producers append to and
 * consumers read from the partitions this broker leads. They are registered before the server
 * binds and answer NOT_AVAILABLE until the broker role runs.
 */
export function createBrokerServices(options: BrokerServicesOptions): RpcService[] {
  const { nodeId, broker, shutdownSignal, settings, clock, logger } = options;
  const partitions = new BrokerPartitions({ nodeId, broker, shutdownSignal });
  return [createProducerService({ partitions, settings, clock, logger }), createConsumerService({ partitions, settings, clock, logger })];
}
