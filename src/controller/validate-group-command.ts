import { rejectCommand, requireRoom } from './apply-context.js';
import type { AssignmentForMember, JoinGroupCommand } from './metadata-command.js';
import { metadataLimits } from './metadata-limits.js';
import type { GroupRecord } from './metadata-state.js';
import { validateName } from './validate-topic-config.js';

/** Checks a JoinGroup's own fields; how it fits the group is checked against the group. */
export function validateJoin(command: JoinGroupCommand): void {
  const { groupId, sessionTimeoutMs, rebalanceTimeoutMs, protocols } = command;
  validateName(groupId, 'group');
  const { groupSessionTimeoutMsMin: sessionMin, groupSessionTimeoutMsMax: sessionMax, groupRebalanceTimeoutMsMax: rebalanceMax } = metadataLimits;
  if (!Number.isSafeInteger(sessionTimeoutMs) || sessionTimeoutMs < sessionMin || sessionTimeoutMs > sessionMax) {
    rejectCommand('INVALID_REQUEST', `group "${groupId}": session timeout ${sessionTimeoutMs} ms must be from ${sessionMin} to ${sessionMax} ms`);
  }
  if (!Number.isSafeInteger(rebalanceTimeoutMs) || rebalanceTimeoutMs < 1 || rebalanceTimeoutMs > rebalanceMax) {
    rejectCommand('INVALID_REQUEST', `group "${groupId}": rebalance timeout ${rebalanceTimeoutMs} ms must be from 1 to ${rebalanceMax} ms`);
  }
  for (const [what, value] of [['member id', command.memberId], ['group instance id', command.groupInstanceId], ['client id', command.clientId]] as const) {
    if (value.length > metadataLimits.identifierLengthMax) {
      rejectCommand('INVALID_REQUEST', `group "${groupId}": ${what} is ${value.length} characters; at most ${metadataLimits.identifierLengthMax} are allowed`);
    }
  }
  if (command.protocolType === '' || command.protocolType.length > metadataLimits.identifierLengthMax) {
    rejectCommand('INVALID_REQUEST', `group "${groupId}": protocol type "${command.protocolType}" must be 1-${metadataLimits.identifierLengthMax} characters`);
  }
  if (protocols.length === 0) rejectCommand('INVALID_REQUEST', `group "${groupId}": a member must offer at least one protocol`);
  requireRoom(0, protocols.length, metadataLimits.protocolsPerMemberMax, `protocols offered to group "${groupId}"`);
  const names = new Set<string>();
  for (const protocol of protocols) {
    if (protocol.name === '' || protocol.name.length > metadataLimits.identifierLengthMax || names.has(protocol.name)) {
      rejectCommand('INVALID_REQUEST', `group "${groupId}": protocol name "${protocol.name}" is empty, too long or repeated`);
    }
    names.add(protocol.name);
    if (protocol.metadata.length > metadataLimits.protocolMetadataBytesMax) {
      rejectCommand('INVALID_REQUEST', `group "${groupId}": protocol "${protocol.name}" metadata is ${protocol.metadata.length} bytes; at most ${metadataLimits.protocolMetadataBytesMax} are allowed`);
    }
  }
}

/** The leader's assignment: known members, each at most once, no partition given twice. */
export function validateAssignments(group: GroupRecord, assignments: readonly AssignmentForMember[]): void {
  const where = `group "${group.groupId}" generation ${group.generation}`;
  const seenMembers = new Set<string>();
  const owners = new Map<string, string>();
  for (const assignment of assignments) {
    if (!group.members.has(assignment.memberId)) rejectCommand('INVALID_REQUEST', `${where}: the assignment names unknown member "${assignment.memberId}"`);
    if (seenMembers.has(assignment.memberId)) rejectCommand('INVALID_REQUEST', `${where}: member "${assignment.memberId}" is assigned twice`);
    seenMembers.add(assignment.memberId);
    if (assignment.userData.length > metadataLimits.assignmentUserDataBytesMax) {
      rejectCommand('INVALID_REQUEST', `${where}: user data for "${assignment.memberId}" is ${assignment.userData.length} bytes; at most ${metadataLimits.assignmentUserDataBytesMax} are allowed`);
    }
    for (const entry of assignment.partitions) {
      for (const partition of entry.partitions) {
        if (!Number.isSafeInteger(partition) || partition < 0) rejectCommand('INVALID_REQUEST', `${where}: partition ${partition} of "${entry.topic}" is not a partition number`);
        const key = `${entry.topic}/${partition}`;
        const owner = owners.get(key);
        if (owner !== undefined) rejectCommand('INVALID_REQUEST', `${where}: ${key} is assigned to both "${owner}" and "${assignment.memberId}"`);
        owners.set(key, assignment.memberId);
        requireRoom(owners.size - 1, 1, metadataLimits.assignedPartitionsMax, `${where}: assigned partitions`);
      }
    }
  }
}
