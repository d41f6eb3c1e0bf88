import type { Clock } from '../actors/clock.js';
import { metadataLimits, type DeviceRecord, type QueueDeviceCommandOutput } from '../controller/index.js';
import { TributaryError } from '../errors/index.js';
import type { ControlPlaneSettings } from './control-plane-settings.js';
import type { DeviceCommand, DeviceCommandAck, DeviceStatusReport } from './device-control-types.js';

/** The controller's device registry, as a broker changes it (ControllerBrokerService in production). */
export interface DeviceRegistryLink {
  /** Records this broker's new stream; the record carries the new connection epoch and the pending commands. */
  connect(deviceId: string): Promise<DeviceRecord>;
  disconnect(deviceId: string, connectionEpoch: number): Promise<boolean>;
  queue(deviceId: string, command: DeviceCommand): Promise<QueueDeviceCommandOutput>;
  ack(deviceId: string, ack: DeviceCommandAck): Promise<void>;
}

/** The registry as this broker's metadata view holds it (BrokerMetadataView in production). */
export interface DeviceRegistryView {
  device(deviceId: string): DeviceRecord | undefined;
  devices(): Iterable<DeviceRecord>;
  /** A broker's incarnation epoch while it is live (registered and not fenced); undefined otherwise. */
  liveBrokerEpoch(brokerId: number): number | undefined;
}

export interface ControlWelcomeInfo {
  connectionEpoch: number;
  statusIntervalMs: number;
  brokerNodeId: number;
  serverTimeMs: number;
}

/** One device's Control stream as the connections write to it: the gRPC call in production. */
export interface DeviceStreamSink {
  welcome(welcome: ControlWelcomeInfo): void;
  command(command: DeviceCommand): void;
  /** Ends the stream, with an error status unless `error` is undefined. Called at most once. */
  end(error: TributaryError | undefined): void;
}

export interface DeviceConnectionsOptions {
  readonly brokerId: number;
  readonly registry: DeviceRegistryLink;
  readonly view: DeviceRegistryView;
  readonly clock: Clock;
  readonly settings: ControlPlaneSettings;
  /** Told about registry calls that failed in the background (disconnects, acks). */
  readonly onBackgroundError: (error: unknown, what: string) => void;
}

/** Command ids a stream remembers having written: four times what the registry holds pending per device. */
const deliveredPerStreamMax = 4 * metadataLimits.commandsPerDeviceMax;

/** One live Control stream on this broker. */
export class DeviceConnection {
  lastStatus: DeviceStatusReport | undefined;
  lastSeenMs: number;
  /** Commands written to this stream; a command is written once per stream. */
  private readonly delivered = new Set<string>();
  private ended = false;

  constructor(
    readonly deviceId: string,
    readonly connectionEpoch: number,
    readonly connectedSinceMs: number,
    private readonly sink: DeviceStreamSink,
    private readonly owner: DeviceConnections,
  ) {
    this.lastSeenMs = connectedSinceMs;
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  report(status: DeviceStatusReport): void {
    this.lastStatus = status;
    this.lastSeenMs = this.owner.nowMs();
    this.owner.checkRegistry(this);
  }

  acknowledge(ack: DeviceCommandAck): void {
    this.lastSeenMs = this.owner.nowMs();
    this.owner.acknowledged(this, ack);
  }

  /** Writes the command unless this stream already carried it; false when it did not write. */
  deliver(command: DeviceCommand): boolean {
    if (this.ended || this.delivered.has(command.commandId)) return false;
    this.delivered.add(command.commandId);
    // The oldest deliveries are forgotten first; they were acknowledged or expired long since, and a
    // device discards a command id it already carried out anyway.
    if (this.delivered.size > deliveredPerStreamMax) this.delivered.delete(this.delivered.values().next().value as string);
    this.sink.command(command);
    return true;
  }

  /** Ends the stream (undefined: the device closed it) and records the disconnection. Idempotent. */
  end(error: TributaryError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.sink.end(error);
    this.owner.closed(this);
  }
}

interface AckWaiter {
  resolve(ack: DeviceCommandAck | undefined): void;
}

/**
 * The Control streams a broker holds (docs/CONTROL_PLANE.md). Opening one records the connection
 * in the controller's registry, which gives the stream a connection epoch above every earlier one
 * of the device, anywhere; a stream whose epoch the registry has moved past is ended with FENCED,
 * at once on this broker and within a sweep on another. Every sweep also disconnects streams
 * silent for `silentIntervalsMax` status intervals and delivers commands the registry queued for
 * a device since it connected. Time comes only from the injected clock.
 */
export class DeviceConnections {
  private readonly byDevice = new Map<string, DeviceConnection>();
  private readonly waiters = new Map<string, Set<AckWaiter>>();
  private waiterCount = 0;
  private cancelSweep: (() => void) | undefined;

  constructor(private readonly options: DeviceConnectionsOptions) {}

  get brokerId(): number {
    return this.options.brokerId;
  }

  nowMs(): number {
    return this.options.clock.nowMs();
  }

  /** Starts the periodic sweep. */
  start(): void {
    const schedule = (): void => {
      this.cancelSweep = this.options.clock.setTimer(this.options.settings.sweepIntervalMs, () => {
        this.sweep();
        schedule();
      });
    };
    if (this.cancelSweep === undefined) schedule();
  }

  /** Ends every stream with SHUTTING_DOWN (devices reconnect to another broker) and every ack wait. */
  stop(): void {
    this.cancelSweep?.();
    this.cancelSweep = () => undefined;
    for (const connection of [...this.byDevice.values()]) {
      connection.end(new TributaryError('SHUTTING_DOWN', `broker ${this.brokerId} is shutting down; reconnect to another broker`, { retriable: true }));
    }
    for (const waiters of this.waiters.values()) for (const waiter of waiters) waiter.resolve(undefined);
    this.waiters.clear();
    this.waiterCount = 0;
  }

  /** Opens a device's stream: registers it, welcomes the device and re-sends its pending commands. */
  async open(deviceId: string, sink: DeviceStreamSink): Promise<DeviceConnection> {
    const { settings } = this.options;
    if (!this.byDevice.has(deviceId) && this.byDevice.size >= settings.connectionsMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `broker ${this.brokerId} holds ${this.byDevice.size} Control streams, its limit of ${settings.connectionsMax}; connect to another broker`, { retriable: true });
    }
    const record = await this.options.registry.connect(deviceId);
    const connection = new DeviceConnection(deviceId, record.connectionEpoch, this.nowMs(), sink, this);
    const previous = this.byDevice.get(deviceId);
    this.byDevice.set(deviceId, connection);
    if (previous !== undefined && previous.connectionEpoch < connection.connectionEpoch) previous.end(fencedError(previous, connection.connectionEpoch));
    sink.welcome({ connectionEpoch: record.connectionEpoch, statusIntervalMs: settings.statusIntervalMs, brokerNodeId: this.brokerId, serverTimeMs: this.nowMs() });
    this.deliverPending(connection, record.commands);
    return connection;
  }

  local(deviceId: string): DeviceConnection | undefined {
    return this.byDevice.get(deviceId);
  }

  localConnections(): DeviceConnection[] {
    return [...this.byDevice.values()];
  }

  /**
   * Waits for the device's acknowledgement of `commandId`, up to `timeoutMs`; undefined when none
   * came in time. Bounded by `ackWaitersMax` (RESOURCE_EXHAUSTED beyond it).
   */
  waitForAck(deviceId: string, commandId: string, timeoutMs: number): Promise<DeviceCommandAck | undefined> {
    const { ackWaitersMax } = this.options.settings;
    if (this.waiterCount >= ackWaitersMax) {
      return Promise.reject(new TributaryError('RESOURCE_EXHAUSTED', `${this.waiterCount} commands already wait for acknowledgements on broker ${this.brokerId}, its limit of ${ackWaitersMax}; send without waiting`, { retriable: true }));
    }
    const key = ackKey(deviceId, commandId);
    return new Promise((resolve) => {
      let cancel: () => void = () => undefined;
      const waiter: AckWaiter = {
        resolve: (ack) => {
          cancel();
          const set = this.waiters.get(key);
          if (set?.delete(waiter) === true) this.waiterCount -= 1;
          if (set?.size === 0) this.waiters.delete(key);
          resolve(ack);
        },
      };
      const set = this.waiters.get(key) ?? new Set<AckWaiter>();
      set.add(waiter);
      this.waiters.set(key, set);
      this.waiterCount += 1;
      cancel = this.options.clock.setTimer(timeoutMs, () => waiter.resolve(undefined));
    });
  }

  /** One sweep: silence, fencing by a newer connection elsewhere, commands queued since the connection. */
  sweep(): void {
    const { statusIntervalMs, silentIntervalsMax } = this.options.settings;
    const silentMsMax = statusIntervalMs * silentIntervalsMax;
    const nowMs = this.nowMs();
    for (const connection of [...this.byDevice.values()]) {
      const silentMs = nowMs - connection.lastSeenMs;
      if (silentMs > silentMsMax) {
        connection.end(new TributaryError('TIMEOUT', `device "${connection.deviceId}" sent nothing for ${silentMs} ms, more than ${silentIntervalsMax} status intervals of ${statusIntervalMs} ms; it is disconnected`, { retriable: true }));
      } else {
        this.checkRegistry(connection);
      }
    }
  }

  /** Fences a stream the registry has moved past; otherwise delivers what the registry holds for the device. */
  checkRegistry(connection: DeviceConnection): void {
    const record = this.options.view.device(connection.deviceId);
    if (record === undefined) return;
    if (record.connectionEpoch > connection.connectionEpoch) {
      connection.end(fencedError(connection, record.connectionEpoch));
      return;
    }
    if (record.connectionEpoch === connection.connectionEpoch) this.deliverPending(connection, record.commands);
  }

  acknowledged(connection: DeviceConnection, ack: DeviceCommandAck): void {
    const waiters = this.waiters.get(ackKey(connection.deviceId, ack.commandId));
    for (const waiter of [...(waiters ?? [])]) waiter.resolve(ack);
    this.options.registry.ack(connection.deviceId, ack).catch((error: unknown) => this.options.onBackgroundError(error, `recording the ack of "${ack.commandId}" by device "${connection.deviceId}"`));
  }

  closed(connection: DeviceConnection): void {
    if (this.byDevice.get(connection.deviceId) !== connection) return;
    this.byDevice.delete(connection.deviceId);
    this.options.registry.disconnect(connection.deviceId, connection.connectionEpoch)
      .catch((error: unknown) => this.options.onBackgroundError(error, `recording that device "${connection.deviceId}" disconnected`));
  }

  private deliverPending(connection: DeviceConnection, commands: readonly DeviceCommand[]): void {
    const nowMs = this.nowMs();
    for (const command of commands) if (command.expiresAtMs > nowMs) connection.deliver(command);
  }
}

function ackKey(deviceId: string, commandId: string): string {
  // NUL never appears in a validated device id, so the key is unambiguous.
  return `${deviceId}\u0000${commandId}`;
}

function fencedError(connection: DeviceConnection, newerEpoch: number): TributaryError {
  return new TributaryError('FENCED', `device "${connection.deviceId}" opened a newer Control stream (connection epoch ${newerEpoch} > ${connection.connectionEpoch}); this one is closed`);
}
