import { describe, expect, it } from 'vitest';
import { partitionsLedBy } from '../../../src/controller/index.js';
import { brokerSessionTimeoutMs, MetadataHarness, topicConfig } from './metadata-harness.js';

describe('broker registration', () => {
  it('assigns the Raft index as epoch and starts the broker fenced', () => {
    const harness = new MetadataHarness();
    const epoch = harness.register(1);
    expect(epoch).toBe(harness.index);
    expect(harness.state.brokers.get(1)).toMatchObject({ brokerEpoch: epoch, fenced: true });
    expect(harness.deltas.at(-1)).toMatchObject({ kind: 'brokerRegistered', version: epoch });
  });

  it('is idempotent for the same incarnation id', () => {
    const harness = new MetadataHarness();
    const epoch = harness.register(1, '', 'uuid-a');
    const deltasBefore = harness.deltas.length;
    expect(harness.register(1, '', 'uuid-a')).toBe(epoch);
    expect(harness.deltas.length).toBe(deltasBefore);
  });

  it('fences the old incarnation when a new one registers, moving its leaderships', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    harness.createTopic('orders', { partitions: 3 });
    const oldEpoch = harness.state.brokers.get(1)?.brokerEpoch ?? 0;
    expect(partitionsLedBy(harness.state, 1).length).toBeGreaterThan(0);
    const newEpoch = harness.register(1, '', 'uuid-restarted');
    expect(newEpoch).toBeGreaterThan(oldEpoch);
    expect(partitionsLedBy(harness.state, 1)).toEqual([]);
    for (const partition of harness.state.topics.get('orders')?.partitions ?? []) expect(partition.isr).not.toContain(1);
    const stale = harness.fail({
      type: 'brokerHeartbeat', brokerId: 1, brokerEpoch: oldEpoch, metadataVersion: harness.state.version, wantsFence: false, wantsShutdown: false,
      nowMs: harness.nowMs, sessionTimeoutMs: brokerSessionTimeoutMs,
    });
    expect(stale).toEqual({ code: 'FENCED', message: `broker 1 epoch ${oldEpoch} was replaced by epoch ${newEpoch}; stop serving and register again` });
  });

  it('rejects bad registrations naming the value', () => {
    const harness = new MetadataHarness();
    const base = { type: 'registerBroker', brokerId: 1, address: 'h:1', rack: '', incarnationId: 'a', nowMs: 0, sessionTimeoutMs: brokerSessionTimeoutMs } as const;
    expect(harness.fail({ ...base, brokerId: 0 }).message).toBe('broker id 0 must be an integer of at least 1');
    expect(harness.fail({ ...base, address: '' }).message).toContain('address "" must be 1-255 characters');
    expect(harness.fail({ ...base, sessionTimeoutMs: 5 }).message).toBe('broker 1: session timeout 5 ms must be from 100 to 600000 ms');
    expect(harness.state.version).toBe(0);
  });
});

describe('broker heartbeats', () => {
  it('unfences a broker only once it has applied its own registration and does not ask to stay fenced', () => {
    const harness = new MetadataHarness();
    const epoch = harness.register(1);
    const behind = harness.ok({
      type: 'brokerHeartbeat', brokerId: 1, brokerEpoch: epoch, metadataVersion: epoch - 1, wantsFence: false, wantsShutdown: false,
      nowMs: harness.nowMs, sessionTimeoutMs: brokerSessionTimeoutMs,
    });
    expect(behind.standing).toBe('fenced');
    expect(harness.heartbeat(1, { wantsFence: true }).standing).toBe('fenced');
    expect(harness.heartbeat(1).standing).toBe('active');
    expect(harness.deltas.at(-1)).toMatchObject({ kind: 'brokerStateChanged', brokerId: 1, standing: 'active' });
  });

  it('rejects unknown brokers and epochs the controller never assigned', () => {
    const harness = new MetadataHarness();
    const epoch = harness.register(1);
    const base = { type: 'brokerHeartbeat', brokerId: 1, brokerEpoch: epoch, metadataVersion: 0, wantsFence: false, wantsShutdown: false, nowMs: 0, sessionTimeoutMs: brokerSessionTimeoutMs } as const;
    expect(harness.fail({ ...base, brokerId: 9 })).toEqual({ code: 'NODE_NOT_FOUND', message: 'broker 9 is not registered; register it first' });
    expect(harness.fail({ ...base, brokerEpoch: epoch + 5 }).code).toBe('STALE_EPOCH');
  });

  it('extends the deadline so only silent brokers are fenced', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(2);
    harness.nowMs += brokerSessionTimeoutMs - 1;
    harness.heartbeat(2);
    harness.nowMs += 1;
    expect(harness.ok({ type: 'fenceExpiredBrokers', nowMs: harness.nowMs }).fencedBrokerIds).toEqual([1]);
    expect(harness.ok({ type: 'fenceExpiredBrokers', nowMs: harness.nowMs }).fencedBrokerIds).toEqual([]);
  });
});

describe('fencing moves leaderships', () => {
  it('elects another in-sync replica and shrinks the ISR by the fenced broker', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    harness.createTopic('orders', { partitions: 3 });
    const before = harness.partition('orders', 0);
    const victim = before.leader;
    const { leaderEpoch, partitionEpoch } = before;
    for (const id of [1, 2, 3].filter((id) => id !== victim)) harness.heartbeat(id);
    harness.nowMs += brokerSessionTimeoutMs;
    for (const id of [1, 2, 3].filter((id) => id !== victim)) harness.heartbeat(id);
    expect(harness.ok({ type: 'fenceExpiredBrokers', nowMs: harness.nowMs }).fencedBrokerIds).toEqual([victim]);
    const after = harness.partition('orders', 0);
    expect(after.leader).not.toBe(victim);
    expect(after.isr).not.toContain(victim);
    expect(after.leaderEpoch).toBe(leaderEpoch + 1);
    expect(after.partitionEpoch).toBe(partitionEpoch + 1);
    expect(partitionsLedBy(harness.state, victim)).toEqual([]);
  });

  it('takes a partition offline when its last in-sync replica is fenced, keeping that replica as the ISR, and brings it back with it', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(1);
    harness.createTopic('solo', { partitions: 1, replicationFactor: 1, minInSyncReplicas: 1 });
    harness.nowMs += brokerSessionTimeoutMs;
    harness.ok({ type: 'fenceExpiredBrokers', nowMs: harness.nowMs });
    expect(harness.partition('solo', 0)).toMatchObject({ leader: 0, isr: [1], leaderEpoch: 2 });
    harness.heartbeat(1);
    expect(harness.partition('solo', 0)).toMatchObject({ leader: 1, isr: [1], leaderEpoch: 3 });
  });

  it('keeps the last leader as the ISR when the whole ISR expires at once', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    harness.createTopic('orders', { partitions: 1 });
    const leader = harness.partition('orders', 0).leader;
    harness.nowMs += brokerSessionTimeoutMs;
    expect(harness.ok({ type: 'fenceExpiredBrokers', nowMs: harness.nowMs }).fencedBrokerIds).toEqual([1, 2, 3]);
    expect(harness.partition('orders', 0)).toMatchObject({ leader: 0, isr: [leader] });
  });

  it('never elects an out-of-sync replica unless the topic allows unclean election', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(2);
    for (const [name, uncleanLeaderElection] of [['clean', false], ['dirty', true]] as const) {
      harness.ok({
        type: 'createTopic', name, config: topicConfig({ partitions: 1, replicationFactor: 2, minInSyncReplicas: 1, uncleanLeaderElection }),
        replicaAssignment: [[1, 2]], idempotencyKey: '',
      });
      harness.shrinkIsrToLeader(name, 0);
    }
    harness.nowMs += brokerSessionTimeoutMs;
    harness.heartbeat(2);
    expect(harness.ok({ type: 'fenceExpiredBrokers', nowMs: harness.nowMs }).fencedBrokerIds).toEqual([1]);
    expect(harness.partition('clean', 0)).toMatchObject({ leader: 0, isr: [1], leaderEpoch: 2 });
    expect(harness.partition('dirty', 0)).toMatchObject({ leader: 2, isr: [2], leaderEpoch: 2 });
  });
});

describe('controlled shutdown', () => {
  it('moves leaderships away and reports shutdown readiness', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(3);
    harness.createTopic('orders', { partitions: 6 });
    const led = partitionsLedBy(harness.state, 2).length;
    expect(led).toBe(2);
    const response = harness.heartbeat(2, { wantsShutdown: true });
    expect(response).toEqual({ standing: 'shuttingDown', shutdownReady: true, remainingLeaderships: 0 });
    expect(partitionsLedBy(harness.state, 2)).toEqual([]);
    // New topics are not placed on a broker that is shutting down.
    const topic = harness.createTopic('later', { partitions: 4, replicationFactor: 2, minInSyncReplicas: 1 });
    for (const partition of topic.partitions) expect(partition.replicas).not.toContain(2);
  });

  it('keeps a leadership no other in-sync replica can take, and is ready at once: waiting would not move it', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(1);
    harness.createTopic('solo', { partitions: 1, replicationFactor: 1, minInSyncReplicas: 1 });
    expect(harness.heartbeat(1, { wantsShutdown: true })).toEqual({ standing: 'shuttingDown', shutdownReady: true, remainingLeaderships: 1 });
    expect(harness.partition('solo', 0)).toMatchObject({ leader: 1 });
  });
});
