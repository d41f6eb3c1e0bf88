import { randomUUID } from 'node:crypto';
import { type ServerInterceptor, ServerInterceptingCall } from '@grpc/grpc-js';
import { type RequestContext, runWithRequestContext } from '../../observability/index.js';
import { parseRpcMethod } from './rpc-method.js';

/** Metadata key a caller may set to name the request before its first message arrives. */
export const requestIdMetadataKey = 'x-request-id';

/** The part of every Tributary request message this interceptor reads. */
interface HeaderCarrier {
  header?: { requestId?: string; traceId?: string; clientId?: string } | undefined;
}

/**
 * Runs every inbound event of a call, and so its handler and all continuations, inside a request
 * context: log lines carry the request id without handlers passing it along. The id comes from the
 * first message's RequestHeader when it names one, else from `x-request-id` metadata, else a new
 * UUID.
 */
export const requestContextInterceptor: ServerInterceptor = (methodDescriptor, call) => {
  const { service, method: name } = parseRpcMethod(methodDescriptor.path);
  const method = `${service}/${name}`;
  let context: RequestContext = { requestId: randomUUID(), method };
  let headerSeen = false;
  const run = (fn: () => void) => runWithRequestContext(context, fn);
  return new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMetadata: (metadata, nextMetadata) => {
          const fromMetadata = metadata.get(requestIdMetadataKey)[0];
          if (typeof fromMetadata === 'string' && fromMetadata.length > 0) context = { ...context, requestId: fromMetadata };
          run(() => nextMetadata(metadata));
        },
        onReceiveMessage: (message: HeaderCarrier, nextMessage) => {
          if (!headerSeen) {
            headerSeen = true;
            context = withHeader(context, message?.header);
          }
          run(() => nextMessage(message));
        },
        onReceiveHalfClose: (nextHalfClose) => run(nextHalfClose),
      }),
  });
};

function withHeader(context: RequestContext, header: HeaderCarrier['header']): RequestContext {
  if (header === undefined) return context;
  return {
    ...context,
    requestId: header.requestId || context.requestId,
    ...(header.traceId ? { traceId: header.traceId } : {}),
    ...(header.clientId ? { clientId: header.clientId } : {}),
  };
}
