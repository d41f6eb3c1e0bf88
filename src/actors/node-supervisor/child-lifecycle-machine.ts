import assert from 'node:assert/strict';
import { assign, emit, fromPromise, setup, stateIn } from 'xstate';
import type { Clock } from '../clock.js';
import { backoffDelayMs } from '../../rpc/clients/backoff-delay-ms.js';
import type { ChildSpec } from './child-spec.js';
import type { SupervisedChild } from './supervised-child.js';
import { toError } from './to-error.js';

/** The restart delay's bounds and the randomness its jitter is drawn from. */
export interface Backoff {
  readonly backoffMsMin: number;
  readonly backoffMsMax: number;
  readonly random: { nextInt(maxExclusive: number): number };
}

/** Steps of the uniform [0, 1) draw made from the injected Random for the jitter. */
const jitterDrawSteps = 2 ** 20;

export interface ChildLifecycleInput {
  readonly spec: ChildSpec;
  readonly backoff: Backoff;
  /** Read when a child starts running and when it crashes; the machine's timers go through createActor's clock. */
  readonly clock: Clock;
  /** A child that runs this long without crashing starts its backoff over from backoffMsMin. */
  readonly restartWindowMs: number;
  readonly stopTimeoutMs: number;
}

interface ChildLifecycleContext extends ChildLifecycleInput {
  /** The running child; undefined while starting, backing off or ended. */
  readonly handle: SupervisedChild | undefined;
  /** Restarts done so far (for children()): each start after the first. */
  readonly restarts: number;
  /** When the child last started running; undefined unless it is running. */
  readonly runningSinceMs: number | undefined;
  /** Crashes since the child last ran for restartWindowMs; sets the next backoff. */
  readonly crashesConsecutive: number;
  readonly backoffDelayMs: number;
  /** Why the child last ended when it should not have: its crash, or a permanent child's exit. */
  readonly lastCrash: Error | undefined;
}

/**
 * What the machine tells its supervisor as it happens. The machine only decides from its own
 * policy; counting restarts against the supervisor-wide intensity, and logging, is the
 * supervisor's (node-supervisor.ts).
 */
export type ChildLifecycleEmitted =
  | { type: 'restart-scheduled'; crash: Error; delayMs: number }
  | { type: 'abandoned'; phase: 'starting' | 'stopping'; stopTimeoutMs: number }
  | { type: 'stop-failed'; error: Error };

/**
 * Runs a start and hands back the child. When the machine gave up waiting (the actor was stopped,
 * so `signal` aborted) a start that completes later is stopped at once: nobody else holds the
 * handle, and a child left running unsupervised is worse than one that never started.
 */
const startChild = fromPromise<SupervisedChild, ChildSpec>(async ({ input, signal }) => {
  const handle = await input.start();
  if (signal.aborted) handle.stop().catch(() => undefined);
  return handle;
});

/** Settles when the child ends by itself. */
const watchChild = fromPromise<void, SupervisedChild>(async ({ input }) => input.done);

const stopChild = fromPromise<void, SupervisedChild>(async ({ input }) => input.stop());

/** The states that hold a handle (running, stopping) are entered only with one. */
function requireHandle(context: ChildLifecycleContext): SupervisedChild {
  assert(context.handle !== undefined, `child "${context.spec.id}" has no handle in a state that needs one`);
  return context.handle;
}

/**
 * Context after a crash (or a permanent child's exit): the next backoff grows, unless the child
 * had run for restartWindowMs, which proves the last restart worked and starts the doubling over.
 * Judged at the crash rather than by a timer, so a healthy child costs no pending timer.
 */
function afterCrash(context: ChildLifecycleContext, crash: Error) {
  const { runningSinceMs, restartWindowMs, clock } = context;
  const ranLongEnough = runningSinceMs !== undefined && clock.nowMs() - runningSinceMs >= restartWindowMs;
  const crashesConsecutive = (ranLongEnough ? 0 : context.crashesConsecutive) + 1;
  const { backoff } = context;
  const delayMs = backoffDelayMs(crashesConsecutive, backoff, () => backoff.random.nextInt(jitterDrawSteps) / jitterDrawSteps);
  return { handle: undefined, runningSinceMs: undefined, lastCrash: crash, crashesConsecutive, backoffDelayMs: delayMs };
}

/** Every way into backing-off records the crash first. */
function requireCrash(context: ChildLifecycleContext): Error {
  assert(context.lastCrash !== undefined, `child "${context.spec.id}" is backing off without a crash`);
  return context.lastCrash;
}

/** A permanent child must keep running: its normal exit is treated like a crash. */
function exitedError(spec: ChildSpec): Error {
  return new Error(`permanent child "${spec.id}" exited normally`);
}

/**
 * One child's lifecycle: starting → running → backing-off → starting … until it is stopped
 * (stopping → stopped) or ends for good (stopped after a normal exit its policy does not restart,
 * failed after a crash it does not restart). STOP is the only event; the supervisor sends it.
 * Every wait is bounded: a start or stop that hangs is abandoned after stopTimeoutMs.
 */
export const childLifecycleMachine = setup({
  types: {
    input: {} as ChildLifecycleInput,
    context: {} as ChildLifecycleContext,
    events: {} as { type: 'STOP' },
    emitted: {} as ChildLifecycleEmitted,
  },
  actors: { startChild, watchChild, stopChild },
  delays: {
    backoff: ({ context }) => context.backoffDelayMs,
    stopTimeout: ({ context }) => context.stopTimeoutMs,
  },
  guards: {
    restartsAfterCrash: ({ context }) => context.spec.restart !== 'temporary',
    restartsAfterExit: ({ context }) => context.spec.restart === 'permanent',
  },
  actions: {
    announceRestart: emit(({ context }) => ({ type: 'restart-scheduled' as const, crash: requireCrash(context), delayMs: context.backoffDelayMs })),
    countRestart: assign({ restarts: ({ context }) => context.restarts + 1 }),
    forgetHandle: assign({ handle: undefined, runningSinceMs: undefined }),
    announceAbandoned: emit(({ context }, phase: 'starting' | 'stopping') => ({ type: 'abandoned' as const, phase, stopTimeoutMs: context.stopTimeoutMs })),
  },
}).createMachine({
  id: 'child',
  context: ({ input }) => ({ ...input, handle: undefined, runningSinceMs: undefined, restarts: 0, crashesConsecutive: 0, backoffDelayMs: 0, lastCrash: undefined }),
  initial: 'starting',
  states: {
    starting: {
      initial: 'attempting',
      invoke: {
        src: 'startChild',
        input: ({ context }) => context.spec,
        onDone: [
          { guard: stateIn('#child.starting.abandoning'), target: 'stopping', actions: assign({ handle: ({ event }) => event.output }) },
          { target: 'running', actions: assign({ handle: ({ event }) => event.output, runningSinceMs: ({ context }) => context.clock.nowMs() }) },
        ],
        onError: [
          { guard: stateIn('#child.starting.abandoning'), target: 'stopped' },
          { guard: 'restartsAfterCrash', target: 'backing-off', actions: assign(({ context, event }) => afterCrash(context, toError(event.error))) },
          { target: 'failed', actions: assign({ lastCrash: ({ event }) => toError(event.error) }) },
        ],
      },
      states: {
        attempting: { on: { STOP: 'abandoning' } },
        abandoning: {
          after: { stopTimeout: { target: '#child.stopped', actions: { type: 'announceAbandoned', params: 'starting' as const } } },
        },
      },
    },
    running: {
      invoke: {
        src: 'watchChild',
        input: ({ context }) => requireHandle(context),
        onDone: [
          { guard: 'restartsAfterExit', target: 'backing-off', actions: assign(({ context }) => afterCrash(context, exitedError(context.spec))) },
          { target: 'stopped', actions: 'forgetHandle' },
        ],
        onError: [
          { guard: 'restartsAfterCrash', target: 'backing-off', actions: assign(({ context, event }) => afterCrash(context, toError(event.error))) },
          { target: 'failed', actions: assign({ handle: undefined, runningSinceMs: undefined, lastCrash: ({ event }) => toError(event.error) }) },
        ],
      },
      on: { STOP: 'stopping' },
    },
    'backing-off': {
      entry: 'announceRestart',
      after: { backoff: { target: 'starting', actions: 'countRestart' } },
      on: { STOP: 'stopped' },
    },
    stopping: {
      invoke: {
        src: 'stopChild',
        input: ({ context }) => requireHandle(context),
        onDone: { target: 'stopped', actions: 'forgetHandle' },
        onError: {
          target: 'stopped',
          actions: [emit(({ event }) => ({ type: 'stop-failed' as const, error: toError(event.error) })), 'forgetHandle'],
        },
      },
      after: { stopTimeout: { target: 'stopped', actions: [{ type: 'announceAbandoned', params: 'stopping' as const }, 'forgetHandle'] } },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
});
