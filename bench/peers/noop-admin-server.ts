// The transport ceiling's server (bench/peers/transport-ceiling.ts): the node's own gRPC server
// (startRpcServer, every interceptor, default limits) serving AdminService.AlterTopicConfig with a
// handler that answers at once, no Raft and no disk, in its own process like a controller. The
// answer carries the request's labels, so it is as large as a controller's. Prints its port on
// stdout, then serves until killed.
import { ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger, createMetricsRegistry } from '../../src/observability/index.js';
import { AdminServiceService, type AlterTopicConfigRequest, type AlterTopicConfigResponse } from '../../src/rpc/generated/tributary/controller/v1/admin_service.js';
import { startRpcServer } from '../../src/rpc/server/rpc-server.js';
import { topicConfigToProto } from '../../src/rpc/services/cluster-metadata-mapping.js';
import { serveUnary } from '../../src/rpc/services/serve-unary.js';

const alterTopicConfig = (request: AlterTopicConfigRequest): Promise<AlterTopicConfigResponse> => {
  const config = { partitions: 1, replicationFactor: 3, minInSyncReplicas: 2, retentionMs: 0, retentionBytes: 0, compression: 'none', maxMessageBytes: 1_048_576, uncleanLeaderElection: false, labels: request.setLabels } as const;
  return Promise.resolve({ config: topicConfigToProto(config), metadataVersion: 1 });
};
const implementation: UntypedServiceImplementation = { alterTopicConfig: serveUnary(alterTopicConfig) };
const config = loadConfig({ env: {}, overrides: { nodeId: 1 } });
const server = await startRpcServer({
  address: '127.0.0.1:0',
  services: [{ definition: AdminServiceService, implementation }],
  limits: config.limits,
  logger: createLogger({ level: 'warn', pretty: false, destination: process.stderr }),
  metrics: createMetricsRegistry({ defaultMetrics: false }),
  credentials: ServerCredentials.createInsecure(),
});
console.log(server.port);
