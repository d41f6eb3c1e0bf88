import { type Actor, createActor } from 'xstate';
import { TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import { type BackoffLimits, backoffDelayMs } from '../../rpc/clients/backoff-delay-ms.js';
import type {
  BrokerHeartbeat, BrokerHeartbeatAnswer, BrokerRegistered, BrokerRegistration, BrokerStanding,
} from '../../rpc/clients/index.js';
import type { Clock } from '../clock.js';
import { xstateClockOf } from '../xstate-clock.js';
import { brokerLifecycleMachine } from './broker-lifecycle-machine.js';

/** The controller calls a broker's lifecycle makes: ControllerBrokerClient in a process. */
export interface ControllerLink {
  register(registration: BrokerRegistration): Promise<BrokerRegistered>;
  heartbeat(heartbeat: BrokerHeartbeat): Promise<BrokerHeartbeatAnswer>;
}

export interface BrokerLifecycleSettings extends BackoffLimits {
  /** Bound on a controlled shutdown: past it the broker stops even with leaderships left. */
  readonly controlledShutdownTimeoutMs: number;
  /** During a controlled shutdown, how often to ask whether the leaderships moved away. */
  readonly shutdownPollMs: number;
  /** Failed shutdown heartbeats in a row after which the broker stops anyway (controllers unreachable). */
  readonly shutdownFailuresMax: number;
}

export const brokerLifecycleDefaults: BrokerLifecycleSettings = {
  backoffMsMin: 100,
  backoffMsMax: 5_000,
  controlledShutdownTimeoutMs: 30_000,
  shutdownPollMs: 200,
  shutdownFailuresMax: 3,
};

export interface BrokerLifecycleOptions {
  readonly registration: BrokerRegistration;
  readonly link: ControllerLink;
  /** The highest metadata version this broker has applied: heartbeats report it, and it unfences the broker. */
  readonly appliedMetadataVersion: () => number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly settings: BrokerLifecycleSettings;
  /** Told when the controller's view of this broker changes (fenced, active, shutting down). */
  readonly onStanding?: (standing: BrokerStanding, brokerEpoch: number) => void;
  /** Told once when the controller refuses this process for good: the node should exit. */
  readonly onFailure?: (error: TributaryError) => void;
}

/**
 * Runs brokerLifecycleMachine for one broker process: registration, heartbeats, controlled
 * shutdown. Readers see the standing and incarnation epoch the controller last confirmed.
 */
export class BrokerLifecycle {
  private readonly actor: Actor<typeof brokerLifecycleMachine>;
  private readonly ended: Promise<void>;
  private reportedStanding: BrokerStanding | undefined;

  constructor(private readonly options: BrokerLifecycleOptions) {
    const { settings, logger } = options;
    this.actor = createActor(brokerLifecycleMachine, {
      clock: xstateClockOf(options.clock),
      input: {
        effects: {
          register: () => this.register(),
          heartbeat: (brokerEpoch, wantsShutdown) => this.heartbeat(brokerEpoch, wantsShutdown),
          registerBackoffMs: (failures) => backoffDelayMs(Math.max(1, failures), settings, options.random),
          controlledShutdownTimeoutMs: settings.controlledShutdownTimeoutMs,
          shutdownPollMs: settings.shutdownPollMs,
          shutdownFailuresMax: settings.shutdownFailuresMax,
        },
      },
    });
    this.ended = new Promise((resolve) => {
      this.actor.subscribe({
        next: (snapshot) => {
          this.report(snapshot.context.standing, snapshot.context.brokerEpoch);
          if (snapshot.status !== 'done') return;
          if (snapshot.value === 'failed') this.failed(snapshot.context.lastError);
          resolve();
        },
        // An error escaping the machine is a bug in it; stopping is all that is safe.
        error: (error) => {
          logger.error({ err: error }, 'broker lifecycle crashed');
          this.failed(new TributaryError('UNKNOWN', `broker lifecycle crashed: ${String(error)}`, { cause: error }));
          resolve();
        },
      });
    });
  }

  start(): void {
    this.actor.start();
  }

  /** The incarnation epoch of the last registration; 0 before the first. */
  brokerEpoch(): number {
    return this.actor.getSnapshot().context.brokerEpoch;
  }

  standing(): BrokerStanding {
    return this.actor.getSnapshot().context.standing;
  }

  /** The machine's state, e.g. `{"running":"idle"}`, for status and logs. */
  state(): string {
    return JSON.stringify(this.actor.getSnapshot().value);
  }

  /** Controlled shutdown: resolves once the controller moved this broker's leaderships away, or the bound passed. */
  async shutdown(): Promise<void> {
    this.actor.send({ type: 'shutdown' });
    await this.ended;
    const { remainingLeaderships } = this.actor.getSnapshot().context;
    if (remainingLeaderships > 0) this.options.logger.warn({ remainingLeaderships }, 'controlled shutdown ended with leaderships not moved away');
    this.actor.stop();
  }

  private register(): Promise<BrokerRegistered> {
    return this.options.link.register(this.options.registration).then((registered) => {
      this.options.logger.info({ brokerEpoch: registered.brokerEpoch, metadataVersion: registered.metadataVersion }, 'broker registered');
      return registered;
    });
  }

  private heartbeat(brokerEpoch: number, wantsShutdown: boolean): Promise<BrokerHeartbeatAnswer> {
    const { nodeId } = this.options.registration;
    return this.options.link.heartbeat({ nodeId, brokerEpoch, metadataVersion: this.options.appliedMetadataVersion(), wantsShutdown });
  }

  private report(standing: BrokerStanding, brokerEpoch: number): void {
    if (standing === this.reportedStanding || brokerEpoch === 0) return;
    this.reportedStanding = standing;
    this.options.logger.info({ standing, brokerEpoch }, 'broker standing changed');
    this.options.onStanding?.(standing, brokerEpoch);
  }

  private failed(error: TributaryError | undefined): void {
    const failure = error ?? new TributaryError('UNKNOWN', 'the broker lifecycle failed');
    this.options.logger.error({ err: failure }, 'the controller refused this broker for good');
    this.options.onFailure?.(failure);
  }
}
