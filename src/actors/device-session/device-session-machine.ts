import { assign, fromPromise, setup } from 'xstate';
import type { SessionState } from '../../ingest/ingest-types.js';

/** What a device-session actor asks of the world: its session on the partition's leader (DeviceSessions supplies it). */
export interface DeviceSessionEffects {
  /** The session's state as committed records say; throws NOT_LEADER once the leadership ended. */
  state(): SessionState;
  /** When the session expires unless something commits first: the earlier of its deadline and its idle timeout. */
  expiresAtMs(): number;
  nowMs(): number;
  /** Records the completed session in the catalog and stores its end record. */
  complete(): Promise<void>;
  /** Stores the session's expired end record. */
  expire(): Promise<void>;
  /** Records the session's progress in the catalog. */
  recordProgress(): Promise<void>;
}

export interface DeviceSessionTimings {
  /** How often progress goes to the catalog while chunks commit (ListSessions lags by at most this). */
  readonly progressIntervalMs: number;
  /** How long a failed completion or expiry waits before it is tried again. */
  readonly retryDelayMs: number;
}

export interface DeviceSessionContext {
  readonly effects: DeviceSessionEffects;
  readonly timings: DeviceSessionTimings;
  /** Something committed since progress last went to the catalog. */
  progressDue: boolean;
}

export type DeviceSessionEvent = { type: 'changed' };

/** Where the session's committed state says the actor belongs; a leadership that ended reads as `released`. */
function routeOf(effects: DeviceSessionEffects): SessionState | 'released' {
  try {
    return effects.state();
  } catch {
    return 'released';
  }
}

const route = (state: SessionState | 'released' | 'active') => ({ context }: { context: DeviceSessionContext }) => {
  const now = routeOf(context.effects);
  return state === 'active' ? now === 'open' || now === 'receiving' : now === state;
};

const transitions = [
  { guard: route('committing'), target: '#device-session.committing' },
  { guard: route('complete'), target: '#device-session.complete' },
  { guard: route('expired'), target: '#device-session.expired' },
  { guard: route('failed'), target: '#device-session.failed' },
  { guard: route('terminated'), target: '#device-session.terminated' },
  { guard: route('released'), target: '#device-session.released' },
];

/**
 * One upload session on its partition's leader (DESIGN.md §7): `open` and `receiving` while chunks
 * come, each with a timer for the session's expiry (its deadline or idle timeout, re-armed at every
 * change); `committing` once every source's final chunk is committed, until the catalog records it
 * and its end record commits; then `complete`, or `expired`, `failed` or `terminated` as the
 * session's end record says. `released` when this broker stopped leading the partition: the new
 * leader replays the log and starts its own actor. The machine decides nothing about bytes: the
 * per-chunk path is IngestPartition's plain calls; this owns time and the session's lifecycle.
 */
export const deviceSessionMachine = setup({
  types: {
    context: {} as DeviceSessionContext,
    events: {} as DeviceSessionEvent,
    input: {} as { effects: DeviceSessionEffects; timings: DeviceSessionTimings },
  },
  actors: {
    complete: fromPromise<void, { effects: DeviceSessionEffects }>(({ input }) => input.effects.complete()),
    expire: fromPromise<void, { effects: DeviceSessionEffects }>(({ input }) => input.effects.expire()),
  },
  actions: {
    markProgress: assign({ progressDue: true }),
    recordProgress: assign({
      progressDue: ({ context }) => {
        if (context.progressDue) void context.effects.recordProgress().catch(() => undefined);
        return false;
      },
    }),
  },
  delays: {
    untilExpiry: ({ context }) => Math.max(0, context.effects.expiresAtMs() - context.effects.nowMs()),
    progressInterval: ({ context }) => context.timings.progressIntervalMs,
    retryDelay: ({ context }) => context.timings.retryDelayMs,
  },
}).createMachine({
  id: 'device-session',
  context: ({ input }) => ({ effects: input.effects, timings: input.timings, progressDue: false }),
  initial: 'routing',
  states: {
    routing: {
      always: [...transitions, { guard: route('open'), target: 'open' }, { target: 'receiving' }],
    },
    open: {
      after: { untilExpiry: 'expiring', progressInterval: { target: 'routing', actions: 'recordProgress', reenter: true } },
      on: { changed: { target: 'routing', actions: 'markProgress', reenter: true } },
    },
    receiving: {
      after: { untilExpiry: 'expiring', progressInterval: { target: 'routing', actions: 'recordProgress', reenter: true } },
      on: { changed: { target: 'routing', actions: 'markProgress', reenter: true } },
    },
    expiring: {
      // A chunk may have committed as the timer fired: expire only a session still past its time.
      always: [{ guard: ({ context }) => context.effects.nowMs() < context.effects.expiresAtMs(), target: 'routing' }],
      invoke: { src: 'expire', input: ({ context }) => ({ effects: context.effects }), onDone: 'routing', onError: 'retrying' },
    },
    committing: {
      invoke: { src: 'complete', input: ({ context }) => ({ effects: context.effects }), onDone: 'routing', onError: 'retrying' },
    },
    retrying: {
      after: { retryDelay: 'routing' },
    },
    complete: { type: 'final' },
    expired: { type: 'final' },
    failed: { type: 'final' },
    terminated: { type: 'final' },
    released: { type: 'final' },
  },
});
