import type { DeviceAction, DeviceCommandOutcome } from '../controller/index.js';
import type { TributaryError } from '../errors/index.js';

/*
 * The control plane in domain terms (docs/CONTROL_PLANE.md): what devices report, what operators
 * send and what they get back. rpc/ maps these to and from ingest/v1/control_plane_service.proto.
 */

export type { DeviceAction, DeviceCommandOutcome };

export const networkKinds = ['unknown', 'wifi', 'cellular', 'ethernet', 'bluetooth', 'satellite', 'other'] as const;
export type NetworkKind = (typeof networkKinds)[number];

export interface ActiveSourceStatus {
  sessionId: string;
  source: string;
  queuedBytes: number;
  acknowledgedOffsetBytes: number;
  recording: boolean;
}

/** One status report of a device (device clock). */
export interface DeviceStatusReport {
  timestampMs: number;
  activeSources: ActiveSourceStatus[];
  queueDepthBytes: number;
  queueDepthChunks: number;
  /** undefined when the device has no battery or cannot tell. */
  battery: { levelPercent: number; charging: boolean } | undefined;
  firmwareVersion: string;
  appVersion: string;
  freeStorageBytes: number;
  networkKind: NetworkKind;
  uploadsPaused: boolean;
  uploadRateBytesPerS: number;
}

/** A command as a device receives it. */
export interface DeviceCommand {
  commandId: string;
  issuedAtMs: number;
  expiresAtMs: number;
  issuedBy: string;
  action: DeviceAction;
}

export interface DeviceCommandAck {
  commandId: string;
  outcome: DeviceCommandOutcome;
  /** Required for rejected and failed. */
  message: string;
  /** Device clock. */
  completedAtMs: number;
}

export type CommandDelivery = 'notDelivered' | 'queued' | 'delivered' | 'acknowledged';

/** What happened to a command for one device. */
export interface DeviceCommandResult {
  deviceId: string;
  commandId: string;
  delivery: CommandDelivery;
  /** When delivery is acknowledged. */
  ack: DeviceCommandAck | undefined;
  /** Broker holding the device's stream; 0 when not connected. */
  brokerNodeId: number;
  /** NODE_NOT_FOUND, NOT_AVAILABLE (disconnected, not queued), TIMEOUT (no ack in time), or why a queue failed. */
  error: TributaryError | undefined;
}

/** One SendCommand, its defaults already applied. */
export interface SendCommandInput {
  deviceIds: string[];
  commandId: string;
  action: DeviceAction;
  ttlMs: number;
  queueIfDisconnected: boolean;
  waitForAck: boolean;
  ackTimeoutMs: number;
  /** The caller's client id. */
  issuedBy: string;
}

export interface DeviceInfo {
  deviceId: string;
  connected: boolean;
  brokerNodeId: number;
  lastSeenMs: number;
  connectedSinceMs: number;
  lastStatus: DeviceStatusReport | undefined;
  connectionEpoch: number;
  pendingCommands: number;
}

export interface ListDevicesInput {
  pageSize: number;
  /** The last device id of the previous page; '' for the first. */
  pageToken: string;
  connectedOnly: boolean;
  deviceIdPrefix: string;
}

export interface DevicePage {
  devices: DeviceInfo[];
  nextPageToken: string;
}
