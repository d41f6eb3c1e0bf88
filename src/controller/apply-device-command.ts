import { rejectCommand, requireRoom, type ApplyContext } from './apply-context.js';
import { requireCurrentBroker } from './apply-broker-command.js';
import type {
  AckDeviceCommandCommand, ConnectDeviceCommand, DisconnectDeviceCommand, QueueDeviceCommandCommand,
} from './metadata-command.js';
import { metadataLimits } from './metadata-limits.js';
import {
  copyDevice, copyDeviceAction, type DeviceCommandAckRecord, type DeviceCommandRecord, type DeviceRecord, type MetadataState,
} from './metadata-state.js';
import { validateAck, validateCommandId, validateDeviceCommand, validateDeviceId } from './validate-device-command.js';

export interface DeviceOutput {
  device: DeviceRecord;
}

export interface DisconnectDeviceOutput {
  /** false when the stream was not the device's latest (a newer one fenced it): nothing changed. */
  disconnected: boolean;
}

/**
 * What became of a queued command: newly `queued`, already `pending` from an earlier request with
 * the same id (not delivered again), or already `acknowledged` by the device.
 */
export type QueueDeviceCommandOutput =
  | { status: 'queued' | 'pending'; command: DeviceCommandRecord; device: DeviceRecord }
  | { status: 'acknowledged'; ack: DeviceCommandAckRecord; device: DeviceRecord };

export interface AckDeviceCommandOutput {
  ack: DeviceCommandAckRecord;
}

/*
 * The control plane's device registry (docs/CONTROL_PLANE.md). Commands expire lazily: every
 * command about a device first drops that device's commands whose expiry has passed at its
 * `nowMs`, so no timer entry is needed and the bounds still hold.
 */

/**
 * A broker opened the device's Control stream: the device's connection epoch becomes this Raft
 * index (so it grows with every connection, cluster-wide) and the stream on any other broker is
 * stale. A new device beyond `devicesMax` evicts the disconnected device seen least recently.
 */
export function connectDevice(context: ApplyContext, command: ConnectDeviceCommand): DeviceOutput {
  const { state } = context;
  requireCurrentBroker(state, command.brokerId, command.brokerEpoch);
  validateDeviceId(command.deviceId);
  let device = state.devices.get(command.deviceId);
  if (device === undefined) {
    const evicted = state.devices.size >= metadataLimits.devicesMax ? requireEvictableDevice(state) : undefined;
    if (evicted !== undefined) removeDevice(context, evicted);
    device = { deviceId: command.deviceId, brokerId: 0, brokerEpoch: 0, connectionEpoch: 0, connectedSinceMs: 0, lastSeenMs: 0, commands: [], acks: [] };
    state.devices.set(command.deviceId, device);
  }
  dropExpiredCommands(state, device, command.nowMs);
  Object.assign(device, { brokerId: command.brokerId, brokerEpoch: command.brokerEpoch, connectionEpoch: context.index, connectedSinceMs: command.nowMs, lastSeenMs: command.nowMs });
  pushDeviceChanged(context, device);
  return { device: copyDevice(device) };
}

/** A Control stream ended. Only the device's latest stream disconnects it; an older one's end changes nothing. */
export function disconnectDevice(context: ApplyContext, command: DisconnectDeviceCommand): DisconnectDeviceOutput {
  const device = context.state.devices.get(command.deviceId);
  if (device === undefined || device.connectionEpoch !== command.connectionEpoch || device.brokerId !== command.brokerId) return { disconnected: false };
  dropExpiredCommands(context.state, device, command.nowMs);
  Object.assign(device, { brokerId: 0, brokerEpoch: 0, connectedSinceMs: 0, lastSeenMs: command.nowMs });
  pushDeviceChanged(context, device);
  return { disconnected: true };
}

/** Holds a command until the device acknowledges it or it expires. Idempotent on the command id. */
export function queueDeviceCommand(context: ApplyContext, command: QueueDeviceCommandCommand): QueueDeviceCommandOutput {
  const { state } = context;
  const device = requireDevice(state, command.deviceId);
  const { commandId } = command.command;
  validateCommandId(command.deviceId, commandId);
  const ack = device.acks.find((known) => known.commandId === commandId);
  if (ack !== undefined) return { status: 'acknowledged', ack: { ...ack }, device: copyDevice(device) };
  const pending = device.commands.find((known) => known.commandId === commandId && known.expiresAtMs > command.nowMs);
  if (pending !== undefined) return { status: 'pending', command: copyCommand(pending), device: copyDevice(device) };
  validateDeviceCommand(command.deviceId, command.command, command.nowMs);
  const expired = device.commands.filter((known) => known.expiresAtMs <= command.nowMs).length;
  requireRoom(device.commands.length - expired, 1, metadataLimits.commandsPerDeviceMax, `pending commands of device "${command.deviceId}"`);
  requireRoom(state.deviceCommandCount - expired, 1, metadataLimits.deviceCommandsMax, 'pending device commands');
  dropExpiredCommands(state, device, command.nowMs);
  const queued = copyCommand(command.command);
  device.commands.push(queued);
  state.deviceCommandCount += 1;
  pushDeviceChanged(context, device);
  return { status: 'queued', command: copyCommand(queued), device: copyDevice(device) };
}

/** The command is done with: no longer pending (also if it had expired), and its ack remembered. A repeat changes nothing. */
export function ackDeviceCommand(context: ApplyContext, command: AckDeviceCommandCommand): AckDeviceCommandOutput {
  const { state } = context;
  const device = requireDevice(state, command.deviceId);
  validateAck(command.deviceId, command.commandId, command.outcome, command.message, command.completedAtMs);
  const known = device.acks.find((ack) => ack.commandId === command.commandId);
  if (known !== undefined) return { ack: { ...known } };
  const position = device.commands.findIndex((pending) => pending.commandId === command.commandId);
  if (position >= 0) {
    device.commands.splice(position, 1);
    state.deviceCommandCount -= 1;
  }
  dropExpiredCommands(state, device, command.nowMs);
  const ack: DeviceCommandAckRecord = {
    commandId: command.commandId, outcome: command.outcome, message: command.message, completedAtMs: command.completedAtMs, recordedAtMs: command.nowMs,
  };
  device.acks.push(ack);
  if (device.acks.length > metadataLimits.acksPerDeviceMax) device.acks.shift();
  pushDeviceChanged(context, device);
  return { ack: { ...ack } };
}

function requireDevice(state: MetadataState, deviceId: string): DeviceRecord {
  validateDeviceId(deviceId);
  const device = state.devices.get(deviceId);
  if (device === undefined) rejectCommand('NODE_NOT_FOUND', `device "${deviceId}" is not in the registry; a device is known once it has opened a Control stream`);
  return device;
}

function dropExpiredCommands(state: MetadataState, device: DeviceRecord, nowMs: number): void {
  const kept = device.commands.filter((command) => command.expiresAtMs > nowMs);
  state.deviceCommandCount -= device.commands.length - kept.length;
  device.commands = kept;
}

/** The disconnected device seen least recently (ties by id, so every replica picks the same); RESOURCE_EXHAUSTED when all are connected. */
function requireEvictableDevice(state: MetadataState): DeviceRecord {
  let oldest: DeviceRecord | undefined;
  for (const device of state.devices.values()) {
    if (device.brokerId !== 0) continue;
    if (oldest === undefined || device.lastSeenMs < oldest.lastSeenMs || (device.lastSeenMs === oldest.lastSeenMs && device.deviceId < oldest.deviceId)) oldest = device;
  }
  if (oldest === undefined) rejectCommand('RESOURCE_EXHAUSTED', `device registry: all ${state.devices.size} devices are connected, the limit of ${metadataLimits.devicesMax}`);
  return oldest;
}

function removeDevice(context: ApplyContext, device: DeviceRecord): void {
  context.state.devices.delete(device.deviceId);
  context.state.deviceCommandCount -= device.commands.length;
  context.deltas.push({ kind: 'deviceRemoved', version: context.index, deviceId: device.deviceId });
}

function pushDeviceChanged(context: ApplyContext, device: DeviceRecord): void {
  context.deltas.push({ kind: 'deviceChanged', version: context.index, device: copyDevice(device) });
}

function copyCommand(command: DeviceCommandRecord): DeviceCommandRecord {
  return { ...command, action: copyDeviceAction(command.action) };
}
