import type { Client, Metadata, ServiceError } from '@grpc/grpc-js';
import { fromGrpcError } from '../error-status.js';
import { deadlineAfter } from './client-options.js';

type UnaryMethod<Request, Response> = (
  request: Request,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Response) => void,
) => unknown;

/**
 * Calls one unary method with a deadline and turns a failure into the TributaryError the server
 * raised (decoded from the `tributary-error-bin` trailer), so callers never see raw gRPC errors.
 */
export function callUnary<Request, Response>(
  client: Client,
  method: UnaryMethod<Request, Response>,
  request: Request,
  metadata: Metadata,
  deadlineMs: number,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    method.call(client, request, metadata, { deadline: deadlineAfter(deadlineMs) }, (error, response) => {
      if (error) reject(fromGrpcError(error));
      else resolve(response);
    });
  });
}
