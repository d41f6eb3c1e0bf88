import { systemClock, type Clock } from '../actors/clock.js';
import { TributaryError } from '../errors/index.js';
import type { DeviceCommand, DeviceCommandAck, DeviceCommandOutcome, DeviceStatusReport } from '../ingest/device-control-types.js';
import { backoffDelayMs, type BackoffLimits, type ControlStream, type ControlStreamHandlers } from '../rpc/clients/index.js';

/** Opens a device's Control stream at a broker: ControlPlaneClient in production. */
export interface ControlLink {
  openControl(address: string, deviceId: string, firstStatus: DeviceStatusReport, handlers: ControlStreamHandlers): ControlStream;
}

/** What a command handler answers; `message` is required for rejected and failed. */
export interface CommandOutcome {
  outcome: DeviceCommandOutcome;
  message?: string;
}

export type DeviceControlEvent =
  | { kind: 'connected'; brokerNodeId: number; connectionEpoch: number; address: string }
  | { kind: 'disconnected'; error: TributaryError | undefined; retryInMs: number }
  /** Another process opened a newer stream for this device; this one stopped for good. */
  | { kind: 'fenced'; error: TributaryError };

export interface DeviceControlOptions {
  readonly deviceId: string;
  /** Broker addresses, host:port; tried in turn, the next one after each failure. */
  readonly brokers: readonly string[];
  readonly link: ControlLink;
  /** The device's status now: sent first on every stream and then every status interval. */
  readonly status: () => DeviceStatusReport;
  /** Carries a command out. A throw answers FAILED with its message. */
  readonly onCommand: (command: DeviceCommand) => Promise<CommandOutcome> | CommandOutcome;
  readonly onEvent?: (event: DeviceControlEvent) => void;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly backoff?: BackoffLimits;
}

/** Reconnection backoff: soon after a blip, at most half a minute apart during an outage. */
export const deviceControlBackoffDefaults: BackoffLimits = { backoffMsMin: 200, backoffMsMax: 30_000 };
/** Command ids a device remembers having carried out (with their acks), for dedup across re-sends. */
export const rememberedCommandsMax = 1_024;

/**
 * A device's side of the control plane (docs/CONTROL_PLANE.md): keeps one Control stream open to
 * some broker, reconnecting with backoff to the next one when it ends; reports status every
 * interval the broker asks for; runs each command once, however often it is re-sent, and
 * acknowledges it (again, for a repeat). Stops for good when fenced by a newer stream of the same
 * device, or when closed.
 */
export class DeviceControl {
  private stream: ControlStream | undefined;
  private cancelTimer: () => void = () => undefined;
  private failures = 0;
  private brokerIndex = 0;
  private closed = false;
  /** Acks of commands carried out, oldest first; a command in progress maps to undefined. */
  private readonly done = new Map<string, DeviceCommandAck | undefined>();
  private current: { brokerNodeId: number; connectionEpoch: number } | undefined;

  constructor(private readonly options: DeviceControlOptions) {
    if (options.brokers.length === 0) throw new TributaryError('INVALID_REQUEST', `device "${options.deviceId}" needs at least one broker address`);
  }

  private get clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  /** The broker and connection epoch of the live stream; undefined while (re)connecting. */
  get connection(): { brokerNodeId: number; connectionEpoch: number } | undefined {
    return this.current;
  }

  start(): void {
    if (this.stream === undefined && !this.closed) this.connect();
  }

  close(): void {
    this.closed = true;
    this.cancelTimer();
    this.stream?.close();
    this.stream = undefined;
    this.current = undefined;
  }

  private connect(): void {
    const address = this.options.brokers[this.brokerIndex % this.options.brokers.length] as string;
    // The handlers compare against the stream they belong to: a late event of an ended stream is ignored.
    const opened: { stream: ControlStream | undefined } = { stream: undefined };
    const handlers: ControlStreamHandlers = {
      welcome: (welcome) => {
        this.failures = 0;
        this.current = { brokerNodeId: welcome.brokerNodeId, connectionEpoch: welcome.connectionEpoch };
        this.options.onEvent?.({ kind: 'connected', brokerNodeId: welcome.brokerNodeId, connectionEpoch: welcome.connectionEpoch, address });
        this.scheduleStatus(Math.max(1, welcome.statusIntervalMs));
      },
      command: (command) => {
        if (opened.stream !== undefined) void this.carryOut(opened.stream, command);
      },
      end: (error) => {
        if (this.stream === opened.stream) this.ended(error);
      },
    };
    opened.stream = this.options.link.openControl(address, this.options.deviceId, this.options.status(), handlers);
    this.stream = opened.stream;
  }

  private scheduleStatus(intervalMs: number): void {
    this.cancelTimer();
    this.cancelTimer = this.clock.setTimer(intervalMs, () => {
      this.stream?.status(this.options.status());
      this.scheduleStatus(intervalMs);
    });
  }

  private ended(error: TributaryError | undefined): void {
    this.cancelTimer();
    this.stream = undefined;
    this.current = undefined;
    if (this.closed) return;
    if (error?.code === 'FENCED') {
      this.closed = true;
      this.options.onEvent?.({ kind: 'fenced', error });
      return;
    }
    this.failures += 1;
    this.brokerIndex += 1;
    const retryInMs = backoffDelayMs(this.failures, this.options.backoff ?? deviceControlBackoffDefaults, this.options.random ?? Math.random);
    this.options.onEvent?.({ kind: 'disconnected', error, retryInMs });
    this.cancelTimer = this.clock.setTimer(retryInMs, () => {
      if (!this.closed) this.connect();
    });
  }

  /** Runs a command once; a repeat is acknowledged again with the first answer, one in progress is left to finish. */
  private async carryOut(stream: ControlStream, command: DeviceCommand): Promise<void> {
    if (this.done.has(command.commandId)) {
      const ack = this.done.get(command.commandId);
      if (ack !== undefined) stream.ack(ack);
      return;
    }
    this.remember(command.commandId, undefined);
    const answer = command.expiresAtMs <= this.clock.nowMs() ? { outcome: 'expired' as const, message: 'the command arrived after it expired' } : await this.run(command);
    const ack: DeviceCommandAck = { commandId: command.commandId, outcome: answer.outcome, message: answer.message ?? '', completedAtMs: this.clock.nowMs() };
    this.remember(command.commandId, ack);
    // The ack goes on whichever stream is live now; an ended one would drop it, and the re-send on reconnection asks again.
    (this.stream ?? stream).ack(ack);
  }

  private async run(command: DeviceCommand): Promise<CommandOutcome> {
    try {
      return await this.options.onCommand(command);
    } catch (error) {
      return { outcome: 'failed', message: (error as Error).message.slice(0, 1_024) };
    }
  }

  private remember(commandId: string, ack: DeviceCommandAck | undefined): void {
    this.done.delete(commandId);
    this.done.set(commandId, ack);
    if (this.done.size > rememberedCommandsMax) this.done.delete(this.done.keys().next().value as string);
  }
}
