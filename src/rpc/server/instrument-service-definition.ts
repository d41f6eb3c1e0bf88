import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type { MetricsRegistry } from '../../observability/index.js';
import { parseRpcMethod } from './rpc-method.js';

/**
 * A copy of `definition` whose codecs count wire bytes per method. The codecs already hold each
 * message's encoded buffer, so counting there costs nothing extra; an interceptor would only see
 * decoded objects and would have to encode them again.
 */
export function instrumentServiceDefinition(definition: ServiceDefinition, metrics: MetricsRegistry): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([key, method]) => [key, instrumentMethod(method as MethodDefinition<unknown, unknown>, metrics)]),
  );
}

function instrumentMethod(method: MethodDefinition<unknown, unknown>, metrics: MetricsRegistry): MethodDefinition<unknown, unknown> {
  const labels = parseRpcMethod(method.path);
  const methodLabels = { service: labels.service, method: labels.method };
  return {
    ...method,
    requestDeserialize: (bytes: Buffer) => {
      metrics.rpcBytesReceivedTotal.inc(methodLabels, bytes.length);
      return method.requestDeserialize(bytes);
    },
    responseSerialize: (value: unknown) => {
      const bytes = method.responseSerialize(value);
      metrics.rpcBytesSentTotal.inc(methodLabels, bytes.length);
      return bytes;
    },
  };
}
