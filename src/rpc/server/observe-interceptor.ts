import { type ServerInterceptor, ServerInterceptingCall, status as GrpcStatus } from '@grpc/grpc-js';
import type { Logger, MetricsRegistry } from '../../observability/index.js';
import { parseRpcMethod } from './rpc-method.js';

/** Statuses that mean the server, not the caller, is at fault: logged as warnings. */
const serverFaultStatuses = new Set<GrpcStatus>([GrpcStatus.UNKNOWN, GrpcStatus.INTERNAL, GrpcStatus.DATA_LOSS]);

const nanosecondsPerSecond = 1e9;

/**
 * Counts, times and logs every call: requests by status code, a latency histogram, calls in
 * flight. A call ends once, whether by status or by the client cancelling.
 */
export function createObserveInterceptor(metrics: MetricsRegistry, logger: Logger): ServerInterceptor {
  return (methodDescriptor, call) => {
    const { service, method } = parseRpcMethod(methodDescriptor.path);
    const startedAt = process.hrtime.bigint();
    let finished = false;
    metrics.rpcInFlight.inc({ service, method });
    const finish = (code: GrpcStatus, details: string | undefined) => {
      if (finished) return;
      finished = true;
      const durationSeconds = Number(process.hrtime.bigint() - startedAt) / nanosecondsPerSecond;
      const codeName = GrpcStatus[code] ?? String(code);
      metrics.rpcInFlight.dec({ service, method });
      metrics.rpcRequestsTotal.inc({ service, method, code: codeName });
      metrics.rpcDurationSeconds.observe({ service, method, code: codeName }, durationSeconds);
      const fields = { service, method, code: codeName, durationMs: durationSeconds * 1000, peer: call.getPeer() };
      if (serverFaultStatuses.has(code)) logger.warn({ ...fields, details }, 'rpc failed');
      else logger.debug(fields, 'rpc finished');
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => finish(GrpcStatus.CANCELLED, 'cancelled by the client') }),
      sendStatus: (status, next) => {
        finish(status.code, status.details);
        next(status);
      },
    });
  };
}
