import { type ServerInterceptingCallInterface, type ServerInterceptor, ServerInterceptingCall } from '@grpc/grpc-js';
import type { TributaryError } from '../../errors/index.js';
import { toGrpcStatus } from '../error-status.js';

/** The calls a server has in flight, so shutdown can end the stragglers with a real status. */
export interface CallRegistry {
  readonly interceptor: ServerInterceptor;
  /** How many calls have not yet sent their status. */
  inFlightCount(): number;
  /** Ends every in-flight call with `error`; later output from their handlers is dropped. */
  endAll(error: TributaryError): void;
}

/**
 * Lets each call end exactly once: when an interceptor has answered for the handler (a timeout,
 * a refused version) or shutdown has ended the call, the handler's late output is dropped.
 * Without the registry, a forced shutdown resets the HTTP/2 streams and clients see a bare CANCELLED with
 * no ErrorDetail; with it they see SHUTTING_DOWN, retriable, and know to go elsewhere.
 */
export function createCallRegistry(): CallRegistry {
  const calls = new Map<ServerInterceptingCallInterface, { ended: boolean }>();
  const interceptor: ServerInterceptor = (_methodDescriptor, call) => {
    const state = { ended: false };
    calls.set(call, state);
    const forget = () => calls.delete(call);
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: forget }),
      sendMessage: (message, next) => {
        if (!state.ended) next(message);
      },
      sendStatus: (status, next) => {
        forget();
        if (state.ended) return;
        state.ended = true;
        next(status);
      },
    });
  };
  return {
    interceptor,
    inFlightCount: () => calls.size,
    endAll: (error) => {
      const status = toGrpcStatus(error);
      for (const [call, state] of [...calls]) {
        calls.delete(call);
        if (state.ended) continue;
        state.ended = true;
        call.sendStatus(status);
      }
    },
  };
}
