import {
  describeGroup, type GroupDescription, type JoinGroupOutput, type MemberAssignment, type MetadataState,
} from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import {
  GroupMember,
  type GroupMember as WireGroupMember,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '../generated/tributary/controller/v1/group_coordinator_service.js';
import type { GroupCall, GroupServiceContext } from './group-call.js';
import { checkStaticMember, memberHeartbeatIntervalMs } from './group-member-calls.js';
import { requireLeader } from './require-leader.js';

/** A member's session timeout when JoinGroup leaves it 0 (Kafka's session.timeout.ms). */
export const groupSessionTimeoutMsDefault = 45_000;
/** A member's rebalance timeout when JoinGroup leaves it 0 (Kafka's max.poll.interval.ms). */
export const groupRebalanceTimeoutMsDefault = 300_000;
/**
 * A long poll waits this much beyond the member's rebalance timeout: the leader removes members
 * that did not rejoin at its next liveness check after the deadline, which completes the barrier.
 */
export const groupWaitSlackMs = 2_000;
/** A long poll answers this long before the caller's deadline, so the caller gets the answer rather than its own timeout. */
export const groupAnswerMarginMs = 200;
/** JoinGroup proposals per call: a rebalance that restarts before this member saw its generation is joined again. */
export const joinAttemptsMax = 3;

/** Where a waiting JoinGroup stands after a change of its group. */
type JoinOutcome = { kind: 'completed'; group: GroupDescription } | { kind: 'rejoin' };

/**
 * JoinGroup as a barrier: proposes the join, then waits (bounded by the member's rebalance
 * timeout and the call's deadline) until the group completes the generation that includes the
 * member, and answers with it; the generation's leader also gets every member's subscription.
 */
export async function joinGroup(call: GroupCall<JoinGroupRequest>, context: GroupServiceContext): Promise<JoinGroupResponse> {
  const { request } = call;
  requireLeader(context.controller, 'JoinGroup');
  const rebalanceTimeoutMs = request.rebalanceTimeoutMs || groupRebalanceTimeoutMsDefault;
  const waitMs = longPollMs(rebalanceTimeoutMs, call.remainingMs);
  const waitUntilMs = context.clock.nowMs() + waitMs;
  let memberId = request.memberId;
  for (let attempt = 1; attempt <= joinAttemptsMax; attempt++) {
    const output = await context.controller.submit({
      type: 'joinGroup',
      groupId: request.groupId,
      memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: call.clientId,
      sessionTimeoutMs: request.sessionTimeoutMs || groupSessionTimeoutMsDefault,
      rebalanceTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols.map((protocol) => ({ name: protocol.name, metadata: encodeMemberMetadata(request, protocol.userData) })),
      nowMs: context.clock.nowMs(),
    });
    memberId = output.memberId;
    const outcome = output.completed ? completedNow(context.controller.state, request.groupId, output) : await waitForGeneration(call, context, output, waitUntilMs);
    if (outcome.kind === 'completed') return joinResponse(context.controller.state, outcome.group, memberId);
  }
  throw new TributaryError('REBALANCE_IN_PROGRESS', `group "${request.groupId}" restarted its rebalance ${joinAttemptsMax} times while member "${memberId}" was joining; join again with that member id`);
}

/** How long a long poll may wait: the member's rebalance timeout and slack, within the caller's deadline. */
function longPollMs(rebalanceTimeoutMs: number, remainingMs: number): number {
  return Math.max(0, Math.min(rebalanceTimeoutMs + groupWaitSlackMs, remainingMs - groupAnswerMarginMs));
}

/** The member's protocol metadata in the state: its subscription, rack and assignor data, for the leader. */
function encodeMemberMetadata(request: JoinGroupRequest, userData: Buffer): Uint8Array {
  return GroupMember.encode({ memberId: '', groupInstanceId: '', rack: request.rack, subscription: request.subscription, userData }).finish();
}

function completedNow(state: MetadataState, groupId: string, output: JoinGroupOutput): JoinOutcome {
  const group = describeGroup(state, groupId);
  if (group === null) throw unknownMember(groupId, output.memberId);
  // The generation's own leader and protocol, even if a later join in the same batch moved the group on.
  return { kind: 'completed', group: { ...group, generation: output.generation, leaderMemberId: output.leaderMemberId, protocolName: output.protocolName } };
}

function waitForGeneration(call: GroupCall<JoinGroupRequest>, context: GroupServiceContext, output: JoinGroupOutput, waitUntilMs: number): Promise<JoinOutcome> {
  const { groupId } = call.request;
  const { memberId, generation } = output;
  const timeoutMs = Math.max(0, waitUntilMs - context.clock.nowMs());
  const timeoutError = () => new TributaryError('REBALANCE_IN_PROGRESS', `group "${groupId}" did not complete its rebalance within ${timeoutMs} ms; member "${memberId}" must join again`);
  return context.waiters.wait({ groupId, timeoutMs, signals: call.signals, timeoutError }, (state): JoinOutcome | undefined => {
    const group = describeGroup(state, groupId);
    if (group === null || !group.members.some((member) => member.memberId === memberId)) throw unknownMember(groupId, memberId);
    if (group.generation <= generation) return undefined;
    // The generation this member joined completed, and a new rebalance began before we saw it.
    if (group.state === 'preparingRebalance') return { kind: 'rejoin' };
    return { kind: 'completed', group };
  });
}

function unknownMember(groupId: string, memberId: string): TributaryError {
  return new TributaryError('UNKNOWN_MEMBER', `member "${memberId}" was removed from group "${groupId}" while it waited for the rebalance; join again with an empty member id`);
}

function joinResponse(state: MetadataState, group: GroupDescription, memberId: string): JoinGroupResponse {
  const isLeader = group.leaderMemberId === memberId;
  return {
    generationId: group.generation,
    memberId,
    leaderMemberId: group.leaderMemberId,
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    members: isLeader ? group.members.map((candidate) => decodeMemberMetadata(candidate)) : [],
    heartbeatIntervalMs: memberHeartbeatIntervalMs(state, group.groupId, memberId),
  };
}

function decodeMemberMetadata(member: GroupDescription['members'][number]): WireGroupMember {
  const decoded = GroupMember.decode(member.protocolMetadata);
  return { ...decoded, memberId: member.memberId, groupInstanceId: member.groupInstanceId };
}

/**
 * SyncGroup: the leader's call stores the assignment; a follower's waits (bounded by its
 * rebalance timeout and the call's deadline) until the leader's has, then gets its partitions.
 */
export async function syncGroup(call: GroupCall<SyncGroupRequest>, context: GroupServiceContext): Promise<SyncGroupResponse> {
  const { request } = call;
  requireLeader(context.controller, 'SyncGroup');
  checkStaticMember(context.controller.state, request.groupId, request.memberId, request.groupInstanceId);
  checkProtocol(context.controller.state, request);
  const output = await context.controller.submit({
    type: 'syncGroup',
    groupId: request.groupId,
    memberId: request.memberId,
    generation: request.generationId,
    assignments: request.assignments.map((assignment) => ({
      memberId: assignment.memberId,
      partitions: assignment.partitions.map((entry) => ({ topic: entry.topic, partitions: [...entry.partitions] })),
      userData: assignment.userData,
    })),
    nowMs: context.clock.nowMs(),
  });
  const assignment = output.completed ? output.assignment : await waitForAssignment(call, context);
  return syncResponse(request.generationId, output.protocolName, assignment);
}

function checkProtocol(state: MetadataState, request: SyncGroupRequest): void {
  const group = describeGroup(state, request.groupId);
  if (group === null) return;
  if (request.protocolType !== '' && request.protocolType !== group.protocolType) {
    throw new TributaryError('INVALID_REQUEST', `group "${request.groupId}" has protocol type "${group.protocolType}"; SyncGroup sent "${request.protocolType}"`);
  }
  if (request.protocolName !== '' && group.generation === request.generationId && request.protocolName !== group.protocolName) {
    throw new TributaryError('INVALID_REQUEST', `group "${request.groupId}" generation ${group.generation} uses protocol "${group.protocolName}"; SyncGroup sent "${request.protocolName}"`);
  }
}

function waitForAssignment(call: GroupCall<SyncGroupRequest>, context: GroupServiceContext): Promise<MemberAssignment> {
  const { groupId, memberId, generationId } = call.request;
  const member = context.controller.state.groups.get(groupId)?.members.get(memberId);
  const timeoutMs = longPollMs(member?.rebalanceTimeoutMs ?? groupRebalanceTimeoutMsDefault, call.remainingMs);
  const timeoutError = () => new TributaryError('REBALANCE_IN_PROGRESS', `the leader of group "${groupId}" did not assign generation ${generationId} within ${timeoutMs} ms; join again`);
  return context.waiters.wait({ groupId, timeoutMs, signals: call.signals, timeoutError }, (state) => {
    const group = describeGroup(state, groupId);
    const found = group?.members.find((candidate) => candidate.memberId === memberId);
    if (group === null || found === undefined) throw new TributaryError('UNKNOWN_MEMBER', `member "${memberId}" was removed from group "${groupId}" while it waited for its assignment; join again`);
    if (group.generation !== generationId || group.state === 'preparingRebalance') {
      throw new TributaryError('REBALANCE_IN_PROGRESS', `group "${groupId}" began another rebalance (generation ${group.generation}) before member "${memberId}" got its assignment; join again`);
    }
    return group.state === 'stable' ? found.assignment : undefined;
  });
}

function syncResponse(generationId: number, protocolName: string, assignment: MemberAssignment): SyncGroupResponse {
  return {
    generationId,
    protocolName,
    partitions: assignment.partitions.map((entry) => ({ topic: entry.topic, partitions: [...entry.partitions] })),
    userData: Buffer.from(assignment.userData),
  };
}
