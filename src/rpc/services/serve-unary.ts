import type { handleUnaryCall } from '@grpc/grpc-js';
import { toGrpcStatus } from '../error-status.js';

/**
 * A unary handler from an async function of the request: its result is the response, and
 * whatever it throws is answered as a status with the `tributary-error-bin` trailer.
 */
export function serveUnary<Request, Response>(handler: (request: Request) => Promise<Response>): handleUnaryCall<Request, Response> {
  return (call, callback) => {
    handler(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toGrpcStatus(error)),
    );
  };
}
