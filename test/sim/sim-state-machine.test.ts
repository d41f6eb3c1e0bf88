import { describe, expect, it } from 'vitest';
import type { MetadataCommand } from '../../src/controller/index.js';
import { encodeKvProposal, KvStateMachine } from './kv-state-machine.js';
import { decodeMetadataEntry, encodeMetadataEntry, isMetadataEntry } from './metadata-entry.js';
import type { Observation } from './observation.js';
import { SimStateMachine } from './sim-state-machine.js';

const register = (brokerId: number): MetadataCommand => ({
  type: 'registerBroker', brokerId, address: `10.0.0.${brokerId}:9092`, rack: '', incarnationId: `broker-${brokerId}`, nowMs: 0, sessionTimeoutMs: 1_000,
});
const heartbeat = (brokerId: number, brokerEpoch: number): MetadataCommand => ({
  type: 'brokerHeartbeat', brokerId, brokerEpoch, metadataVersion: 10, wantsFence: false, wantsShutdown: false, nowMs: 10, sessionTimeoutMs: 1_000,
});
const createTopic: MetadataCommand = {
  type: 'createTopic', name: 'orders', replicaAssignment: [], idempotencyKey: '',
  config: { partitions: 1, replicationFactor: 2, minInSyncReplicas: 1, retentionMs: 0, retentionBytes: 0, compression: 'none', maxMessageBytes: 1_024, uncleanLeaderElection: false, labels: {} },
};

/** A metadata machine that applied two brokers' registrations and heartbeats and a topic, at indices 1-5. */
function machineWithTopic(observations: Observation[]): SimStateMachine {
  const machine = new SimStateMachine(1, { enabled: true, bug: undefined }, (observation) => observations.push(observation), () => 0);
  const commands = [register(1), register(2), heartbeat(1, 1), heartbeat(2, 2), createTopic];
  commands.forEach((command, offset) => {
    const outcome = machine.apply({ index: offset + 1, term: 1, type: 'normal', data: encodeMetadataEntry(offset, command) });
    expect(outcome).toMatchObject({ kind: 'metadata', proposalId: offset, result: { ok: true } });
    machine.applied(offset + 1);
  });
  return machine;
}

describe('the simulator state machine', () => {
  it('tells metadata entries from key-value proposals by their tag byte', () => {
    const entry = encodeMetadataEntry(77, register(3));
    expect(isMetadataEntry(entry)).toBe(true);
    expect(decodeMetadataEntry(entry).proposalId).toBe(77);
    expect(isMetadataEntry(encodeKvProposal({ clientId: 1, operationId: 2, input: { kind: 'put', key: 'k', value: 'v' } }))).toBe(false);
  });

  it('runs the metadata state machine beside the key-value store and restores both from its snapshot', () => {
    const observations: Observation[] = [];
    const machine = machineWithTopic(observations);
    const kvEntry = { index: 6, term: 1, type: 'normal' as const, data: encodeKvProposal({ clientId: 1, operationId: 1, input: { kind: 'put', key: 'k', value: 'v' } }) };
    expect(machine.apply(kvEntry).kind).toBe('kv');
    const restored = new SimStateMachine(2, { enabled: true, bug: undefined }, (observation) => observations.push(observation), () => 0);
    restored.restore(6, machine.serialize(6));
    expect(restored.read('k')).toBe('v');
    expect(restored.metadataView?.topics.get('orders')?.partitions[0]?.isr).toEqual([1, 2]);
    const digests = observations.flatMap((observation) => (observation.kind === 'metadataDigest' && observation.index === 6 ? [observation] : []));
    expect(digests.map((digest) => digest.nodeId)).toEqual([1, 2]);
    expect(digests[0]?.digest).toBe(digests[1]?.digest);
    expect(observations.every((observation) => observation.kind !== 'metadataApplied' || observation.violations.length === 0)).toBe(true);
  });

  it('judges a stale alterPartition before applying it', () => {
    const observations: Observation[] = [];
    const machine = machineWithTopic(observations);
    const topicId = machine.metadataView?.topics.get('orders')?.topicId ?? '';
    const stale: MetadataCommand = {
      type: 'alterPartition', brokerId: 1, brokerEpoch: 1, topic: 'orders', topicId, partition: 0, leaderEpoch: 1, partitionEpoch: 0, newIsr: [{ brokerId: 1, brokerEpoch: 1 }],
    };
    expect(machine.apply({ index: 6, term: 1, type: 'normal', data: encodeMetadataEntry(9, stale) })).toMatchObject({ result: { ok: false, code: 'STALE_EPOCH' } });
    expect(observations.find((observation) => observation.kind === 'alterPartitionApplied')).toMatchObject({
      staleness: 'partition epoch 0 (current 1)', proposerLeads: true, accepted: false, code: 'STALE_EPOCH',
    });
  });

  it('snapshots a key-value-only run exactly as the key-value store does', () => {
    const machine = new SimStateMachine(1, { enabled: false, bug: undefined }, () => undefined, () => 0);
    const proposal = encodeKvProposal({ clientId: 1, operationId: 1, input: { kind: 'append', key: 'x', value: 'a' } });
    machine.apply({ index: 1, term: 1, type: 'normal', data: proposal });
    const store = new KvStateMachine();
    store.apply({ kind: 'append', key: 'x', value: 'a' });
    expect(machine.serialize(1)).toEqual(store.serialize());
    expect(machine.metadataView).toBeUndefined();
    expect(() => machine.apply({ index: 2, term: 1, type: 'normal', data: encodeMetadataEntry(1, register(1)) })).toThrow(/without the metadata workload/);
  });
});
