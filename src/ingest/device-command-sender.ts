import type { DeviceRecord } from '../controller/index.js';
import { TributaryError } from '../errors/index.js';
import type { DeviceConnection, DeviceConnections, DeviceRegistryLink, DeviceRegistryView } from './device-connections.js';
import type { DeviceCommand, DeviceCommandResult, DeviceInfo, ListDevicesInput, SendCommandInput } from './device-control-types.js';

/**
 * The other brokers, as the control plane reaches them: a SendCommand or ListDevices forwarded to
 * the broker holding a device's stream, marked so that broker answers from its own streams only
 * and never forwards again (no loops, one hop at most).
 */
export interface DevicePeers {
  sendCommand(brokerId: number, input: SendCommandInput, deadlineMs: number): Promise<DeviceCommandResult[]>;
  listLocal(brokerId: number, input: ListDevicesInput, deadlineMs: number): Promise<DeviceInfo[]>;
}

export interface DeviceCommandSenderOptions {
  readonly connections: DeviceConnections;
  readonly registry: DeviceRegistryLink;
  readonly view: DeviceRegistryView;
  readonly peers: DevicePeers;
}

/** How a call is being served: forwarded calls stay on this broker; the deadline bounds every wait. */
export interface SendContext {
  readonly forwarded: boolean;
  /** Absolute, on the connections' clock. */
  readonly deadlineAtMs: number;
}

/** Time kept back from the caller's deadline so the answer still reaches it. */
const answerMarginMs = 250;

/**
 * SendCommand (docs/CONTROL_PLANE.md): for each target, the broker holding its stream delivers
 * (this one, or the holder the registry names, reached by one forwarded call per holder); a
 * disconnected device's command is queued in the registry when asked to, else NOT_DELIVERED.
 * Every delivered command is first held in the registry, which makes SendCommand idempotent on
 * (device, command id) and lets a reconnecting device receive what it has not acknowledged.
 */
export class DeviceCommandSender {
  constructor(private readonly options: DeviceCommandSenderOptions) {}

  async send(input: SendCommandInput, context: SendContext): Promise<DeviceCommandResult[]> {
    const byHolder = new Map<number, string[]>();
    const results = new Map<string, Promise<DeviceCommandResult>>();
    for (const deviceId of input.deviceIds) {
      const local = this.options.connections.local(deviceId);
      const holder = context.forwarded ? 0 : this.holderOf(this.options.view.device(deviceId));
      if (local !== undefined) results.set(deviceId, this.deliverLocally(local, input, context));
      else if (holder !== 0 && holder !== this.options.connections.brokerId) byHolder.set(holder, [...(byHolder.get(holder) ?? []), deviceId]);
      else results.set(deviceId, this.sendDisconnected(deviceId, input));
    }
    for (const [holder, deviceIds] of byHolder) {
      const forwarded = this.forward(holder, { ...input, deviceIds }, context);
      deviceIds.forEach((deviceId, position) => results.set(deviceId, forwarded.then((answers) => answers[position] as DeviceCommandResult)));
    }
    return Promise.all(input.deviceIds.map((deviceId) => results.get(deviceId) as Promise<DeviceCommandResult>));
  }

  /** The broker holding the device's latest stream, if that broker is still the live incarnation that opened it; else 0. */
  holderOf(record: DeviceRecord | undefined): number {
    if (record === undefined || record.brokerId === 0) return 0;
    return this.options.view.liveBrokerEpoch(record.brokerId) === record.brokerEpoch ? record.brokerId : 0;
  }

  private command(input: SendCommandInput): DeviceCommand {
    const issuedAtMs = this.options.connections.nowMs();
    return { commandId: input.commandId, issuedAtMs, expiresAtMs: issuedAtMs + input.ttlMs, issuedBy: input.issuedBy, action: input.action };
  }

  private async deliverLocally(connection: DeviceConnection, input: SendCommandInput, context: SendContext): Promise<DeviceCommandResult> {
    const { deviceId } = connection;
    const base = { deviceId, commandId: input.commandId, brokerNodeId: this.options.connections.brokerId };
    let queued;
    try {
      queued = await this.options.registry.queue(deviceId, this.command(input));
    } catch (error) {
      return { ...base, delivery: 'notDelivered', ack: undefined, error: TributaryError.from(error) };
    }
    if (queued.status === 'acknowledged') return { ...base, delivery: 'acknowledged', ack: queued.ack, error: undefined };
    // A repeat (`pending`) is not delivered again: this stream or an earlier one carried it.
    if (queued.status === 'queued') connection.deliver(queued.command);
    if (!input.waitForAck) return { ...base, delivery: 'delivered', ack: undefined, error: undefined };
    const waitMs = Math.min(input.ackTimeoutMs, queued.command.expiresAtMs - this.options.connections.nowMs(), context.deadlineAtMs - answerMarginMs - this.options.connections.nowMs());
    const ack = await this.options.connections.waitForAck(deviceId, input.commandId, Math.max(0, waitMs));
    if (ack !== undefined) return { ...base, delivery: 'acknowledged', ack, error: undefined };
    const timeout = new TributaryError('TIMEOUT', `device "${deviceId}" did not acknowledge command "${input.commandId}" within ${Math.max(0, waitMs)} ms; it was delivered and may still be carried out`, { retriable: true });
    return { ...base, delivery: 'delivered', ack: undefined, error: timeout };
  }

  private async sendDisconnected(deviceId: string, input: SendCommandInput): Promise<DeviceCommandResult> {
    const base = { deviceId, commandId: input.commandId, brokerNodeId: 0, ack: undefined };
    const record = this.options.view.device(deviceId);
    const acked = record?.acks.find((ack) => ack.commandId === input.commandId);
    if (acked !== undefined) return { ...base, delivery: 'acknowledged', ack: acked, error: undefined };
    if (!input.queueIfDisconnected) {
      const error = record === undefined
        ? new TributaryError('NODE_NOT_FOUND', `device "${deviceId}" is not in the registry; a device is known once it has opened a Control stream`)
        : new TributaryError('NOT_AVAILABLE', `device "${deviceId}" is not connected; send with queue_if_disconnected to hold the command until it reconnects`, { retriable: true });
      return { ...base, delivery: 'notDelivered', error };
    }
    try {
      const queued = await this.options.registry.queue(deviceId, this.command(input));
      if (queued.status === 'acknowledged') return { ...base, delivery: 'acknowledged', ack: queued.ack, error: undefined };
      return { ...base, delivery: 'queued', error: undefined };
    } catch (error) {
      return { ...base, delivery: 'notDelivered', error: TributaryError.from(error) };
    }
  }

  /** One call to the holder for its devices; if it cannot be reached, they are treated as disconnected. */
  private async forward(holder: number, input: SendCommandInput, context: SendContext): Promise<DeviceCommandResult[]> {
    const deadlineMs = Math.max(1, context.deadlineAtMs - answerMarginMs - this.options.connections.nowMs());
    try {
      const results = await this.options.peers.sendCommand(holder, input, deadlineMs);
      if (results.length !== input.deviceIds.length) throw new TributaryError('UNKNOWN', `broker ${holder} answered ${results.length} results for ${input.deviceIds.length} devices`);
      return results;
    } catch (error) {
      const unreachable = TributaryError.from(error);
      return Promise.all(input.deviceIds.map(async (deviceId) => {
        const result = await this.sendDisconnected(deviceId, input);
        const explained = result.delivery === 'notDelivered' && result.error?.code === 'NOT_AVAILABLE'
          ? new TributaryError('NOT_AVAILABLE', `broker ${holder} holding device "${deviceId}" could not be reached: ${unreachable.message}`, { retriable: true })
          : result.error;
        return { ...result, error: explained };
      }));
    }
  }
}
