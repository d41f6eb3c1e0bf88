import type { ServiceError } from '@grpc/grpc-js';
import { fromGrpcError } from '../error-status.js';
import { deadlineAfter } from './client-options.js';

type UnaryInvocation<Response> = (
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Response) => void,
) => unknown;

/**
 * Makes one unary call with a deadline and turns a failure into the TributaryError the server
 * raised (decoded from the `tributary-error-bin` trailer), so callers never see raw gRPC errors.
 */
export function callUnary<Response>(deadlineMs: number, invoke: UnaryInvocation<Response>): Promise<Response> {
  return new Promise((resolve, reject) => {
    invoke({ deadline: deadlineAfter(deadlineMs) }, (error, response) => {
      if (error) reject(fromGrpcError(error));
      else resolve(response);
    });
  });
}
