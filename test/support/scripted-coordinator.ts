import { TributaryError } from '../../src/client/index.js';
import type { GroupCoordinatorLink } from '../../src/client/group-membership.js';
import type { JoinGroupRequest, JoinGroupResult, PartitionOutcome, SyncGroupRequest, SyncGroupResult } from '../../src/rpc/clients/index.js';

type Answer<T> = T | TributaryError;

/**
 * A coordinator that answers each call from its script, in order, and records every call; an
 * unscripted join or sync is a test bug and throws. Heartbeats and commits answer success unless
 * scripted.
 */
export class ScriptedCoordinator {
  readonly calls: string[] = [];
  readonly joins: JoinGroupRequest[] = [];
  readonly syncs: SyncGroupRequest[] = [];
  readonly joinAnswers: Array<Answer<JoinGroupResult>> = [];
  readonly syncAnswers: Array<Answer<SyncGroupResult>> = [];
  readonly heartbeatAnswers: Array<Answer<boolean>> = [];
  readonly commitAnswers: TributaryError[] = [];
  /** Resolves the join in flight, when the test holds it back. */
  heldJoin: ((answer: Answer<JoinGroupResult>) => void) | undefined;
  holdJoins = false;
  heldHeartbeat: ((answer: Answer<boolean>) => void) | undefined;
  holdHeartbeats = false;
  /** What fetchOffsets answers, by "topic-partition". */
  readonly committed = new Map<string, number>();

  link(): GroupCoordinatorLink {
    return {
      joinGroup: (request) => {
        this.calls.push(`join ${request.memberId ?? ''}`);
        this.joins.push(request);
        if (this.holdJoins) return new Promise((resolve, reject) => (this.heldJoin = (answer) => (answer instanceof TributaryError ? reject(answer) : resolve(answer))));
        return settle<JoinGroupResult>(this.joinAnswers.shift() ?? new Error('unscripted join'));
      },
      syncGroup: (request) => {
        this.calls.push(`sync ${request.memberId} g${request.generation}`);
        this.syncs.push(request);
        return settle<SyncGroupResult>(this.syncAnswers.shift() ?? new Error('unscripted sync'));
      },
      heartbeat: (member) => {
        this.calls.push(`heartbeat ${member.memberId} g${member.generation}`);
        if (this.holdHeartbeats) {
          return new Promise((resolve, reject) => (this.heldHeartbeat = (answer) => (answer instanceof TributaryError ? reject(answer) : resolve({ rebalanceInProgress: answer, heartbeatIntervalMs: 100 }))));
        }
        const answer = this.heartbeatAnswers.shift() ?? false;
        return settle<{ rebalanceInProgress: boolean; heartbeatIntervalMs: number }>(answer instanceof TributaryError ? answer : { rebalanceInProgress: answer, heartbeatIntervalMs: 100 });
      },
      commitOffsets: (member, offsets) => {
        this.calls.push(`commit ${member.memberId} g${member.generation} ${offsets.map((offset) => `${offset.topic}-${offset.partition}@${offset.offset}`).join(',')}`);
        const error = this.commitAnswers.shift();
        return settle<PartitionOutcome[]>(error ?? offsets.map((offset) => ({ topic: offset.topic, partition: offset.partition, error: undefined })));
      },
      leaveGroup: (groupId, members) => {
        this.calls.push(`leave ${members.map((member) => member.memberId).join(',')}`);
        return Promise.resolve(members.map((member) => ({ memberId: member.memberId, groupInstanceId: '', error: undefined })));
      },
      fetchOffsets: (groupId, partitions = []) => {
        this.calls.push(`fetchOffsets ${partitions.map((entry) => `${entry.topic}-${entry.partition}`).join(',')}`);
        const offsets = partitions.map(({ topic, partition }) => ({ topic, partition, offset: this.committed.get(`${topic}-${partition}`), leaderEpoch: 0, metadata: '', commitTimeMs: 0, error: undefined }));
        return Promise.resolve({ offsets, nextPageToken: '' });
      },
      close: () => undefined,
    };
  }
}

function settle<T>(answer: T | Error): Promise<T> {
  return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
}


/** A JoinGroup answer; the leader's lists every member (itself and `others`) subscribed to topic t. */
export function joined(generation: number, memberId: string, leaderMemberId: string, others: string[] = [], protocolName = 'range'): JoinGroupResult {
  const members = memberId === leaderMemberId ? [memberId, ...others].map((id) => ({ memberId: id, groupInstanceId: '', rack: '', subscription: { topics: ['t'] }, userData: new Uint8Array() })) : [];
  return { generation, memberId, leaderMemberId, protocolType: 'consumer', protocolName, members, heartbeatIntervalMs: 100 };
}

/** A SyncGroup answer with partitions of topic t. */
export function synced(generation: number, partitions: number[]): SyncGroupResult {
  return { generation, protocolName: 'range', partitions: [{ topic: 't', partitions }], userData: new Uint8Array() };
}
