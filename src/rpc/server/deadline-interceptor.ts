import { type ServerInterceptor, ServerInterceptingCall } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import { toGrpcStatus } from '../error-status.js';

/**
 * Gives every unary call without a client deadline the server's own bound, so no request can
 * hold resources forever; streams are long-lived by design and keep whatever the client chose.
 * Client deadlines are enforced by grpc-js itself. The handler's late answer is dropped by the
 * call registry, which lets each call end once.
 */
export function createDeadlineInterceptor(requestTimeoutMs: number): ServerInterceptor {
  if (!Number.isSafeInteger(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new RangeError(`requestTimeoutMs must be a positive integer, got ${requestTimeoutMs}`);
  }
  return (methodDescriptor, call) => {
    const isUnary = !methodDescriptor.requestStream && !methodDescriptor.responseStream;
    if (!isUnary || call.getDeadline() !== Infinity) return new ServerInterceptingCall(call);
    const timer = setTimeout(() => {
      const error = new TributaryError('TIMEOUT', `${methodDescriptor.path} did not finish within the server's ${requestTimeoutMs} ms request timeout`);
      call.sendStatus(toGrpcStatus(error));
    }, requestTimeoutMs);
    const settle = () => clearTimeout(timer);
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: settle }),
      sendStatus: (status, next) => {
        settle();
        next(status);
      },
    });
  };
}
