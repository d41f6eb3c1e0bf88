import type { handleUnaryCall, Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import { validateDeviceId } from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import type { ControlPlane } from '../../ingest/control-plane.js';
import type { ControlWelcomeInfo, DeviceConnection, DeviceStreamSink } from '../../ingest/device-connections.js';
import type { DeviceCommand, DeviceCommandResult, DeviceInfo, DeviceStatusReport } from '../../ingest/device-control-types.js';
import { resolveListDevices, resolveSendCommand } from '../../ingest/send-command-input.js';
import {
  ackFromProto, ackToProto, actionFromProto, commandToProto, deliveryToProto, forwardedFromMetadataKey, statusFromProto, statusToProto,
} from '../device-control-mapping.js';
import { toErrorDetail, toGrpcStatus } from '../error-status.js';
import {
  type ControlRequest, type ControlResponse, ControlPlaneServiceService, type DeviceCommandResult as WireDeviceCommandResult,
  type DeviceInfo as WireDeviceInfo, type DeviceStatus, type ListDevicesRequest, type ListDevicesResponse, type SendCommandRequest,
  type SendCommandResponse,
} from '../generated/tributary/ingest/v1/control_plane_service.js';
import type { RpcService } from '../server/rpc-server.js';

export interface ControlPlaneServiceOptions {
  readonly nodeId: number;
  /** The broker's control plane; undefined until the broker role runs. */
  readonly plane: () => ControlPlane | undefined;
  /** When it aborts, every Control stream ends with SHUTTING_DOWN. */
  readonly shutdownSignal: AbortSignal;
}

/**
 * `tributary.ingest.v1.ControlPlaneService` (docs/CONTROL_PLANE.md): a thin handler over the
 * broker's control plane in `src/ingest` — device streams, SendCommand, ListDevices.
 */
export function createControlPlaneService(options: ControlPlaneServiceOptions): RpcService {
  const sendCommand: handleUnaryCall<SendCommandRequest, SendCommandResponse> = (call, callback) => {
    send(options, call.request, call.metadata, call.getDeadline()).then((response) => callback(null, response), (error: unknown) => callback(toGrpcStatus(error)));
  };
  const listDevices: handleUnaryCall<ListDevicesRequest, ListDevicesResponse> = (call, callback) => {
    list(options, call.request, call.metadata).then((response) => callback(null, response), (error: unknown) => callback(toGrpcStatus(error)));
  };
  return {
    definition: ControlPlaneServiceService,
    implementation: { control: (call: ServerDuplexStream<ControlRequest, ControlResponse>) => new ControlStream(call, options).start(), sendCommand, listDevices },
  };
}

function requirePlane(options: ControlPlaneServiceOptions): ControlPlane {
  if (options.shutdownSignal.aborted) throw new TributaryError('SHUTTING_DOWN', `broker ${options.nodeId} is shutting down; use another broker`, { retriable: true });
  const plane = options.plane();
  if (plane === undefined) throw new TributaryError('NOT_AVAILABLE', `broker ${options.nodeId} is starting; its control plane is not running yet`, { retriable: true });
  return plane;
}

function isForwarded(metadata: Metadata): boolean {
  return metadata.get(forwardedFromMetadataKey).length > 0;
}

async function send(options: ControlPlaneServiceOptions, request: SendCommandRequest, metadata: Metadata, deadline: Date | number): Promise<SendCommandResponse> {
  const plane = requirePlane(options);
  const nowMs = plane.clock.nowMs();
  const input = resolveSendCommand({
    deviceIds: request.deviceIds, commandId: request.commandId, action: actionFromProto(request.action, 'SendCommand'), ttlMs: request.ttlMs,
    queueIfDisconnected: request.queueIfDisconnected, waitForAck: request.waitForAck, ackTimeoutMs: request.ackTimeoutMs, issuedBy: request.header?.clientId ?? '',
  }, plane.settings, plane.newCommandId, nowMs);
  // The call's deadline is on the wall clock; the plane waits on its own clock, so pass the time left.
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const leftMs = Number.isFinite(deadlineMs) ? Math.max(0, deadlineMs - Date.now()) : plane.settings.ackTimeoutMsMax;
  const results = await plane.sender.send(input, { forwarded: isForwarded(metadata), deadlineAtMs: nowMs + leftMs });
  return { results: results.map(resultToProto) };
}

async function list(options: ControlPlaneServiceOptions, request: ListDevicesRequest, metadata: Metadata): Promise<ListDevicesResponse> {
  const plane = requirePlane(options);
  const input = resolveListDevices({
    pageSize: request.pageSize, pageToken: request.pageToken, connectedOnly: request.connectedOnly, deviceIdPrefix: request.deviceIdPrefix,
  }, plane.settings);
  if (isForwarded(metadata)) return { devices: plane.listing.listLocal(input).map(deviceInfoToProto), nextPageToken: '' };
  const page = await plane.listing.list(input);
  return { devices: page.devices.map(deviceInfoToProto), nextPageToken: page.nextPageToken };
}

function resultToProto(result: DeviceCommandResult): WireDeviceCommandResult {
  return {
    deviceId: result.deviceId, commandId: result.commandId, delivery: deliveryToProto(result.delivery), brokerNodeId: result.brokerNodeId,
    ack: result.ack === undefined ? undefined : ackToProto(result.ack),
    error: result.error === undefined ? undefined : toErrorDetail(result.error),
  };
}

function deviceInfoToProto(info: DeviceInfo): WireDeviceInfo {
  return { ...info, lastStatus: info.lastStatus === undefined ? undefined : statusToProto(info.lastStatus) };
}

/** Messages a device may send before its stream is registered; more is a misbehaving device. */
const earlyMessagesMax = 16;

/**
 * One device's Control stream: the first message names the device and reports its status; the
 * stream is registered, welcomed, and from then on status reports and acks go to the connection
 * and commands come back. Ends once, with the reason the connection or the server gives.
 */
class ControlStream {
  private connection: DeviceConnection | undefined;
  private deviceId = '';
  private readonly early: ControlRequest[] = [];
  private ended = false;

  constructor(
    private readonly call: ServerDuplexStream<ControlRequest, ControlResponse>,
    private readonly options: ControlPlaneServiceOptions,
  ) {}

  start(): void {
    this.call.on('data', (request: ControlRequest) => this.received(request));
    this.call.on('end', () => this.finish(undefined));
    this.call.on('cancelled', () => this.finish(undefined));
    this.call.on('error', () => this.finish(undefined));
    this.options.shutdownSignal.addEventListener('abort', this.onShutdown, { once: true });
    if (this.options.shutdownSignal.aborted) this.onShutdown();
  }

  private received(request: ControlRequest): void {
    if (this.ended) return;
    try {
      if (this.deviceId === '') this.first(request);
      else if (this.connection === undefined) this.holdEarly(request);
      else this.handle(this.connection, request);
    } catch (error) {
      this.finish(TributaryError.from(error));
    }
  }

  private first(request: ControlRequest): void {
    if (request.message?.$case !== 'status') throw new TributaryError('INVALID_REQUEST', 'the first Control message must carry device_id and a status report');
    const plane = requirePlane(this.options);
    validateDeviceId(request.deviceId);
    const status = checkedStatus(request.message.value, plane);
    this.deviceId = request.deviceId;
    plane.connections.open(request.deviceId, this.sink()).then((connection) => {
      if (this.ended) {
        connection.end(undefined);
        return;
      }
      this.connection = connection;
      connection.report(status);
      for (const early of this.early.splice(0)) this.handle(connection, early);
    }, (error: unknown) => this.finish(TributaryError.from(error)));
  }

  private holdEarly(request: ControlRequest): void {
    if (this.early.length >= earlyMessagesMax) throw new TributaryError('RESOURCE_EXHAUSTED', `device "${this.deviceId}" sent ${earlyMessagesMax} messages before its welcome; wait for it`);
    this.early.push(request);
  }

  private handle(connection: DeviceConnection, request: ControlRequest): void {
    if (request.deviceId !== '' && request.deviceId !== this.deviceId) {
      throw new TributaryError('INVALID_REQUEST', `this Control stream belongs to device "${this.deviceId}"; a message named "${request.deviceId}"`);
    }
    const message = request.message;
    if (message?.$case === 'status') connection.report(checkedStatus(message.value, requirePlane(this.options)));
    else if (message?.$case === 'commandAck') connection.acknowledge(ackFromProto(message.value, `device "${this.deviceId}"`));
    else throw new TributaryError('INVALID_REQUEST', `device "${this.deviceId}" sent a Control message with neither status nor command_ack`);
  }

  private sink(): DeviceStreamSink {
    return {
      welcome: (welcome: ControlWelcomeInfo) => {
        if (!this.ended) this.call.write({ message: { $case: 'welcome', value: welcome } });
      },
      command: (command: DeviceCommand) => {
        if (!this.ended) this.call.write({ message: { $case: 'command', value: commandToProto(command) } });
      },
      end: (error: TributaryError | undefined) => this.endCall(error),
    };
  }

  private readonly onShutdown = (): void => {
    this.finish(new TributaryError('SHUTTING_DOWN', `broker ${this.options.nodeId} is shutting down; reconnect to another broker`, { retriable: true }));
  };

  /** The device or the server ended the stream: the connection (if any) ends, which ends the call. */
  private finish(error: TributaryError | undefined): void {
    if (this.connection !== undefined) this.connection.end(error);
    else this.endCall(error);
  }

  private endCall(error: TributaryError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.options.shutdownSignal.removeEventListener('abort', this.onShutdown);
    if (error === undefined) this.call.end();
    else this.call.emit('error', toGrpcStatus(error));
  }
}

/** A status report within the plane's bounds, as the domain's. */
function checkedStatus(status: DeviceStatus, plane: ControlPlane): DeviceStatusReport {
  const { activeSourcesMax, versionLengthMax } = plane.settings;
  if (status.activeSources.length > activeSourcesMax) {
    throw new TributaryError('INVALID_REQUEST', `a status report lists ${status.activeSources.length} active sources; at most ${activeSourcesMax} are allowed`);
  }
  for (const [what, value] of [['firmware_version', status.firmwareVersion], ['app_version', status.appVersion]] as const) {
    if (value.length > versionLengthMax) throw new TributaryError('INVALID_REQUEST', `${what} "${value.slice(0, 64)}…" exceeds ${versionLengthMax} characters`);
  }
  return statusFromProto(status);
}
