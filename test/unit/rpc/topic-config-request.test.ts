import { describe, expect, it } from 'vitest';
import { createMetadataState, type MetadataState } from '../../../src/controller/index.js';
import { Codec } from '../../../src/rpc/generated/tributary/common/v1/common.js';
import { AlterTopicConfigRequest, CreateTopicRequest } from '../../../src/rpc/generated/tributary/controller/v1/admin_service.js';
import { createTopicCommandOf, defaultMinInSyncReplicas, defaultReplicationFactor, updateTopicConfigCommandOf } from '../../../src/rpc/services/topic-config-request.js';

function stateWithBrokers(live: number, fenced = 0): MetadataState {
  const state = createMetadataState();
  for (let brokerId = 1; brokerId <= live + fenced; brokerId++) {
    state.brokers.set(brokerId, {
      brokerId, address: `h:${brokerId}`, rack: '', incarnationId: `i${brokerId}`, brokerEpoch: brokerId, fenced: brokerId > live, shuttingDown: false, heartbeatDeadlineMs: 0,
    });
  }
  return state;
}

describe('CreateTopic defaults', () => {
  it('replicate three times, or on every live broker when fewer, counting no fenced broker', () => {
    expect([0, 1, 2, 3, 7].map((live) => defaultReplicationFactor(stateWithBrokers(live, 2)))).toEqual([1, 1, 2, 3, 3]);
    expect([1, 2, 3, 5].map(defaultMinInSyncReplicas)).toEqual([1, 1, 2, 2]);
  });

  it('fill every unset field and keep the set ones', () => {
    const command = createTopicCommandOf(CreateTopicRequest.fromPartial({ name: 't', config: { retentionBytes: 5, compression: Codec.LZ4, labels: { a: 'b' } } }), stateWithBrokers(2));
    expect(command).toEqual({
      type: 'createTopic', name: 't', replicaAssignment: [], idempotencyKey: '',
      config: { partitions: 1, replicationFactor: 2, minInSyncReplicas: 1, retentionMs: 0, retentionBytes: 5, compression: 'lz4', maxMessageBytes: 1_048_576, uncleanLeaderElection: false, labels: { a: 'b' } },
    });
  });

  it('take partitions and replication factor from an explicit assignment, in partition order', () => {
    const request = CreateTopicRequest.fromPartial({ name: 't', replicaAssignment: [{ partition: 1, replicas: [2, 3] }, { partition: 0, replicas: [3, 1] }] });
    const command = createTopicCommandOf(request, stateWithBrokers(3));
    expect(command.replicaAssignment).toEqual([[3, 1], [2, 3]]);
    expect(command.config).toMatchObject({ partitions: 2, replicationFactor: 2, minInSyncReplicas: 1 });
  });

  it('refuse an assignment that skips or repeats a partition, and an unknown codec, naming the value', () => {
    const skipping = CreateTopicRequest.fromPartial({ name: 't', replicaAssignment: [{ partition: 0, replicas: [1] }, { partition: 2, replicas: [1] }] });
    expect(() => createTopicCommandOf(skipping, stateWithBrokers(1))).toThrow('topic "t": replica_assignment names partition 2; it must list partitions 0-1 once each');
    const repeating = CreateTopicRequest.fromPartial({ name: 't', replicaAssignment: [{ partition: 0, replicas: [1] }, { partition: 0, replicas: [1] }] });
    expect(() => createTopicCommandOf(repeating, stateWithBrokers(1))).toThrow('replica_assignment names partition 0');
    expect(() => createTopicCommandOf(CreateTopicRequest.fromPartial({ name: 't', config: { compression: 9 as Codec } }), stateWithBrokers(1))).toThrow('config.compression 9 is not a known codec');
  });
});

describe('AlterTopicConfig', () => {
  it('changes only the fields the request sets, and patches labels', () => {
    const command = updateTopicConfigCommandOf(AlterTopicConfigRequest.fromPartial({ name: 't', retentionMs: 0, uncleanLeaderElection: false, setLabels: { k: 'v' }, removeLabels: ['x'] }));
    expect(command).toEqual({ type: 'updateTopicConfig', name: 't', topicId: '', changes: { retentionMs: 0, uncleanLeaderElection: false }, labels: { set: { k: 'v' }, remove: ['x'] } });
    expect(() => updateTopicConfigCommandOf(AlterTopicConfigRequest.fromPartial({ name: 't', compression: Codec.UNSPECIFIED }))).toThrow('compression CODEC_UNSPECIFIED is not a codec');
  });
});
