import { type ClientDuplexStream, loadPackageDefinition, type Metadata, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { TributaryError } from '../../errors/index.js';
import { fromGrpcError } from '../error-status.js';
import { reflectionProtoPath } from '../proto-files.js';
import { callMetadata, channelCredentialsFor, type ClientOptions, deadlineAfter } from './client-options.js';

interface ReflectionResponse {
  list_services_response?: { service: Array<{ name: string }> };
  error_response?: { error_code: number; error_message: string };
}

interface ReflectionStub {
  ServerReflectionInfo(metadata: Metadata, options: { deadline: Date }): ClientDuplexStream<{ list_services: string }, ReflectionResponse>;
  close(): void;
}

function reflectionClientConstructor(): ServiceClientConstructor {
  const definition = loadSync(reflectionProtoPath, { keepCase: true, defaults: true, oneofs: true });
  const grpcNamespace = loadPackageDefinition(definition).grpc as { reflection: { v1: { ServerReflection: ServiceClientConstructor } } };
  return grpcNamespace.reflection.v1.ServerReflection;
}

/** Lists the fully qualified services a node serves, through gRPC server reflection. */
export function listServices(address: string, options: ClientOptions): Promise<string[]> {
  const ServerReflection = reflectionClientConstructor();
  const client = new ServerReflection(address, channelCredentialsFor(options.tls)) as unknown as ReflectionStub;
  return new Promise<string[]>((resolve, reject) => {
    const call = client.ServerReflectionInfo(callMetadata(options), { deadline: deadlineAfter(options.deadlineMs) });
    call.once('data', (response: ReflectionResponse) => {
      call.end();
      if (response.error_response) {
        reject(new TributaryError('UNKNOWN', `reflection failed: ${response.error_response.error_message}`));
      } else {
        resolve((response.list_services_response?.service ?? []).map((service) => service.name).sort());
      }
    });
    call.once('error', (error) => reject(fromGrpcError(error as Parameters<typeof fromGrpcError>[0])));
    call.write({ list_services: '' });
  }).finally(() => client.close());
}
