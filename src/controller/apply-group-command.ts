import assert from 'node:assert/strict';
import { rejectCommand, requireRoom, type ApplyContext } from './apply-context.js';
import type {
  ExpireGroupMembersCommand, GroupHeartbeatCommand, JoinGroupCommand, LeaveGroupCommand, SyncGroupCommand,
} from './metadata-command.js';
import { groupChangedDelta } from './metadata-delta.js';
import { metadataLimits } from './metadata-limits.js';
import { sortedValues, type GroupMember, type GroupRecord, type MemberAssignment } from './metadata-state.js';
import type { CommandError } from './apply-partition-command.js';
import {
  beginRebalance, emptyAssignment, isMemberExpired, newGroupRecord, removeMembers, requireGroup, requireMember, tryCompleteRebalance,
} from './group-rebalance.js';
import { validateAssignments, validateJoin } from './validate-group-command.js';

export interface JoinGroupOutput {
  memberId: string;
  /** Whether the generation is complete at this version; if not, wait for a groupChanged delta. */
  completed: boolean;
  generation: number;
  leaderMemberId: string;
  protocolName: string;
}

export interface SyncGroupOutput {
  /** False for a follower whose leader has not synced yet: wait for a groupChanged delta. */
  completed: boolean;
  generation: number;
  protocolName: string;
  assignment: MemberAssignment;
}

export interface GroupHeartbeatOutput {
  rebalanceInProgress: boolean;
}

export interface LeaveGroupResult {
  memberId: string;
  groupInstanceId: string;
  error: CommandError | null;
}

export interface LeaveGroupOutput {
  results: LeaveGroupResult[];
}

export interface ExpireGroupMembersOutput {
  removed: Array<{ groupId: string; memberId: string }>;
}

/** Member ids are made from the client id and the Raft index: unique, and the same on every replica. */
const memberIdPrefixLengthMax = 200;

/**
 * Enters a member into the group's next generation (see group-rebalance.ts for the barrier). A
 * known member rejoining with unchanged protocols gets the current generation back without a
 * rebalance while the generation awaits its assignment (a JoinGroup retried after a lost
 * response), or once it is stable unless the member leads it (Kafka's rule: a leader's rejoin
 * asks for a new assignment). So a static member's restart moves nothing.
 */
export function joinGroup(context: ApplyContext, command: JoinGroupCommand): JoinGroupOutput {
  const { state } = context;
  validateJoin(command);
  const existingGroup = state.groups.get(command.groupId);
  if (existingGroup === undefined) {
    if (command.memberId !== '') rejectCommand('UNKNOWN_MEMBER', `group "${command.groupId}" does not exist, so it has no member "${command.memberId}"; join with an empty member id`);
    requireRoom(state.groups.size, 1, metadataLimits.groupsMax, 'consumer groups');
  }
  const found = existingGroup === undefined ? undefined : findJoiningMember(existingGroup, command);
  if (existingGroup !== undefined) checkJoinFits(existingGroup, command, found);
  const group = existingGroup ?? createGroup(context, command.groupId, command.protocolType);
  const unchanged = found !== undefined && sameProtocols(found, command) &&
    (group.state === 'completingRebalance' || (group.state === 'stable' && group.leaderMemberId !== found.memberId));
  const memberId = found?.memberId ?? `${command.clientId.slice(0, memberIdPrefixLengthMax) || 'member'}-${context.index.toString(16)}`;
  const member = upsertMember(group, memberId, command);
  if (!unchanged) {
    if (group.state !== 'preparingRebalance') beginRebalance(group, command.nowMs);
    member.joined = true;
    tryCompleteRebalance(group, command.nowMs);
    context.deltas.push(groupChangedDelta(context.index, group));
  }
  const completed = group.state !== 'preparingRebalance';
  return { memberId, completed, generation: group.generation, leaderMemberId: group.leaderMemberId, protocolName: group.protocolName };
}

function findJoiningMember(group: GroupRecord, command: JoinGroupCommand): GroupMember | undefined {
  const byInstance = command.groupInstanceId === ''
    ? undefined
    : [...group.members.values()].find((member) => member.groupInstanceId === command.groupInstanceId);
  if (command.memberId === '') return byInstance;
  const member = group.members.get(command.memberId);
  if (member === undefined) rejectCommand('UNKNOWN_MEMBER', `group "${group.groupId}" has no member "${command.memberId}"; join with an empty member id`);
  if (byInstance !== undefined && byInstance !== member) {
    rejectCommand('FENCED', `group "${group.groupId}": instance "${command.groupInstanceId}" belongs to member "${byInstance.memberId}", not "${command.memberId}"`);
  }
  return member;
}

function checkJoinFits(group: GroupRecord, command: JoinGroupCommand, found: GroupMember | undefined): void {
  const others = [...group.members.values()].filter((member) => member !== found);
  if (found === undefined) requireRoom(group.members.size, 1, metadataLimits.groupMembersMax, `members of group "${group.groupId}"`);
  if (others.length === 0) return;
  if (command.protocolType !== group.protocolType) {
    rejectCommand('INVALID_REQUEST', `group "${group.groupId}" has protocol type "${group.protocolType}"; the member sent "${command.protocolType}"`);
  }
  const shared = command.protocols.filter((protocol) => others.every((member) => member.protocols.some((own) => own.name === protocol.name)));
  if (shared.length === 0) {
    const names = command.protocols.map((protocol) => protocol.name).join(', ');
    rejectCommand('INVALID_REQUEST', `group "${group.groupId}": no member protocol of [${names}] is supported by every current member`);
  }
}

function createGroup(context: ApplyContext, groupId: string, protocolType: string): GroupRecord {
  const group = newGroupRecord(groupId, protocolType);
  context.state.groups.set(groupId, group);
  return group;
}

function sameProtocols(member: GroupMember, command: JoinGroupCommand): boolean {
  return member.protocols.length === command.protocols.length && member.protocols.every((protocol, position) => {
    const other = command.protocols[position];
    return other !== undefined && other.name === protocol.name && sameBytes(other.metadata, protocol.metadata);
  });
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, position) => byte === right[position]);
}

function upsertMember(group: GroupRecord, memberId: string, command: JoinGroupCommand): GroupMember {
  const previous = group.members.get(memberId);
  const member: GroupMember = {
    memberId,
    groupInstanceId: command.groupInstanceId,
    clientId: command.clientId,
    sessionTimeoutMs: command.sessionTimeoutMs,
    rebalanceTimeoutMs: command.rebalanceTimeoutMs,
    heartbeatDeadlineMs: command.nowMs + command.sessionTimeoutMs,
    protocols: command.protocols.map((protocol) => ({ name: protocol.name, metadata: protocol.metadata.slice() })),
    joined: previous?.joined ?? false,
    assignment: previous?.assignment ?? emptyAssignment(),
  };
  group.members.set(memberId, member);
  if (group.members.size === 1) group.protocolType = command.protocolType;
  return member;
}

/**
 * Delivers the generation's assignment. The leader's SyncGroup (in completingRebalance) stores
 * every member's assignment and makes the group stable; a follower's returns its assignment once
 * that happened, and `completed: false` before.
 */
export function syncGroup(context: ApplyContext, command: SyncGroupCommand): SyncGroupOutput {
  const group = requireGroup(context.state.groups.get(command.groupId), command.groupId);
  const member = requireMember(group, command.memberId, command.generation);
  if (group.state === 'preparingRebalance') {
    rejectCommand('REBALANCE_IN_PROGRESS', `group "${group.groupId}" is rebalancing; member "${member.memberId}" must join again`);
  }
  const isLeader = member.memberId === group.leaderMemberId;
  if (command.assignments.length > 0 && !isLeader) {
    rejectCommand('INVALID_REQUEST', `group "${group.groupId}": member "${member.memberId}" sent assignments but "${group.leaderMemberId}" leads generation ${group.generation}`);
  }
  if (group.state === 'completingRebalance' && isLeader) {
    validateAssignments(group, command.assignments);
    for (const target of group.members.values()) target.assignment = emptyAssignment();
    for (const assigned of command.assignments) {
      const target = group.members.get(assigned.memberId);
      assert.ok(target !== undefined);
      target.assignment = { partitions: assigned.partitions.map((entry) => ({ topic: entry.topic, partitions: [...entry.partitions] })), userData: assigned.userData.slice() };
    }
    group.state = 'stable';
    group.rebalanceDeadlineMs = 0;
    context.deltas.push(groupChangedDelta(context.index, group));
  }
  member.heartbeatDeadlineMs = command.nowMs + member.sessionTimeoutMs;
  const completed = group.state === 'stable';
  const assignment = completed ? copyAssignment(member.assignment) : emptyAssignment();
  return { completed, generation: group.generation, protocolName: group.protocolName, assignment };
}

function copyAssignment(assignment: MemberAssignment): MemberAssignment {
  return { partitions: assignment.partitions.map((entry) => ({ topic: entry.topic, partitions: [...entry.partitions] })), userData: assignment.userData.slice() };
}

/** Keeps a member's session alive; tells it to rejoin while a rebalance is being prepared. */
export function groupHeartbeat(context: ApplyContext, command: GroupHeartbeatCommand): GroupHeartbeatOutput {
  const group = requireGroup(context.state.groups.get(command.groupId), command.groupId);
  const member = requireMember(group, command.memberId, command.generation);
  member.heartbeatDeadlineMs = command.nowMs + member.sessionTimeoutMs;
  return { rebalanceInProgress: group.state === 'preparingRebalance' };
}

/** Removes members by member id or static instance id, each with its own result. */
export function leaveGroup(context: ApplyContext, command: LeaveGroupCommand): LeaveGroupOutput {
  const group = requireGroup(context.state.groups.get(command.groupId), command.groupId);
  if (command.members.length === 0) rejectCommand('INVALID_REQUEST', `group "${group.groupId}": a leave must name at least one member`);
  requireRoom(0, command.members.length, metadataLimits.groupMembersMax, 'members named in one leave');
  const leaving = new Set<string>();
  const results = command.members.map((named): LeaveGroupResult => {
    const result: LeaveGroupResult = { memberId: named.memberId, groupInstanceId: named.groupInstanceId, error: null };
    const byInstance = named.groupInstanceId === '' ? undefined : sortedValues(group.members).find((member) => member.groupInstanceId === named.groupInstanceId);
    const member = named.memberId === '' ? byInstance : group.members.get(named.memberId);
    if (member === undefined) {
      result.error = { code: 'UNKNOWN_MEMBER', message: `group "${group.groupId}" has no member "${named.memberId || named.groupInstanceId}"` };
    } else if (byInstance !== undefined && byInstance !== member) {
      result.error = { code: 'FENCED', message: `group "${group.groupId}": instance "${named.groupInstanceId}" belongs to member "${byInstance.memberId}"` };
    } else {
      result.memberId = member.memberId;
      leaving.add(member.memberId);
    }
    return result;
  });
  removeMembers(context, group, [...leaving].sort(), command.nowMs);
  return { results };
}

/**
 * The leader's clock tick for groups: removes members whose session expired, members that did not
 * rejoin by the rebalance deadline, and a leader that did not sync by it; then completes what can.
 */
export function expireGroupMembers(context: ApplyContext, command: ExpireGroupMembersCommand): ExpireGroupMembersOutput {
  const removed: ExpireGroupMembersOutput['removed'] = [];
  for (const group of sortedValues(context.state.groups)) {
    const expired = sortedValues(group.members).filter((member) => isMemberExpired(group, member, command.nowMs)).map((member) => member.memberId);
    for (const memberId of expired) removed.push({ groupId: group.groupId, memberId });
    removeMembers(context, group, expired, command.nowMs);
  }
  return { removed };
}
