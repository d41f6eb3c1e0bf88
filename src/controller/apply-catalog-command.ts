import { rejectCommand, requireRoom, type ApplyContext } from './apply-context.js';
import { requirePartition } from './apply-partition-command.js';
import { requireTopic } from './apply-topic-command.js';
import type { RegisterControllerCommand, UnregisterControllerCommand, UpsertUploadSessionCommand } from './metadata-command.js';
import { controllersChangedDelta } from './metadata-delta.js';
import { metadataLimits } from './metadata-limits.js';
import {
  controllerRoles, terminalUploadSessionStates, uploadSessionKey, uploadSessionStates, type ControllerRecord, type UploadSessionRecord,
} from './metadata-state.js';

export interface UpsertUploadSessionOutput {
  session: UploadSessionRecord;
}

export interface ControllersOutput {
  controllers: ControllerRecord[];
}

const digestPattern = /^[0-9a-f]*$/;

/**
 * Records an upload session's progress in the catalog. A session stays on the partition it was
 * created on, its state only moves forward, its committed length never shrinks, and a terminal
 * session is closed: only an identical repeat (a retry) is accepted.
 */
export function upsertUploadSession(context: ApplyContext, command: UpsertUploadSessionCommand): UpsertUploadSessionOutput {
  validateSessionFields(command);
  const where = `session "${command.deviceId}/${command.sessionId}"`;
  const key = uploadSessionKey(command.deviceId, command.sessionId);
  const existing = context.state.uploadSessions.get(key);
  if (existing === undefined) {
    requireRoom(context.state.uploadSessions.size, 1, metadataLimits.uploadSessionsMax, 'upload sessions in the catalog');
    requirePartition(requireTopic(context.state, command.topic, ''), command.partition);
  } else {
    const unchanged = existing.state === command.state && existing.committedLength === command.committedLength && existing.digest === command.digest;
    if (terminalUploadSessionStates.has(existing.state)) {
      if (unchanged && existing.topic === command.topic && existing.partition === command.partition) return { session: { ...existing } };
      rejectCommand('SESSION_CLOSED', `${where} is ${existing.state} and accepts no more changes`);
    }
    checkProgress(where, existing, command);
  }
  const session: UploadSessionRecord = {
    deviceId: command.deviceId, sessionId: command.sessionId, state: command.state, topic: command.topic, partition: command.partition,
    committedLength: command.committedLength, digest: command.digest, updatedAtMs: command.nowMs,
  };
  context.state.uploadSessions.set(key, session);
  context.deltas.push({ kind: 'uploadSessionChanged', version: context.index, session: { ...session } });
  return { session: { ...session } };
}

function validateSessionFields(command: UpsertUploadSessionCommand): void {
  const lengthMax = metadataLimits.identifierLengthMax;
  for (const [what, value] of [['device id', command.deviceId], ['session id', command.sessionId]] as const) {
    if (value.length === 0 || value.length > lengthMax || value.includes('\u0000')) {
      rejectCommand('INVALID_REQUEST', `upload session ${what} "${value}" must be 1-${lengthMax} characters without NUL`);
    }
  }
  const where = `session "${command.deviceId}/${command.sessionId}"`;
  if (!uploadSessionStates.includes(command.state)) rejectCommand('INVALID_REQUEST', `${where}: state "${String(command.state)}" is not one of ${uploadSessionStates.join(', ')}`);
  if (!Number.isSafeInteger(command.committedLength) || command.committedLength < 0) {
    rejectCommand('INVALID_REQUEST', `${where}: committed length ${command.committedLength} must be a non-negative integer`);
  }
  if (command.digest.length > metadataLimits.digestLengthMax || !digestPattern.test(command.digest)) {
    rejectCommand('INVALID_REQUEST', `${where}: digest "${command.digest}" must be at most ${metadataLimits.digestLengthMax} lowercase hex digits`);
  }
  if (command.state === 'complete' && command.digest === '') rejectCommand('INVALID_REQUEST', `${where}: a complete session needs its SHA-256 digest`);
}

function checkProgress(where: string, existing: UploadSessionRecord, command: UpsertUploadSessionCommand): void {
  if (existing.topic !== command.topic || existing.partition !== command.partition) {
    rejectCommand('INVALID_REQUEST', `${where} lives on ${existing.topic}/${existing.partition}; it cannot move to ${command.topic}/${command.partition}`);
  }
  if (uploadSessionStates.indexOf(command.state) < uploadSessionStates.indexOf(existing.state) && !terminalUploadSessionStates.has(command.state)) {
    rejectCommand('INVALID_REQUEST', `${where} is ${existing.state}; it cannot go back to ${command.state}`);
  }
  if (command.committedLength < existing.committedLength) {
    rejectCommand('OFFSET_MISMATCH', `${where} has ${existing.committedLength} committed bytes; ${command.committedLength} would go backwards`);
  }
}

/** Mirrors a Raft membership change into metadata, for discovery. Idempotent. */
export function registerController(context: ApplyContext, command: RegisterControllerCommand): ControllersOutput {
  const { controllers } = context.state;
  if (!Number.isSafeInteger(command.nodeId) || command.nodeId < 1) rejectCommand('INVALID_REQUEST', `controller id ${command.nodeId} must be an integer of at least 1`);
  if (command.address.length === 0 || command.address.length > metadataLimits.identifierLengthMax) {
    rejectCommand('INVALID_REQUEST', `controller ${command.nodeId}: address "${command.address}" must be 1-${metadataLimits.identifierLengthMax} characters`);
  }
  if (!controllerRoles.includes(command.role)) rejectCommand('INVALID_REQUEST', `controller ${command.nodeId}: role "${String(command.role)}" is not voter or learner`);
  const existing = controllers.get(command.nodeId);
  if (existing === undefined) requireRoom(controllers.size, 1, metadataLimits.controllersMax, 'controllers');
  if (existing?.address !== command.address || existing.role !== command.role) {
    controllers.set(command.nodeId, { nodeId: command.nodeId, address: command.address, role: command.role });
    context.deltas.push(controllersChangedDelta(context.index, controllers));
  }
  return { controllers: listControllerRecords(controllers) };
}

/** Removes a controller from the mirror; removing an absent one succeeds, like RemoveController. */
export function unregisterController(context: ApplyContext, command: UnregisterControllerCommand): ControllersOutput {
  const { controllers } = context.state;
  if (controllers.delete(command.nodeId)) context.deltas.push(controllersChangedDelta(context.index, controllers));
  return { controllers: listControllerRecords(controllers) };
}

function listControllerRecords(controllers: ReadonlyMap<number, ControllerRecord>): ControllerRecord[] {
  return [...controllers.keys()].sort((left, right) => left - right).map((id) => ({ ...(controllers.get(id) as ControllerRecord) }));
}
