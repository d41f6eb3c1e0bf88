import type { CommandError, MetadataState } from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import type {
  CommitOffsetsRequest,
  CommitOffsetsResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
} from '../generated/tributary/controller/v1/group_coordinator_service.js';
import type { ErrorDetail } from '../generated/tributary/common/v1/common.js';
import { commandErrorToProto } from './cluster-metadata-mapping.js';
import type { GroupCall, GroupServiceContext } from './group-call.js';
import { requireLeader } from './require-leader.js';

/** A member is told to heartbeat this many times per session timeout (Kafka: 3 s for 10 s). */
export const groupHeartbeatsPerSession = 3;
/** The interval advised to a member the coordinator does not know (it is about to be told to rejoin). */
const unknownMemberHeartbeatIntervalMs = 3_000;

export function memberHeartbeatIntervalMs(state: MetadataState, groupId: string, memberId: string): number {
  const member = state.groups.get(groupId)?.members.get(memberId);
  return member === undefined ? unknownMemberHeartbeatIntervalMs : Math.max(1, Math.floor(member.sessionTimeoutMs / groupHeartbeatsPerSession));
}

/**
 * A call naming a static instance id must come from the member that owns it: a newer member with
 * the same instance id replaced the caller, which is FENCED rather than told to rejoin.
 */
export function checkStaticMember(state: MetadataState, groupId: string, memberId: string, groupInstanceId: string): void {
  if (groupInstanceId === '') return;
  const group = state.groups.get(groupId);
  if (group === undefined) return;
  for (const member of group.members.values()) {
    if (member.groupInstanceId === groupInstanceId && member.memberId !== memberId) {
      throw new TributaryError('FENCED', `group "${groupId}": instance "${groupInstanceId}" belongs to member "${member.memberId}", not "${memberId}"`);
    }
  }
}

export async function groupHeartbeat(call: GroupCall<HeartbeatRequest>, context: GroupServiceContext): Promise<HeartbeatResponse> {
  const { groupId, memberId, generationId, groupInstanceId } = call.request;
  requireLeader(context.controller, 'Heartbeat');
  checkStaticMember(context.controller.state, groupId, memberId, groupInstanceId);
  const output = await context.controller.submit({ type: 'groupHeartbeat', groupId, memberId, generation: generationId, nowMs: context.clock.nowMs() });
  return { rebalanceInProgress: output.rebalanceInProgress, heartbeatIntervalMs: memberHeartbeatIntervalMs(context.controller.state, groupId, memberId) };
}

export async function leaveGroup(call: GroupCall<LeaveGroupRequest>, context: GroupServiceContext): Promise<LeaveGroupResponse> {
  const { groupId, members } = call.request;
  requireLeader(context.controller, 'LeaveGroup');
  const output = await context.controller.submit({
    type: 'leaveGroup',
    groupId,
    members: members.map((member) => ({ memberId: member.memberId, groupInstanceId: member.groupInstanceId })),
    nowMs: context.clock.nowMs(),
  });
  return { results: output.results.map((result) => ({ memberId: result.memberId, groupInstanceId: result.groupInstanceId, error: errorDetailOf(result.error) })) };
}

export async function commitOffsets(call: GroupCall<CommitOffsetsRequest>, context: GroupServiceContext): Promise<CommitOffsetsResponse> {
  const { groupId, memberId, generationId, groupInstanceId, offsets } = call.request;
  requireLeader(context.controller, 'CommitOffsets');
  checkStaticMember(context.controller.state, groupId, memberId, groupInstanceId);
  const output = await context.controller.submit({
    type: 'commitOffsets',
    groupId,
    memberId,
    generation: generationId,
    offsets: offsets.map((offset) => ({
      topic: offset.topicPartition?.topic ?? '',
      partition: offset.topicPartition?.partition ?? 0,
      offset: offset.offset,
      leaderEpoch: offset.leaderEpoch,
      metadata: offset.metadata,
    })),
    nowMs: context.clock.nowMs(),
  });
  return { results: output.results.map((result) => ({ topicPartition: { topic: result.topic, partition: result.partition }, error: errorDetailOf(result.error) })) };
}

/** A per-item failure of the state machine as the inline ErrorDetail; unset on success. */
export function errorDetailOf(error: CommandError | null): ErrorDetail | undefined {
  return error === null ? undefined : commandErrorToProto(error);
}
