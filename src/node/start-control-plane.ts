import { randomUUID } from 'node:crypto';
import { systemClock } from '../actors/clock.js';
import type { BrokerMetadataView } from '../actors/broker-metadata/broker-metadata-view.js';
import type { NodeConfig } from '../config/index.js';
import { TributaryError } from '../errors/index.js';
import { controlPlaneDefaults } from '../ingest/control-plane-settings.js';
import { createControlPlane, type ControlPlane } from '../ingest/control-plane.js';
import type { DevicePeers } from '../ingest/device-command-sender.js';
import type { DeviceRegistryLink, DeviceRegistryView } from '../ingest/device-connections.js';
import type { Logger } from '../observability/index.js';
import { ControlPlaneClient, type ControllerBrokerClient, defaultClientOptions } from '../rpc/clients/index.js';
import { peerTls, peerToken } from './peer-credentials.js';

export interface ControlPlaneContext {
  readonly client: ControllerBrokerClient;
  readonly metadata: BrokerMetadataView;
  /** 0 until the broker is registered. */
  readonly brokerEpoch: () => number;
  readonly logger: Logger;
}

/**
 * The broker's control plane (docs/CONTROL_PLANE.md) wired to the controller's device registry
 * (ControllerBrokerService), this broker's metadata view, and the other brokers over
 * ControlPlaneService with the peers' credentials.
 */
export function startControlPlane(config: NodeConfig, context: ControlPlaneContext): ControlPlane & { close(): void } {
  const peersClient = new ControlPlaneClient({ ...defaultClientOptions(`broker-${config.nodeId}-control-plane`), tls: peerTls(config), token: peerToken(config) });
  const plane = createControlPlane({
    brokerId: config.nodeId,
    registry: registryLink(config.nodeId, context),
    view: registryView(context.metadata),
    peers: peers(config.nodeId, context.metadata, peersClient),
    clock: systemClock,
    settings: controlPlaneDefaults,
    newCommandId: randomUUID,
    onBackgroundError: (error, what) => context.logger.warn({ err: error }, `control plane: ${what} failed`),
  });
  return {
    ...plane,
    close: () => {
      plane.stop();
      peersClient.close();
    },
  };
}

function registryLink(brokerId: number, context: ControlPlaneContext): DeviceRegistryLink {
  const { client } = context;
  return {
    connect: (deviceId) => {
      const brokerEpoch = context.brokerEpoch();
      if (brokerEpoch === 0) return Promise.reject(new TributaryError('NOT_AVAILABLE', `broker ${brokerId} is not registered yet; connect again shortly`, { retriable: true }));
      return client.connectDevice(brokerId, brokerEpoch, deviceId);
    },
    disconnect: (deviceId, connectionEpoch) => client.disconnectDevice(brokerId, deviceId, connectionEpoch),
    queue: (deviceId, command) => client.queueDeviceCommand(deviceId, command),
    ack: async (deviceId, ack) => {
      await client.ackDeviceCommand(deviceId, ack);
    },
  };
}

function registryView(metadata: BrokerMetadataView): DeviceRegistryView {
  return {
    device: (deviceId) => metadata.device(deviceId),
    devices: () => metadata.devices(),
    liveBrokerEpoch: (brokerId) => {
      const broker = metadata.broker(brokerId);
      return broker === undefined || broker.state === 'fenced' ? undefined : broker.incarnationEpoch;
    },
  };
}

function peers(nodeId: number, metadata: BrokerMetadataView, client: ControlPlaneClient): DevicePeers {
  const addressOf = (brokerId: number): string => {
    const address = metadata.broker(brokerId)?.address;
    if (address === undefined) throw new TributaryError('NOT_AVAILABLE', `broker ${brokerId} is not in broker ${nodeId}'s metadata`, { retriable: true });
    return address;
  };
  return {
    sendCommand: async (brokerId, input, deadlineMs) => client.sendCommand(addressOf(brokerId), input, { deadlineMs, forwardedFrom: nodeId, clientId: input.issuedBy }),
    listLocal: async (brokerId, input, deadlineMs) => (await client.listDevices(addressOf(brokerId), input, { deadlineMs, forwardedFrom: nodeId })).devices,
  };
}
