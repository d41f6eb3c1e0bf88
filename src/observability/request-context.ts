import { AsyncLocalStorage } from 'node:async_hooks';

/** What identifies one inbound request while it is being served. */
export interface RequestContext {
  readonly requestId: string;
  readonly traceId?: string;
  readonly clientId?: string;
  readonly method?: string;
}

/** The ids that every log line emitted inside a request carries. */
export interface RequestLogFields {
  requestId?: string;
  traceId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Runs `fn` with `context` as the current request context. The context follows every
 * continuation of `fn` (promises, timers, callbacks), so handlers need not pass it along.
 */
export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  if (context.requestId.length === 0) {
    throw new Error('request context needs a non-empty requestId');
  }
  return storage.run(Object.freeze({ ...context }), fn);
}

/** The context of the request being served, or undefined outside any request. */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/**
 * A pino `mixin`: adds the current request's ids to a log line. Returns an empty object outside
 * a request so that lines emitted at start-up or by timers carry no stale ids.
 */
export function requestContextMixin(): RequestLogFields {
  const context = storage.getStore();
  if (context === undefined) return {};
  const fields: RequestLogFields = { requestId: context.requestId };
  if (context.traceId !== undefined) fields.traceId = context.traceId;
  return fields;
}

/**
 * Runs `fn` outside any request context: for handing work to a long-lived component (the Raft
 * host's loop) whose later log lines belong to no request, not to the one that woke it.
 */
export function runOutsideRequestContext<T>(fn: () => T): T {
  return storage.exit(fn);
}
