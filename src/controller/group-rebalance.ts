import assert from 'node:assert/strict';
import { rejectCommand, type ApplyContext } from './apply-context.js';
import { groupChangedDelta } from './metadata-delta.js';
import { sortedValues, type GroupMember, type GroupRecord, type MemberAssignment } from './metadata-state.js';

/*
 * The join barrier, deterministic because every step is a command in the log:
 *
 *   empty ──join──▶ preparingRebalance ──all members joined──▶ completingRebalance ──leader syncs──▶ stable
 *                        ▲   │ (or the rebalance deadline passes: expireGroupMembers
 *                        │   │  removes members that did not rejoin, then completes)
 *                        └───┴── a join of a new member, a leave, or an expiry from any state
 *
 * A rebalance begins by marking every member as not joined and fixing a deadline, `nowMs` plus the
 * largest rebalance timeout. Each JoinGroup marks its member joined; the command that makes the
 * last member joined completes the generation (generation + 1, a leader, a protocol). Members that
 * do not rejoin are removed by the first expireGroupMembers tick at or after the deadline, which
 * then completes the generation with those that did. Members waiting in a JoinGroup long poll are
 * not expired by their session timeout meanwhile: they cannot heartbeat and have shown they live.
 */

export function emptyAssignment(): MemberAssignment {
  return { partitions: [], userData: new Uint8Array(0) };
}

export function newGroupRecord(groupId: string, protocolType: string): GroupRecord {
  return {
    groupId, state: 'empty', generation: 0, protocolType, protocolName: '', leaderMemberId: '', rebalanceDeadlineMs: 0,
    members: new Map(), offsets: new Map(),
  };
}

export function requireGroup(group: GroupRecord | undefined, groupId: string): GroupRecord {
  if (group === undefined) rejectCommand('UNKNOWN_MEMBER', `group "${groupId}" does not exist; join it first`);
  return group;
}

export function requireMember(group: GroupRecord, memberId: string, generation: number): GroupMember {
  const member = group.members.get(memberId);
  if (member === undefined) rejectCommand('UNKNOWN_MEMBER', `group "${group.groupId}" has no member "${memberId}"; join again`);
  if (generation !== group.generation) {
    rejectCommand('ILLEGAL_GENERATION', `group "${group.groupId}" is at generation ${group.generation}; member "${memberId}" sent generation ${generation}`);
  }
  return member;
}

export function beginRebalance(group: GroupRecord, nowMs: number): void {
  assert.ok(group.members.size > 0, 'only a group with members rebalances');
  group.state = 'preparingRebalance';
  for (const member of group.members.values()) member.joined = false;
  group.rebalanceDeadlineMs = nowMs + largestRebalanceTimeoutMs(group);
}

function largestRebalanceTimeoutMs(group: GroupRecord): number {
  let largest = 0;
  for (const member of group.members.values()) largest = Math.max(largest, member.rebalanceTimeoutMs);
  return largest;
}

/** Completes a rebalance whose barrier is passed: every remaining member has joined. */
export function tryCompleteRebalance(group: GroupRecord, nowMs: number): boolean {
  if (group.state !== 'preparingRebalance') return false;
  const members = sortedValues(group.members);
  if (!members.every((member) => member.joined)) return false;
  assert.ok(members.length > 0, 'an empty group is settled by removeMembers, not completed');
  group.generation += 1;
  const first = members[0];
  assert.ok(first !== undefined);
  if (!group.members.has(group.leaderMemberId)) group.leaderMemberId = first.memberId;
  group.protocolName = chooseProtocol(group);
  group.state = 'completingRebalance';
  group.rebalanceDeadlineMs = nowMs + largestRebalanceTimeoutMs(group);
  for (const member of members) {
    member.joined = false;
    member.assignment = emptyAssignment();
    member.heartbeatDeadlineMs = nowMs + member.sessionTimeoutMs;
  }
  return true;
}

/** The first protocol, in the leader's order of preference, that every member supports. */
function chooseProtocol(group: GroupRecord): string {
  const leader = group.members.get(group.leaderMemberId);
  assert.ok(leader !== undefined);
  const chosen = leader.protocols.find((protocol) =>
    [...group.members.values()].every((member) => member.protocols.some((candidate) => candidate.name === protocol.name)));
  assert.ok(chosen !== undefined, `group "${group.groupId}": joins are checked to share a protocol`);
  return chosen.name;
}

/**
 * Removes members (leave or expiry). A group left empty moves to a new empty generation, which
 * fences every commit of the old one, and is deleted when it also holds no committed offsets;
 * otherwise the removal starts (or advances) a rebalance.
 */
export function removeMembers(context: ApplyContext, group: GroupRecord, memberIds: readonly string[], nowMs: number): void {
  if (memberIds.length === 0) return;
  for (const memberId of memberIds) group.members.delete(memberId);
  if (!group.members.has(group.leaderMemberId)) group.leaderMemberId = '';
  if (group.members.size === 0) {
    settleEmptyGroup(context, group);
    return;
  }
  if (group.state !== 'preparingRebalance') beginRebalance(group, nowMs);
  tryCompleteRebalance(group, nowMs);
  context.deltas.push(groupChangedDelta(context.index, group));
}

function settleEmptyGroup(context: ApplyContext, group: GroupRecord): void {
  group.state = 'empty';
  group.generation += 1;
  group.protocolName = '';
  group.leaderMemberId = '';
  group.rebalanceDeadlineMs = 0;
  if (group.offsets.size === 0) {
    context.state.groups.delete(group.groupId);
    context.deltas.push({ kind: 'groupDeleted', version: context.index, groupId: group.groupId });
    return;
  }
  context.deltas.push(groupChangedDelta(context.index, group));
}

/**
 * Whether expireGroupMembers at `nowMs` removes the member: a session that expired, except while
 * the member waits in its JoinGroup; a member that did not rejoin by the rebalance deadline; a
 * leader that did not sync by it.
 */
export function isMemberExpired(group: GroupRecord, member: GroupMember, nowMs: number): boolean {
  const rebalanceDue = group.rebalanceDeadlineMs <= nowMs;
  if (group.state === 'preparingRebalance') return !member.joined && (rebalanceDue || member.heartbeatDeadlineMs <= nowMs);
  if (group.state === 'completingRebalance' && member.memberId === group.leaderMemberId && rebalanceDue) return true;
  return member.heartbeatDeadlineMs <= nowMs;
}
