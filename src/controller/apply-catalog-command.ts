import { rejectCommand, requireRoom, type ApplyContext } from './apply-context.js';
import type { RegisterControllerCommand, UnregisterControllerCommand } from './metadata-command.js';
import { controllersChangedDelta } from './metadata-delta.js';
import { metadataLimits } from './metadata-limits.js';
import { controllerRoles, type ControllerRecord } from './metadata-state.js';

export interface ControllersOutput {
  controllers: ControllerRecord[];
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
