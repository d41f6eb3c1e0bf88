import { describe, expect, it } from 'vitest';
import { checkMetadataInvariants, metadataWatermarks } from '../../../src/controller/index.js';
import { MetadataHarness } from './metadata-harness.js';

/** A sound state: brokers 1-3 live, topic "t" on [1, 2, 3] led by 1, a group at generation 1. */
function sound(): MetadataHarness {
  const harness = new MetadataHarness();
  harness.liveBrokers(3);
  harness.ok({ type: 'createTopic', name: 't', config: { ...harnessConfig }, replicaAssignment: [[1, 2, 3]], idempotencyKey: '' });
  harness.ok({
    type: 'joinGroup', groupId: 'g', memberId: '', groupInstanceId: '', clientId: 'c', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
    protocolType: 'consumer', protocols: [{ name: 'range', metadata: new Uint8Array(0) }], nowMs: 1,
  });
  return harness;
}

const harnessConfig = {
  partitions: 1, replicationFactor: 3, minInSyncReplicas: 2, retentionMs: 0, retentionBytes: 0, compression: 'none', maxMessageBytes: 1024, uncleanLeaderElection: false, labels: {},
} as const;

describe('checkMetadataInvariants', () => {
  it('finds nothing wrong in a state built by commands', () => {
    expect(checkMetadataInvariants(sound().state)).toEqual([]);
  });

  it('reports a leader outside its ISR, an ISR outside the replicas, an unregistered member, and a replica twice', () => {
    const harness = sound();
    const partition = harness.partition('t', 0);
    partition.isr = [2, 4];
    partition.replicas = [1, 2, 2];
    expect(checkMetadataInvariants(harness.state)).toEqual([
      't/0 has two replicas on one broker: [1, 2, 2]',
      't/0 ISR [2, 4] is not a set of replicas [1, 2, 2]',
      't/0 leader 1 is outside its ISR [2, 4]',
      't/0 has fenced or unregistered broker 4 in the ISR of a led partition',
    ]);
  });

  it('reports a fenced leader, and an offline partition whose ISR still has a live broker', () => {
    const harness = sound();
    const broker = harness.state.brokers.get(1);
    if (broker !== undefined) broker.fenced = true;
    expect(checkMetadataInvariants(harness.state)).toEqual(['t/0 has fenced or unregistered broker 1 in the ISR of a led partition']);
    harness.partition('t', 0).leader = 0;
    expect(checkMetadataInvariants(harness.state)).toEqual(['t/0 has no leader but its ISR [1, 2, 3] is not one fenced broker']);
  });

  it('reports group states that cannot happen', () => {
    const harness = sound();
    const group = harness.state.groups.get('g');
    if (group === undefined) throw new Error('group missing');
    group.leaderMemberId = 'ghost';
    group.protocolName = 'sticky';
    const [memberId] = group.members.keys();
    expect(checkMetadataInvariants(harness.state)).toEqual([
      'group "g" is completingRebalance but its leader "ghost" is not a member',
      `group "g" member "${memberId}" does not support the chosen protocol "sticky"`,
    ]);
    group.state = 'empty';
    expect(checkMetadataInvariants(harness.state)[0]).toBe('group "g" is empty with 1 members');
  });

  it('reports what went backwards since the previous watermarks', () => {
    const harness = sound();
    const previous = metadataWatermarks(harness.state);
    harness.partition('t', 0).leaderEpoch = 0;
    const group = harness.state.groups.get('g');
    if (group !== undefined) group.generation = 0;
    harness.state.version -= 1;
    expect(checkMetadataInvariants(harness.state, previous)).toEqual([
      't/0 epochs must start at 1 (leader epoch 0, partition epoch 1)',
      'group "g" is completingRebalance at generation 0',
      `metadata version went back from ${previous.version} to ${previous.version - 1}`,
      't/0 epochs went back from 1/1 to 0/1',
      'group "g" generation went back from 1 to 0',
    ]);
  });
});
