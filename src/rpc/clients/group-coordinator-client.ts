import type { OffsetCommit, TopicPartition, TopicPartitions } from '../../controller/index.js';
import type { TributaryError } from '../../errors/index.js';
import {
  type CommitOffsetsResponse,
  type FetchOffsetsResponse,
  GroupCoordinatorServiceClient,
  type GroupMember as WireGroupMember,
  type HeartbeatResponse,
  type JoinGroupResponse,
  type LeaveGroupResponse,
  type Subscription as WireSubscription,
  type SyncGroupResponse,
} from '../generated/tributary/controller/v1/group_coordinator_service.js';
import { itemErrorFromProto } from './cluster-metadata-types.js';
import { ControllerChannels, type ControllerClientOptions } from './controller-channels.js';
import { newRequestHeader } from './request-header.js';

export type { OffsetCommit, TopicPartition, TopicPartitions };

/**
 * JoinGroup and SyncGroup are long polls: their deadline is the rebalance timeout plus this, so the
 * coordinator's own bound (the rebalance timeout and its expiry tick) answers first.
 */
export const groupLongPollSlackMs = 5_000;
/** The coordinator's rebalance timeout when a join leaves it 0 (groupRebalanceTimeoutMsDefault). */
const rebalanceTimeoutMsDefault = 300_000;

/** What a member consumes and, for cooperative assignors, owns now. */
export interface Subscription {
  topics: string[];
  ownedPartitions?: TopicPartitions[];
  ownedGeneration?: number;
}

export interface JoinGroupRequest {
  groupId: string;
  /** '' on the first join: the coordinator assigns one. */
  memberId?: string;
  groupInstanceId?: string;
  /** 0 or absent takes the coordinator's default (45 s). */
  sessionTimeoutMs?: number;
  /** 0 or absent takes the coordinator's default (300 s). */
  rebalanceTimeoutMs?: number;
  protocolType: string;
  /** Assignors in order of preference, each with its opaque data. */
  protocols: Array<{ name: string; userData?: Uint8Array }>;
  subscription: Subscription;
  rack?: string;
  reason?: string;
}

export interface GroupMemberSubscription {
  memberId: string;
  groupInstanceId: string;
  rack: string;
  subscription: Subscription;
  /** The member's data for the chosen assignor. */
  userData: Uint8Array;
}

export interface JoinGroupResult {
  generation: number;
  memberId: string;
  leaderMemberId: string;
  protocolType: string;
  protocolName: string;
  /** Every member with its subscription, for the leader to assign; empty for the others. */
  members: GroupMemberSubscription[];
  heartbeatIntervalMs: number;
}

export interface SyncGroupRequest {
  groupId: string;
  generation: number;
  memberId: string;
  groupInstanceId?: string;
  protocolType?: string;
  protocolName?: string;
  /** From the leader: one per member; empty from the others. */
  assignments?: Array<{ memberId: string; partitions: TopicPartitions[]; userData?: Uint8Array }>;
  /** The member's rebalance timeout: how long a follower may wait for the leader's assignment. */
  rebalanceTimeoutMs?: number;
}

export interface SyncGroupResult {
  generation: number;
  protocolName: string;
  partitions: TopicPartitions[];
  userData: Uint8Array;
}

export interface GroupMemberIdentity {
  groupId: string;
  generation: number;
  memberId: string;
  groupInstanceId?: string;
}

export interface LeaveOutcome {
  memberId: string;
  groupInstanceId: string;
  error: TributaryError | undefined;
}

export interface PartitionOutcome {
  topic: string;
  partition: number;
  error: TributaryError | undefined;
}

export interface CommittedOffsetInfo {
  topic: string;
  partition: number;
  /** undefined when the group committed nothing for the partition. */
  offset: number | undefined;
  leaderEpoch: number;
  metadata: string;
  commitTimeMs: number;
  error: TributaryError | undefined;
}

/**
 * `tributary.controller.v1.GroupCoordinatorService` for consumers. Calls go to the controller
 * leader through the LeaderRouter. Membership calls are not retried after a timeout (a join
 * retried with an empty member id would add a second member); heartbeats and FetchOffsets are.
 */
export class GroupCoordinatorClient {
  private readonly channels: ControllerChannels<GroupCoordinatorServiceClient>;

  constructor(private readonly options: ControllerClientOptions) {
    this.channels = new ControllerChannels((address, credentials, channelOptions) => new GroupCoordinatorServiceClient(address, credentials, channelOptions), options);
  }

  async joinGroup(join: JoinGroupRequest): Promise<JoinGroupResult> {
    const request = {
      header: this.header(),
      groupId: join.groupId,
      memberId: join.memberId ?? '',
      groupInstanceId: join.groupInstanceId ?? '',
      sessionTimeoutMs: join.sessionTimeoutMs ?? 0,
      rebalanceTimeoutMs: join.rebalanceTimeoutMs ?? 0,
      protocolType: join.protocolType,
      protocols: join.protocols.map((protocol) => ({ name: protocol.name, userData: Buffer.from(protocol.userData ?? new Uint8Array(0)) })),
      subscription: subscriptionToProto(join.subscription),
      rack: join.rack ?? '',
      reason: join.reason ?? '',
    };
    const deadlineMs = this.longPollDeadlineMs(join.rebalanceTimeoutMs);
    const response = await this.channels.routed<JoinGroupResponse>(
      (stub, metadata, options, callback) => stub.joinGroup(request, metadata, { deadline: new Date(Date.now() + deadlineMs) }, callback),
      { idempotent: false },
    );
    const { generationId, memberId, leaderMemberId, protocolType, protocolName, heartbeatIntervalMs } = response;
    return { generation: generationId, memberId, leaderMemberId, protocolType, protocolName, members: response.members.map(memberFromProto), heartbeatIntervalMs };
  }

  async syncGroup(sync: SyncGroupRequest): Promise<SyncGroupResult> {
    const request = {
      header: this.header(),
      groupId: sync.groupId,
      generationId: sync.generation,
      memberId: sync.memberId,
      groupInstanceId: sync.groupInstanceId ?? '',
      protocolType: sync.protocolType ?? '',
      protocolName: sync.protocolName ?? '',
      assignments: (sync.assignments ?? []).map((assignment) => ({
        memberId: assignment.memberId,
        partitions: assignment.partitions.map(copyTopicPartitions),
        userData: Buffer.from(assignment.userData ?? new Uint8Array(0)),
      })),
    };
    const deadlineMs = this.longPollDeadlineMs(sync.rebalanceTimeoutMs);
    const response = await this.channels.routed<SyncGroupResponse>(
      (stub, metadata, options, callback) => stub.syncGroup(request, metadata, { deadline: new Date(Date.now() + deadlineMs) }, callback),
      { idempotent: false },
    );
    return { generation: response.generationId, protocolName: response.protocolName, partitions: response.partitions.map(copyTopicPartitions), userData: new Uint8Array(response.userData) };
  }

  /** Keeps the member's session alive; `rebalanceInProgress` means: join again. */
  async heartbeat(member: GroupMemberIdentity): Promise<{ rebalanceInProgress: boolean; heartbeatIntervalMs: number }> {
    const request = { header: this.header(), groupId: member.groupId, generationId: member.generation, memberId: member.memberId, groupInstanceId: member.groupInstanceId ?? '' };
    const response = await this.channels.routed<HeartbeatResponse>((stub, metadata, options, callback) => stub.heartbeat(request, metadata, options, callback), { idempotent: true });
    return { rebalanceInProgress: response.rebalanceInProgress, heartbeatIntervalMs: response.heartbeatIntervalMs };
  }

  async leaveGroup(groupId: string, members: ReadonlyArray<{ memberId: string; groupInstanceId?: string; reason?: string }>): Promise<LeaveOutcome[]> {
    const request = {
      header: this.header(),
      groupId,
      members: members.map((member) => ({ memberId: member.memberId, groupInstanceId: member.groupInstanceId ?? '', reason: member.reason ?? '' })),
    };
    const response = await this.channels.routed<LeaveGroupResponse>((stub, metadata, options, callback) => stub.leaveGroup(request, metadata, options, callback), { idempotent: false });
    return response.results.map((result) => ({ memberId: result.memberId, groupInstanceId: result.groupInstanceId, error: itemErrorFromProto(result.error) }));
  }

  /** Commits positions as `member` (generation 0 and member id '' for a standalone consumer). */
  async commitOffsets(member: GroupMemberIdentity, offsets: readonly OffsetCommit[]): Promise<PartitionOutcome[]> {
    const request = {
      header: this.header(),
      groupId: member.groupId,
      generationId: member.generation,
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId ?? '',
      offsets: offsets.map((offset) => ({ topicPartition: { topic: offset.topic, partition: offset.partition }, offset: offset.offset, leaderEpoch: offset.leaderEpoch, metadata: offset.metadata })),
    };
    const response = await this.channels.routed<CommitOffsetsResponse>((stub, metadata, options, callback) => stub.commitOffsets(request, metadata, options, callback), { idempotent: false });
    return response.results.map((result) => ({ topic: result.topicPartition?.topic ?? '', partition: result.topicPartition?.partition ?? 0, error: itemErrorFromProto(result.error) }));
  }

  /** Committed offsets of the named partitions, or one page of all of them when `partitions` is empty. */
  async fetchOffsets(groupId: string, partitions: readonly TopicPartition[] = [], page: { pageSize?: number; pageToken?: string } = {}): Promise<{ offsets: CommittedOffsetInfo[]; nextPageToken: string }> {
    const request = { header: this.header(), groupId, partitions: [...partitions], pageSize: page.pageSize ?? 0, pageToken: page.pageToken ?? '' };
    const response = await this.channels.routed<FetchOffsetsResponse>((stub, metadata, options, callback) => stub.fetchOffsets(request, metadata, options, callback), { idempotent: true });
    const offsets = response.offsets.map((entry) => ({
      topic: entry.topicPartition?.topic ?? '',
      partition: entry.topicPartition?.partition ?? 0,
      offset: entry.offset,
      leaderEpoch: entry.leaderEpoch,
      metadata: entry.metadata,
      commitTimeMs: entry.commitTimeMs,
      error: itemErrorFromProto(entry.error),
    }));
    return { offsets, nextPageToken: response.nextPageToken };
  }

  close(): void {
    this.channels.close();
  }

  private header() {
    return newRequestHeader(this.options.clientId);
  }

  private longPollDeadlineMs(rebalanceTimeoutMs: number | undefined): number {
    return Math.max(this.options.deadlineMs, (rebalanceTimeoutMs || rebalanceTimeoutMsDefault) + groupLongPollSlackMs);
  }
}

function copyTopicPartitions(entry: TopicPartitions): TopicPartitions {
  return { topic: entry.topic, partitions: [...entry.partitions] };
}

function subscriptionToProto(subscription: Subscription): WireSubscription {
  return { topics: [...subscription.topics], ownedPartitions: (subscription.ownedPartitions ?? []).map(copyTopicPartitions), ownedGenerationId: subscription.ownedGeneration ?? 0 };
}

function memberFromProto(member: WireGroupMember): GroupMemberSubscription {
  const subscription = member.subscription;
  return {
    memberId: member.memberId,
    groupInstanceId: member.groupInstanceId,
    rack: member.rack,
    subscription: {
      topics: [...(subscription?.topics ?? [])],
      ownedPartitions: (subscription?.ownedPartitions ?? []).map(copyTopicPartitions),
      ownedGeneration: subscription?.ownedGenerationId ?? 0,
    },
    userData: new Uint8Array(member.userData),
  };
}
