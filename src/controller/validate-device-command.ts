import { rejectCommand } from './apply-context.js';
import { metadataLimits } from './metadata-limits.js';
import { deviceCommandOutcomes, type DeviceAction, type DeviceCommandOutcome, type DeviceCommandRecord } from './metadata-state.js';

/** The control plane's device and command ids (ingest/v1 control_plane_service.proto). */
const idPattern = /^[A-Za-z0-9._:-]+$/;
/** SetConfig keys as the collector SDK names them ("upload.max_bytes_per_s"). */
const configKeyPattern = /^[A-Za-z0-9._-]+$/;

export function validateDeviceId(deviceId: string): void {
  const lengthMax = metadataLimits.deviceIdLengthMax;
  if (deviceId.length > lengthMax || !idPattern.test(deviceId)) {
    rejectCommand('INVALID_REQUEST', `device id "${deviceId.slice(0, 200)}" must be 1-${lengthMax} characters of [A-Za-z0-9._:-]`);
  }
}

export function validateCommandId(deviceId: string, commandId: string): void {
  const lengthMax = metadataLimits.commandIdLengthMax;
  if (commandId.length > lengthMax || !idPattern.test(commandId)) {
    rejectCommand('INVALID_REQUEST', `device "${deviceId}": command id "${commandId.slice(0, 200)}" must be 1-${lengthMax} characters of [A-Za-z0-9._:-]`);
  }
}

/** A command's fields and its action, within every bound; `nowMs` is when it is queued. */
export function validateDeviceCommand(deviceId: string, command: DeviceCommandRecord, nowMs: number): void {
  validateCommandId(deviceId, command.commandId);
  const where = `device "${deviceId}" command "${command.commandId}"`;
  for (const [what, value] of [['issue time', command.issuedAtMs], ['expiry time', command.expiresAtMs]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) rejectCommand('INVALID_REQUEST', `${where}: ${what} ${value} must be a non-negative integer`);
  }
  if (command.expiresAtMs <= nowMs) rejectCommand('INVALID_REQUEST', `${where} expired at ${command.expiresAtMs} ms, before it was queued at ${nowMs} ms`);
  if (command.issuedBy.length > metadataLimits.commandIssuerLengthMax) {
    rejectCommand('INVALID_REQUEST', `${where}: issuer "${command.issuedBy.slice(0, 64)}…" exceeds ${metadataLimits.commandIssuerLengthMax} characters`);
  }
  validateAction(where, command.action);
}

function validateAction(where: string, action: DeviceAction): void {
  switch (action.kind) {
    case 'pause':
      if (!Number.isSafeInteger(action.durationMs) || action.durationMs < 0) rejectCommand('INVALID_REQUEST', `${where}: pause duration ${action.durationMs} ms must be a non-negative integer`);
      validateSources(where, action.sources);
      return;
    case 'resume':
    case 'flush':
      validateSources(where, action.sources);
      return;
    case 'setConfig':
      validateConfig(where, action.values, action.unsetKeys);
      return;
    default:
      rejectCommand('INVALID_REQUEST', `${where}: action "${String((action as { kind: unknown }).kind)}" is not pause, resume, flush or setConfig`);
  }
}

function validateSources(where: string, sources: readonly string[]): void {
  if (sources.length > metadataLimits.commandSourcesMax) rejectCommand('INVALID_REQUEST', `${where} names ${sources.length} sources; at most ${metadataLimits.commandSourcesMax} are allowed`);
  for (const source of sources) {
    if (source.length === 0 || source.length > metadataLimits.uploadSourceNameLengthMax) {
      rejectCommand('INVALID_REQUEST', `${where}: source name "${source.slice(0, 80)}" must be 1-${metadataLimits.uploadSourceNameLengthMax} characters`);
    }
  }
}

function validateConfig(where: string, values: Readonly<Record<string, string>>, unsetKeys: readonly string[]): void {
  const keys = [...Object.keys(values), ...unsetKeys];
  if (keys.length === 0) rejectCommand('INVALID_REQUEST', `${where}: a set-config command needs at least one key to set or unset`);
  if (keys.length > metadataLimits.commandConfigEntriesMax) {
    rejectCommand('INVALID_REQUEST', `${where} sets or unsets ${keys.length} keys; at most ${metadataLimits.commandConfigEntriesMax} are allowed`);
  }
  for (const key of keys) {
    if (key.length > metadataLimits.commandConfigKeyLengthMax || !configKeyPattern.test(key)) {
      rejectCommand('INVALID_REQUEST', `${where}: config key "${key.slice(0, 160)}" must be 1-${metadataLimits.commandConfigKeyLengthMax} characters of [A-Za-z0-9._-]`);
    }
  }
  if (new Set(keys).size !== keys.length) rejectCommand('INVALID_REQUEST', `${where} names a config key twice (set and unset, or unset twice)`);
  for (const [key, value] of Object.entries(values)) {
    if (value.length > metadataLimits.commandConfigValueLengthMax) {
      rejectCommand('INVALID_REQUEST', `${where}: the value of "${key}" has ${value.length} characters; at most ${metadataLimits.commandConfigValueLengthMax} are allowed`);
    }
  }
}

export function validateAck(deviceId: string, commandId: string, outcome: DeviceCommandOutcome, message: string, completedAtMs: number): void {
  validateCommandId(deviceId, commandId);
  const where = `device "${deviceId}" ack of "${commandId}"`;
  if (!deviceCommandOutcomes.includes(outcome)) rejectCommand('INVALID_REQUEST', `${where}: outcome "${String(outcome)}" is not one of ${deviceCommandOutcomes.join(', ')}`);
  if (message.length > metadataLimits.commandAckMessageLengthMax) {
    rejectCommand('INVALID_REQUEST', `${where}: message of ${message.length} characters exceeds ${metadataLimits.commandAckMessageLengthMax}`);
  }
  if (!Number.isSafeInteger(completedAtMs)) rejectCommand('INVALID_REQUEST', `${where}: completion time ${completedAtMs} must be an integer`);
}
