import { assign, fromPromise, setup } from 'xstate';
import { TributaryError } from '../../errors/index.js';
import type { BrokerHeartbeatAnswer, BrokerRegistered, BrokerStanding } from '../../rpc/clients/index.js';

/** What the machine asks of the world; BrokerLifecycle supplies it (broker-lifecycle.ts). */
export interface BrokerLifecycleEffects {
  register(): Promise<BrokerRegistered>;
  heartbeat(brokerEpoch: number, wantsShutdown: boolean): Promise<BrokerHeartbeatAnswer>;
  /** Delay before registration attempt `failures + 1`, after `failures` failed ones. */
  registerBackoffMs(failures: number): number;
  readonly controlledShutdownTimeoutMs: number;
  /** How often to ask again whether the controller has moved every leadership away. */
  readonly shutdownPollMs: number;
  /**
   * Failed shutdown heartbeats in a row after which the broker stops without waiting out the
   * timeout: with the controllers unreachable nobody can move its leaderships anyway.
   */
  readonly shutdownFailuresMax: number;
}

export interface BrokerLifecycleContext {
  readonly effects: BrokerLifecycleEffects;
  brokerEpoch: number;
  standing: BrokerStanding;
  heartbeatIntervalMs: number;
  /** Consecutive failures of the current step: registrations, or heartbeats. */
  failures: number;
  lastError: TributaryError | undefined;
  /** Leaderships the controller still had to move at the last shutdown heartbeat. */
  remainingLeaderships: number;
}

export type BrokerLifecycleEvent = { type: 'shutdown' };

/**
 * Errors after which registering again cannot help. FENCED on a heartbeat means another process
 * registered this node id with a newer incarnation: re-registering would fence it in turn, and
 * the two would take the id from each other for ever.
 */
const terminalCodes = new Set(['FENCED', 'INVALID_REQUEST', 'VERSION_MISMATCH', 'UNAUTHENTICATED', 'PERMISSION_DENIED']);
/** Heartbeat answers that mean the controller no longer knows this incarnation: register again. */
const reregisterCodes = new Set(['NODE_NOT_FOUND', 'STALE_EPOCH']);

function asTributaryError(error: unknown): TributaryError {
  if (error instanceof TributaryError) return error;
  return new TributaryError('UNKNOWN', error instanceof Error ? error.message : String(error), { cause: error });
}

const isTerminal = ({ event }: { event: { error: unknown } }) => terminalCodes.has(asTributaryError(event.error).code);
const needsRegistration = ({ event }: { event: { error: unknown } }) => reregisterCodes.has(asTributaryError(event.error).code);

/**
 * A broker's standing with the controller quorum (DESIGN.md §8, Kafka's BrokerLifecycleManager):
 * register, heartbeat at the interval the controller asks for, and on `shutdown` keep
 * heartbeating with wants-shutdown until the controller says every leadership moved away (or
 * controlledShutdownTimeoutMs passes, or shutdownFailuresMax heartbeats in a row fail). Registration retries with backoff; a failed heartbeat is
 * retried at the next interval, since the controller fences a broker only after a whole session
 * timeout. Ends in `stopped`, or in `failed` when the controller refuses this process for good.
 */
export const brokerLifecycleMachine = setup({
  types: {
    context: {} as BrokerLifecycleContext,
    events: {} as BrokerLifecycleEvent,
    input: {} as { effects: BrokerLifecycleEffects },
  },
  actors: {
    register: fromPromise<BrokerRegistered, { effects: BrokerLifecycleEffects }>(({ input }) => input.effects.register()),
    heartbeat: fromPromise<BrokerHeartbeatAnswer, { effects: BrokerLifecycleEffects; brokerEpoch: number; wantsShutdown: boolean }>(({ input }) =>
      input.effects.heartbeat(input.brokerEpoch, input.wantsShutdown),
    ),
  },
  delays: {
    registerBackoff: ({ context }) => context.effects.registerBackoffMs(context.failures),
    heartbeatInterval: ({ context }) => context.heartbeatIntervalMs,
    shutdownPoll: ({ context }) => Math.min(context.effects.shutdownPollMs, context.heartbeatIntervalMs),
    controlledShutdownTimeout: ({ context }) => context.effects.controlledShutdownTimeoutMs,
  },
  actions: {
    recordFailure: assign({
      failures: ({ context }) => context.failures + 1,
      lastError: ({ event }) => asTributaryError((event as unknown as { error: unknown }).error),
    }),
  },
}).createMachine({
  id: 'brokerLifecycle',
  context: ({ input }) => ({
    effects: input.effects,
    brokerEpoch: 0,
    standing: 'fenced',
    heartbeatIntervalMs: 0,
    failures: 0,
    lastError: undefined,
    remainingLeaderships: 0,
  }),
  initial: 'registering',
  states: {
    registering: {
      on: { shutdown: 'stopped' },
      invoke: {
        src: 'register',
        input: ({ context }) => ({ effects: context.effects }),
        onDone: {
          target: 'running',
          actions: assign({
            brokerEpoch: ({ event }) => event.output.brokerEpoch,
            heartbeatIntervalMs: ({ event }) => event.output.heartbeatIntervalMs,
            standing: 'fenced',
            failures: 0,
            lastError: undefined,
          }),
        },
        onError: [
          { guard: isTerminal, target: 'failed', actions: 'recordFailure' },
          { target: 'waitingToRegister', actions: 'recordFailure' },
        ],
      },
    },
    waitingToRegister: {
      on: { shutdown: 'stopped' },
      after: { registerBackoff: 'registering' },
    },
    running: {
      on: { shutdown: 'shuttingDown' },
      initial: 'beating',
      states: {
        beating: {
          invoke: {
            src: 'heartbeat',
            input: ({ context }) => ({ effects: context.effects, brokerEpoch: context.brokerEpoch, wantsShutdown: false }),
            onDone: {
              target: 'idle',
              actions: assign({
                standing: ({ event }) => event.output.standing,
                heartbeatIntervalMs: ({ event }) => event.output.heartbeatIntervalMs,
                failures: 0,
                lastError: undefined,
              }),
            },
            onError: [
              { guard: isTerminal, target: '#brokerLifecycle.failed', actions: 'recordFailure' },
              { guard: needsRegistration, target: '#brokerLifecycle.registering', actions: 'recordFailure' },
              { target: 'idle', actions: 'recordFailure' },
            ],
          },
        },
        idle: { after: { heartbeatInterval: 'beating' } },
      },
    },
    shuttingDown: {
      entry: assign({ failures: 0 }),
      after: { controlledShutdownTimeout: 'stopped' },
      initial: 'beating',
      states: {
        beating: {
          invoke: {
            src: 'heartbeat',
            input: ({ context }) => ({ effects: context.effects, brokerEpoch: context.brokerEpoch, wantsShutdown: true }),
            onDone: [
              {
                guard: ({ event }) => event.output.shutdownReady,
                target: '#brokerLifecycle.stopped',
                actions: assign({ remainingLeaderships: ({ event }) => event.output.remainingLeaderships }),
              },
              {
                target: 'waiting',
                actions: assign({
                  standing: ({ event }) => event.output.standing,
                  remainingLeaderships: ({ event }) => event.output.remainingLeaderships,
                }),
              },
            ],
            onError: [
              { guard: isTerminal, target: '#brokerLifecycle.stopped', actions: 'recordFailure' },
              { guard: ({ context }) => context.failures + 1 >= context.effects.shutdownFailuresMax, target: '#brokerLifecycle.stopped', actions: 'recordFailure' },
              { target: 'waiting', actions: 'recordFailure' },
            ],
          },
        },
        waiting: { after: { shutdownPoll: 'beating' } },
      },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
});
