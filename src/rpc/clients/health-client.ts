import { type Client, loadPackageDefinition, type Metadata, type ServiceClientConstructor, type ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { callUnary } from './call-unary.js';
import { callMetadata, channelCredentialsFor, type ClientOptions } from './client-options.js';

/** `grpc.health.v1` serving status of one service ('' is the whole server). */
export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

interface HealthStub extends Client {
  Check(request: { service: string }, metadata: Metadata, options: { deadline: Date }, callback: (error: ServiceError | null, response: { status: ServingStatus }) => void): unknown;
}

let healthConstructor: ServiceClientConstructor | undefined;

function healthClientConstructor(): ServiceClientConstructor {
  if (healthConstructor === undefined) {
    const definition = loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
    const grpcNamespace = loadPackageDefinition(definition).grpc as { health: { v1: { Health: ServiceClientConstructor } } };
    healthConstructor = grpcNamespace.health.v1.Health;
  }
  return healthConstructor;
}

/** Asks a node's standard health service about one service, or about the server as a whole. */
export async function checkHealth(address: string, service: string, options: ClientOptions): Promise<ServingStatus> {
  const Health = healthClientConstructor();
  const client = new Health(address, channelCredentialsFor(options.tls)) as unknown as HealthStub;
  try {
    const response = await callUnary<{ status: ServingStatus }>(options.deadlineMs, (callOptions, callback) =>
      client.Check({ service }, callMetadata(options), callOptions, callback),
    );
    return response.status;
  } catch (error) {
    // The health protocol answers NOT_FOUND for a service the server does not register.
    if ((error as { cause?: ServiceError }).cause?.code === GrpcStatus.NOT_FOUND) return 'SERVICE_UNKNOWN';
    throw error;
  } finally {
    client.close();
  }
}
