import { type ServerInterceptor, ServerInterceptingCall } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import { toGrpcStatus } from '../error-status.js';

/**
 * Gives every unary call without a client deadline the server's own bound, so no request can
 * hold resources forever; streams are long-lived by design and keep whatever the client chose.
 * Client deadlines are enforced by grpc-js itself. Once this interceptor has answered
 * DEADLINE_EXCEEDED, the handler's late answer is dropped so the client sees one status only.
 */
export function createDeadlineInterceptor(requestTimeoutMs: number): ServerInterceptor {
  if (!Number.isSafeInteger(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new RangeError(`requestTimeoutMs must be a positive integer, got ${requestTimeoutMs}`);
  }
  return (methodDescriptor, call) => {
    const isUnary = !methodDescriptor.requestStream && !methodDescriptor.responseStream;
    if (!isUnary || call.getDeadline() !== Infinity) return new ServerInterceptingCall(call);
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      const error = new TributaryError('TIMEOUT', `${methodDescriptor.path} did not finish within the server's ${requestTimeoutMs} ms request timeout`);
      call.sendStatus(toGrpcStatus(error));
    }, requestTimeoutMs);
    const settle = () => clearTimeout(timer);
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: settle }),
      sendMessage: (message, next) => {
        if (!answered) next(message);
      },
      sendStatus: (status, next) => {
        settle();
        if (answered) return;
        answered = true;
        next(status);
      },
    });
  };
}
