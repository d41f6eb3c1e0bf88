import fc from 'fast-check';
import { uploadSessionStates, type MetadataCommand, type MetadataState } from '../../../src/controller/index.js';
import { sortedValues } from '../../../src/controller/metadata-state.js';

/** One abstract step: a command kind, two numbers that pick its arguments, and how far the clock moves. */
export type Action = [kind: number, first: number, second: number, elapsedMs: number];

export const actionsArbitrary = fc.array(
  fc.tuple(fc.nat(24), fc.nat(1_000), fc.nat(1_000), fc.nat(1_500)),
  { minLength: 1, maxLength: 120, size: 'large' },
);

const topicNames = ['a', 'b', 'c'];
const groupIds = ['g1', 'g2'];

function pick<T>(items: readonly T[], seed: number): T | undefined {
  return items.length === 0 ? undefined : items[seed % items.length];
}

/**
 * Builds a concrete command from an action and the current state, so that most commands are
 * plausible (current epochs, existing members) and a fair share are stale or wrong on purpose.
 */
export function commandFor(state: MetadataState, [kind, first, second]: Action, nowMs: number): MetadataCommand {
  const brokerId = 1 + (first % 5);
  const broker = state.brokers.get(brokerId);
  const topic = pick(sortedValues(state.topics), first) ?? { name: pick(topicNames, first) ?? 'a', topicId: '', partitions: [] };
  const group = pick(sortedValues(state.groups), first);
  const members = group === undefined ? [] : sortedValues(group.members);
  const member = pick(members, second);
  const generation = Math.max(0, (group?.generation ?? 0) - (second % 9 === 0 ? 1 : 0));
  switch (kind) {
    case 0:
      return { type: 'registerBroker', brokerId, address: `h${brokerId}:1`, rack: pick(['r1', 'r2', ''], second) ?? '', incarnationId: `inc-${second % 2}`, nowMs, sessionTimeoutMs: 5_000 };
    case 1:
    case 17:
    case 18: {
      // Mostly registered brokers, so that they get unfenced and topics can be placed.
      const target = pick(sortedValues(state.brokers), second) ?? broker;
      return {
        type: 'brokerHeartbeat', brokerId: target?.brokerId ?? brokerId, brokerEpoch: Math.max(0, (target?.brokerEpoch ?? 1) - (second % 13 === 0 ? 1 : 0)),
        metadataVersion: state.version,
        wantsFence: second % 17 === 0, wantsShutdown: second % 29 === 0, nowMs, sessionTimeoutMs: 5_000,
      };
    }
    case 2:
      return { type: 'fenceExpiredBrokers', nowMs };
    case 3:
    case 19:
      return {
        type: 'createTopic', name: pick(topicNames, first) ?? 'a', replicaAssignment: [], idempotencyKey: second % 2 === 0 ? 'k' : '',
        config: {
          partitions: 1 + (second % 4), replicationFactor: 1 + (first % 3 === 0 ? 2 : first % 2), minInSyncReplicas: 1, retentionMs: 0, retentionBytes: 0,
          compression: 'lz4', maxMessageBytes: 1024, uncleanLeaderElection: second % 3 === 0, labels: second % 2 === 0 ? { team: `t${first % 3}` } : {},
        },
      };
    case 4:
      return { type: 'deleteTopic', name: topic.name, topicId: second % 2 === 0 ? topic.topicId : '' };
    case 5:
      return {
        type: 'updateTopicConfig', name: topic.name, topicId: '', changes: { retentionMs: second, uncleanLeaderElection: second % 2 === 0 },
        labels: { set: first % 2 === 0 ? { [`k${second % 4}`]: `v${first}` } : {}, remove: [`k${first % 4}`] },
      };
    case 6:
      return alterPartitionFor(state, topic.name, first, second);
    case 7:
      return second % 2 === 0
        ? { type: 'electLeaders', election: 'preferred', partitions: [] }
        : { type: 'electLeaders', election: 'unclean', partitions: [{ topic: topic.name, partition: second % 3 }] };
    case 8:
      return {
        type: 'joinGroup', groupId: pick(groupIds, second) ?? 'g1', memberId: second % 3 === 0 ? '' : (member?.memberId ?? ''), groupInstanceId: second % 5 === 0 ? 'static' : '',
        clientId: `c${second % 3}`, sessionTimeoutMs: 5_000, rebalanceTimeoutMs: 8_000, protocolType: 'consumer', nowMs,
        protocols: second % 4 === 0 ? [{ name: 'rr', metadata: new Uint8Array([second % 256]) }] : [{ name: 'range', metadata: new Uint8Array([1]) }, { name: 'rr', metadata: new Uint8Array(0) }],
      };
    case 9: {
      const assignments = members.map((target, position) => ({
        memberId: target.memberId, partitions: [{ topic: topic.name, partitions: [position] }], userData: new Uint8Array(0),
      }));
      const isLeader = member !== undefined && member.memberId === group?.leaderMemberId;
      return { type: 'syncGroup', groupId: group?.groupId ?? 'g1', memberId: member?.memberId ?? 'nobody', generation, assignments: isLeader ? assignments : [], nowMs };
    }
    case 10:
      return { type: 'groupHeartbeat', groupId: group?.groupId ?? 'g1', memberId: member?.memberId ?? 'nobody', generation, nowMs };
    case 11:
      return { type: 'leaveGroup', groupId: group?.groupId ?? 'g1', members: [{ memberId: member?.memberId ?? 'nobody', groupInstanceId: '' }], nowMs };
    case 12: {
      const standalone = member === undefined;
      return {
        type: 'commitOffsets', groupId: group?.groupId ?? (pick(groupIds, second) ?? 'g1'), memberId: member?.memberId ?? '', generation: standalone ? 0 : generation, nowMs,
        offsets: [{ topic: topic.name, partition: second % 3, offset: first, leaderEpoch: 1, metadata: `m${second}` }],
      };
    }
    case 13:
      return { type: 'expireGroupMembers', nowMs };
    case 14:
    case 20: {
      const state = pick(uploadSessionStates, second) ?? 'open';
      const final = state === 'complete' || second % 3 === 0;
      return {
        type: 'upsertUploadSession', brokerId, brokerEpoch: broker?.brokerEpoch ?? 1, deviceId: `d${first % 2}`, sessionId: 's', state, topic: topic.name,
        partition: 0, committedLength: second * 10, digest: state === 'complete' ? 'ab'.repeat(32) : '', createdAtMs: 0, expiresAtMs: 0,
        failure: state === 'failed' ? 'digest mismatch' : '', nowMs,
        sources: [{ name: 'mic', contentType: 'audio/wav', payloadKind: 'binary' as const, committedBytes: second * 10, final }].slice(0, second % 2),
      };
    }
    case 15:
      return { type: 'registerController', nodeId: 1 + (first % 3), address: `c${second % 2}:1`, role: second % 2 === 0 ? 'voter' : 'learner' };
    case 16:
      return { type: 'allocateProducerIds', brokerId, brokerEpoch: Math.max(0, (broker?.brokerEpoch ?? 1) - (second % 5 === 0 ? 1 : 0)) };
    case 21:
      return { type: 'connectDevice', brokerId, brokerEpoch: broker?.brokerEpoch ?? 1, deviceId: `dev-${second % 3}`, nowMs };
    case 22: {
      const device = state.devices.get(`dev-${second % 3}`);
      return { type: 'disconnectDevice', brokerId: device?.brokerId || brokerId, deviceId: `dev-${second % 3}`, connectionEpoch: device?.connectionEpoch ?? first, nowMs };
    }
    case 23: {
      const action = second % 2 === 0 ? { kind: 'pause' as const, sources: [], durationMs: first } : { kind: 'setConfig' as const, values: { 'upload.rate': `${first}` }, unsetKeys: [] };
      return { type: 'queueDeviceCommand', deviceId: `dev-${second % 3}`, command: { commandId: `c${first % 7}`, issuedAtMs: nowMs, expiresAtMs: nowMs + 1 + (first % 3) * 1_000, issuedBy: 'op', action }, nowMs };
    }
    case 24:
      return {
        type: 'ackDeviceCommand', deviceId: `dev-${second % 3}`, commandId: `c${first % 7}`, outcome: second % 2 === 0 ? 'applied' : 'rejected', message: '',
        completedAtMs: nowMs, nowMs,
      };
    default:
      return { type: 'unregisterController', nodeId: 1 + (first % 3) };
  }
}

function alterPartitionFor(state: MetadataState, topicName: string, first: number, second: number): MetadataCommand {
  const topic = state.topics.get(topicName);
  const partition = topic?.partitions[second % Math.max(1, topic.partitions.length)];
  const epochOf = (id: number) => Math.max(0, (state.brokers.get(id)?.brokerEpoch ?? 0) - (first % 11 === 0 ? 1 : 0));
  const leader = partition?.leader ?? 1;
  const chosen = (partition?.replicas ?? []).filter((id, position) => id === leader || ((second >> position) & 1) === 1);
  return {
    type: 'alterPartition', brokerId: leader === 0 ? 1 : leader, brokerEpoch: epochOf(leader), topic: topicName, topicId: topic?.topicId ?? '',
    partition: partition?.partition ?? 0, leaderEpoch: partition?.leaderEpoch ?? 0, partitionEpoch: Math.max(0, (partition?.partitionEpoch ?? 0) - (first % 7 === 0 ? 1 : 0)),
    newIsr: chosen.map((brokerId) => ({ brokerId, brokerEpoch: epochOf(brokerId) })),
  };
}
