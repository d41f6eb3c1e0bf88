import type { DeviceAction, DeviceCommandAckRecord, DeviceCommandOutcome, DeviceRecord } from '../controller/index.js';
import type {
  CommandDelivery as DomainCommandDelivery, DeviceCommand, DeviceCommandAck, DeviceStatusReport, NetworkKind as DomainNetworkKind,
} from '../ingest/device-control-types.js';
import { TributaryError } from '../errors/index.js';
import type { DeviceAckRecord, DeviceRecord as WireDeviceRecord } from './generated/tributary/controller/v1/controller_broker_service.js';
import {
  type Command, type CommandAck, type CommandAction, CommandDelivery, CommandOutcome, type DeviceStatus, NetworkKind,
} from './generated/tributary/ingest/v1/control_plane_service.js';

/*
 * The control plane's records between domain and wire, for both sides: the ControlPlaneService,
 * the controller's device registry calls and their clients (the SDK, the CLI, broker-to-broker
 * forwarding) all carry the same Command, CommandAck and DeviceStatus messages.
 */

/**
 * Marks a SendCommand or ListDevices one broker forwards to the broker holding a device's stream:
 * its value is the forwarding broker's id. A marked call is answered from the receiver's own
 * streams and never forwarded again, so a forward makes one hop at most.
 */
export const forwardedFromMetadataKey = 'tributary-forwarded-from';

const outcomeOf: Record<DeviceCommandOutcome, CommandOutcome> = {
  applied: CommandOutcome.APPLIED, rejected: CommandOutcome.REJECTED, failed: CommandOutcome.FAILED, unsupported: CommandOutcome.UNSUPPORTED,
  expired: CommandOutcome.EXPIRED,
};
const domainOutcomeOf = new Map(Object.entries(outcomeOf).map(([domain, wire]) => [wire, domain as DeviceCommandOutcome]));
const networkKindOf: Record<DomainNetworkKind, NetworkKind> = {
  unknown: NetworkKind.UNSPECIFIED, wifi: NetworkKind.WIFI, cellular: NetworkKind.CELLULAR, ethernet: NetworkKind.ETHERNET,
  bluetooth: NetworkKind.BLUETOOTH, satellite: NetworkKind.SATELLITE, other: NetworkKind.OTHER,
};
const domainNetworkKindOf = new Map(Object.entries(networkKindOf).map(([domain, wire]) => [wire, domain as DomainNetworkKind]));
const deliveryOf: Record<DomainCommandDelivery, CommandDelivery> = {
  notDelivered: CommandDelivery.NOT_DELIVERED, queued: CommandDelivery.QUEUED, delivered: CommandDelivery.DELIVERED, acknowledged: CommandDelivery.ACKNOWLEDGED,
};
const domainDeliveryOf = new Map(Object.entries(deliveryOf).map(([domain, wire]) => [wire, domain as DomainCommandDelivery]));

export function deliveryToProto(delivery: DomainCommandDelivery): CommandDelivery {
  return deliveryOf[delivery];
}

export function deliveryFromProto(delivery: CommandDelivery): DomainCommandDelivery {
  const domain = domainDeliveryOf.get(delivery);
  if (domain === undefined) throw new TributaryError('UNKNOWN', `the broker answered delivery ${delivery}, which this client does not know; upgrade it`);
  return domain;
}

export function actionToProto(action: DeviceAction): CommandAction {
  switch (action.kind) {
    case 'pause': return { kind: { $case: 'pause', value: { sources: [...action.sources], durationMs: action.durationMs } } };
    case 'resume': return { kind: { $case: 'resume', value: { sources: [...action.sources] } } };
    case 'flush': return { kind: { $case: 'flush', value: { sources: [...action.sources] } } };
    case 'setConfig': return { kind: { $case: 'setConfig', value: { values: { ...action.values }, unsetKeys: [...action.unsetKeys] } } };
  }
}

/** INVALID_REQUEST naming `where` when no action is set. */
export function actionFromProto(action: CommandAction | undefined, where: string): DeviceAction {
  const kind = action?.kind;
  switch (kind?.$case) {
    case 'pause': return { kind: 'pause', sources: [...kind.value.sources], durationMs: kind.value.durationMs };
    case 'resume': return { kind: 'resume', sources: [...kind.value.sources] };
    case 'flush': return { kind: 'flush', sources: [...kind.value.sources] };
    case 'setConfig': {
      // A plain object without a prototype: a key such as "__proto__" stays an ordinary key.
      const values: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [key, value] of Object.entries(kind.value.values)) values[key] = value;
      return { kind: 'setConfig', values, unsetKeys: [...kind.value.unsetKeys] };
    }
    case undefined:
      throw new TributaryError('INVALID_REQUEST', `${where} has no action; set exactly one of pause, resume, flush or set_config`);
  }
}

export function commandToProto(command: DeviceCommand): Command {
  return { commandId: command.commandId, issuedAtMs: command.issuedAtMs, expiresAtMs: command.expiresAtMs, issuedBy: command.issuedBy, action: actionToProto(command.action) };
}

export function commandFromProto(command: Command | undefined, where: string): DeviceCommand {
  if (command === undefined) throw new TributaryError('INVALID_REQUEST', `${where} has no command`);
  const { commandId, issuedAtMs, expiresAtMs, issuedBy } = command;
  return { commandId, issuedAtMs, expiresAtMs, issuedBy, action: actionFromProto(command.action, `${where} command "${commandId}"`) };
}

export function ackToProto(ack: DeviceCommandAck): CommandAck {
  return { commandId: ack.commandId, outcome: outcomeOf[ack.outcome], message: ack.message, completedAtMs: ack.completedAtMs };
}

export function ackFromProto(ack: CommandAck | undefined, where: string): DeviceCommandAck {
  if (ack === undefined) throw new TributaryError('INVALID_REQUEST', `${where} has no acknowledgement`);
  const outcome = domainOutcomeOf.get(ack.outcome);
  if (outcome === undefined) throw new TributaryError('INVALID_REQUEST', `${where}: outcome ${ack.outcome} of command "${ack.commandId}" is not APPLIED, REJECTED, FAILED, UNSUPPORTED or EXPIRED`);
  return { commandId: ack.commandId, outcome, message: ack.message, completedAtMs: ack.completedAtMs };
}

export function ackRecordToProto(ack: DeviceCommandAckRecord): DeviceAckRecord {
  return { ack: ackToProto(ack), recordedAtMs: ack.recordedAtMs };
}

export function ackRecordFromProto(record: DeviceAckRecord | undefined, where: string): DeviceCommandAckRecord {
  return { ...ackFromProto(record?.ack, where), recordedAtMs: record?.recordedAtMs ?? 0 };
}

export function deviceRecordToProto(device: DeviceRecord): WireDeviceRecord {
  return {
    deviceId: device.deviceId, brokerNodeId: device.brokerId, brokerIncarnationEpoch: device.brokerEpoch, connectionEpoch: device.connectionEpoch,
    connectedSinceMs: device.connectedSinceMs, lastSeenMs: device.lastSeenMs, commands: device.commands.map(commandToProto), acks: device.acks.map(ackRecordToProto),
  };
}

export function deviceRecordFromProto(device: WireDeviceRecord | undefined): DeviceRecord {
  if (device === undefined) throw new TributaryError('UNKNOWN', 'the controller answered without the device record');
  const where = `device "${device.deviceId}"`;
  return {
    deviceId: device.deviceId, brokerId: device.brokerNodeId, brokerEpoch: device.brokerIncarnationEpoch, connectionEpoch: device.connectionEpoch,
    connectedSinceMs: device.connectedSinceMs, lastSeenMs: device.lastSeenMs, commands: device.commands.map((command) => commandFromProto(command, where)),
    acks: device.acks.map((ack) => ackRecordFromProto(ack, where)),
  };
}

export function statusToProto(status: DeviceStatusReport): DeviceStatus {
  return { ...status, activeSources: status.activeSources.map((source) => ({ ...source })), networkKind: networkKindOf[status.networkKind] };
}

/** An unknown network kind is shown as unknown rather than refused: a status report is informational. */
export function statusFromProto(status: DeviceStatus): DeviceStatusReport {
  return {
    timestampMs: status.timestampMs,
    activeSources: status.activeSources.map((source) => ({ ...source })),
    queueDepthBytes: status.queueDepthBytes,
    queueDepthChunks: status.queueDepthChunks,
    battery: status.battery === undefined ? undefined : { ...status.battery },
    firmwareVersion: status.firmwareVersion,
    appVersion: status.appVersion,
    freeStorageBytes: status.freeStorageBytes,
    networkKind: domainNetworkKindOf.get(status.networkKind) ?? 'unknown',
    uploadsPaused: status.uploadsPaused,
    uploadRateBytesPerS: status.uploadRateBytesPerS,
  };
}
