/** A gRPC method path, `/tributary.client.v1.ProducerService/Produce`, split for labels and logs. */
export interface RpcMethod {
  /** Fully qualified service name, e.g. `tributary.client.v1.ProducerService`. */
  service: string;
  /** Method name, e.g. `Produce`. */
  method: string;
  /** Whether the service belongs to Tributary's own contract (and so carries RequestHeader). */
  isTributary: boolean;
}

export function parseRpcMethod(path: string): RpcMethod {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  const service = match?.[1] ?? 'unknown';
  const method = match?.[2] ?? path;
  return { service, method, isTributary: service.startsWith('tributary.') };
}
