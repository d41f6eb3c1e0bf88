import type { Clock } from '../actors/clock.js';
import type { ControlPlaneSettings } from './control-plane-settings.js';
import { DeviceCommandSender, type DevicePeers } from './device-command-sender.js';
import { DeviceConnections, type DeviceRegistryLink, type DeviceRegistryView } from './device-connections.js';
import { DeviceListing } from './device-listing.js';

export interface ControlPlaneOptions {
  readonly brokerId: number;
  readonly registry: DeviceRegistryLink;
  readonly view: DeviceRegistryView;
  readonly peers: DevicePeers;
  readonly clock: Clock;
  readonly settings: ControlPlaneSettings;
  /** Makes a command id when SendCommand leaves it empty (a UUID in production). */
  readonly newCommandId: () => string;
  readonly onBackgroundError: (error: unknown, what: string) => void;
}

/** A broker's control plane: its devices' streams, SendCommand and ListDevices (docs/CONTROL_PLANE.md). */
export interface ControlPlane {
  readonly connections: DeviceConnections;
  readonly sender: DeviceCommandSender;
  readonly listing: DeviceListing;
  readonly settings: ControlPlaneSettings;
  readonly clock: Clock;
  readonly newCommandId: () => string;
  /** Ends every stream with SHUTTING_DOWN. */
  stop(): void;
}

export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  const { brokerId, registry, view, peers, clock, settings, newCommandId, onBackgroundError } = options;
  const connections = new DeviceConnections({ brokerId, registry, view, clock, settings, onBackgroundError });
  const sender = new DeviceCommandSender({ connections, registry, view, peers });
  const listing = new DeviceListing({ connections, view, sender, peers, peerCallTimeoutMs: settings.peerCallTimeoutMs });
  connections.start();
  return { connections, sender, listing, settings, clock, newCommandId, stop: () => connections.stop() };
}
