import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import type {
  DeviceCommand, DeviceCommandAck, DeviceCommandResult, DeviceInfo, DevicePage, DeviceStatusReport, ListDevicesInput, SendCommandInput,
} from '../../ingest/device-control-types.js';
import {
  ackFromProto, ackToProto, actionToProto, commandFromProto, deliveryFromProto, forwardedFromMetadataKey, statusFromProto, statusToProto,
} from '../device-control-mapping.js';
import { fromErrorDetail, fromGrpcError } from '../error-status.js';
import {
  type ControlRequest, type ControlResponse, ControlPlaneServiceClient, type DeviceInfo as WireDeviceInfo, type ListDevicesResponse,
  type SendCommandResponse,
} from '../generated/tributary/ingest/v1/control_plane_service.js';
import { BrokerChannels } from './broker-channels.js';
import { callMetadata, type ClientOptions } from './client-options.js';
import { newRequestHeader } from './request-header.js';

/** SendCommand as the SDK and CLI give it: unset numbers take the broker's defaults. */
export type SendCommandOptions = Omit<SendCommandInput, 'issuedBy'>;

export interface ControlCallOptions {
  /** Per call; the client's deadline when unset. */
  readonly deadlineMs?: number;
  /** Set by a broker forwarding the call to the broker holding the devices' streams. */
  readonly forwardedFrom?: number;
  /** The header's client id, when not the client's own: a forwarding broker names the operator who sent the command. */
  readonly clientId?: string;
}

/** What the broker sends on a device's Control stream, as the SDK handles it. */
export interface ControlStreamHandlers {
  welcome(welcome: { connectionEpoch: number; statusIntervalMs: number; brokerNodeId: number; serverTimeMs: number }): void;
  command(command: DeviceCommand): void;
  /** The stream ended: undefined when the broker closed it cleanly. Called once. */
  end(error: TributaryError | undefined): void;
}

/** A device's open Control stream. */
export interface ControlStream {
  status(status: DeviceStatusReport): void;
  ack(ack: DeviceCommandAck): void;
  close(): void;
}

/**
 * `tributary.ingest.v1.ControlPlaneService` at a given broker: SendCommand and ListDevices for
 * operators (and forwarded between brokers), and a device's Control stream for the SDK.
 */
export class ControlPlaneClient {
  private readonly channels: BrokerChannels<ControlPlaneServiceClient>;

  constructor(private readonly options: ClientOptions) {
    this.channels = new BrokerChannels((address, credentials, channelOptions) => new ControlPlaneServiceClient(address, credentials, channelOptions), options);
  }

  async sendCommand(address: string, input: SendCommandOptions, call: ControlCallOptions = {}): Promise<DeviceCommandResult[]> {
    const request = {
      header: newRequestHeader(call.clientId ?? this.options.clientId), deviceIds: input.deviceIds, commandId: input.commandId, action: actionToProto(input.action),
      ttlMs: input.ttlMs, queueIfDisconnected: input.queueIfDisconnected, waitForAck: input.waitForAck, ackTimeoutMs: input.ackTimeoutMs,
    };
    const response = await this.channels.call<SendCommandResponse>(address, call.deadlineMs ?? this.options.deadlineMs, (stub, metadata, options, callback) =>
      stub.sendCommand(request, this.marked(metadata, call), options, callback));
    return response.results.map((result) => ({
      deviceId: result.deviceId, commandId: result.commandId, delivery: deliveryFromProto(result.delivery), brokerNodeId: result.brokerNodeId,
      ack: result.ack === undefined ? undefined : ackFromProto(result.ack, `device "${result.deviceId}"`),
      error: result.error === undefined ? undefined : fromErrorDetail(result.error),
    }));
  }

  async listDevices(address: string, input: ListDevicesInput, call: ControlCallOptions = {}): Promise<DevicePage> {
    const request = { header: newRequestHeader(this.options.clientId), ...input };
    const response = await this.channels.call<ListDevicesResponse>(address, call.deadlineMs ?? this.options.deadlineMs, (stub, metadata, options, callback) =>
      stub.listDevices(request, this.marked(metadata, call), options, callback));
    return { devices: response.devices.map(deviceInfoFromProto), nextPageToken: response.nextPageToken };
  }

  /** Opens `deviceId`'s Control stream at `address`, reporting `firstStatus`; the handlers see what comes back. */
  openControl(address: string, deviceId: string, firstStatus: DeviceStatusReport, handlers: ControlStreamHandlers): ControlStream {
    const call: ClientDuplexStream<ControlRequest, ControlResponse> = this.channels.stubFor(address).control(callMetadata(this.options));
    let ended = false;
    const end = (error: TributaryError | undefined): void => {
      if (ended) return;
      ended = true;
      handlers.end(error);
    };
    call.on('data', (response: ControlResponse) => {
      try {
        const message = response.message;
        if (message?.$case === 'welcome') handlers.welcome(message.value);
        else if (message?.$case === 'command') handlers.command(commandFromProto(message.value, `device "${deviceId}"`));
      } catch (error) {
        end(TributaryError.from(error));
        call.cancel();
      }
    });
    call.on('error', (error: ServiceError) => end(fromGrpcError(error)));
    call.on('end', () => end(undefined));
    call.write({ header: newRequestHeader(this.options.clientId), deviceId, message: { $case: 'status', value: statusToProto(firstStatus) } });
    return {
      status: (status) => {
        if (!ended) call.write({ header: undefined, deviceId: '', message: { $case: 'status', value: statusToProto(status) } });
      },
      ack: (ack) => {
        if (!ended) call.write({ header: undefined, deviceId: '', message: { $case: 'commandAck', value: ackToProto(ack) } });
      },
      close: () => {
        if (ended) return;
        call.end();
        call.cancel();
        end(undefined);
      },
    };
  }

  close(): void {
    this.channels.close();
  }

  private marked<M extends { set(key: string, value: string): void }>(metadata: M, call: ControlCallOptions): M {
    if (call.forwardedFrom !== undefined) metadata.set(forwardedFromMetadataKey, String(call.forwardedFrom));
    return metadata;
  }
}

function deviceInfoFromProto(info: WireDeviceInfo): DeviceInfo {
  return { ...info, lastStatus: info.lastStatus === undefined ? undefined : statusFromProto(info.lastStatus) };
}
