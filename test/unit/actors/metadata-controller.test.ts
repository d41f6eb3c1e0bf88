import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/actors/clock.js';
import { leaderDutyDefaults } from '../../../src/actors/metadata-controller/controller-leader-duties.js';
import { MetadataController } from '../../../src/actors/metadata-controller/metadata-controller.js';
import type { MetadataUpdate } from '../../../src/actors/metadata-controller/metadata-delta-feed.js';
import { raftHostDefaults } from '../../../src/actors/raft-host/raft-host-settings.js';
import type { Message, NodeId } from '../../../src/raft/index.js';
import { GroupCommitWriter, KeyValueHardStateStore, MemoryKeyValueStore, openRaftLogStore, openSnapshotStore } from '../../../src/storage/index.js';
import { waitFor } from '../../support/in-process-raft-cluster.js';
import { captureLogger } from '../../support/log-capture.js';

const controllers = new Map<NodeId, MetadataController>();
const quorum = new Map([
  [1, '127.0.0.1:1'],
  [2, '127.0.0.1:2'],
  [3, '127.0.0.1:3'],
]);
const topicConfig = {
  partitions: 3, replicationFactor: 1, minInSyncReplicas: 1, retentionMs: 0, retentionBytes: 0, compression: 'none', maxMessageBytes: 1 << 20, uncleanLeaderElection: false, labels: {},
} as const;

afterEach(async () => {
  for (const controller of controllers.values()) await controller.stop();
  controllers.clear();
});

async function startQuorum(): Promise<void> {
  const deliver = (messages: readonly Message[]): void => {
    for (const message of messages) setImmediate(() => controllers.get(message.to)?.step(message));
  };
  for (const nodeId of quorum.keys()) {
    const engine = new MemoryKeyValueStore();
    const writer = new GroupCommitWriter(engine, { durability: 'fsync' });
    const controller = await MetadataController.start({
      nodeId,
      quorum,
      join: false,
      stores: { log: await openRaftLogStore(engine, writer), hardState: new KeyValueHardStateStore(engine, writer), snapshots: await openSnapshotStore(engine, writer) },
      transport: { send: deliver, setPeers: () => undefined },
      clock: systemClock,
      random: { nextInt: (maxExclusive) => Math.floor(Math.random() * maxExclusive) },
      logger: captureLogger().logger,
      raft: { ...raftHostDefaults, tickIntervalMs: 10 },
      duties: { ...leaderDutyDefaults, livenessCheckIntervalMs: 20, leaderGraceMs: 0 },
      feed: { historyDeltasMax: 100, watchersMax: 4 },
    });
    controllers.set(nodeId, controller);
  }
}

function leader(): MetadataController | undefined {
  return [...controllers.values()].find((controller) => controller.raftStatus().role === 'leader');
}

describe('metadata controller', () => {
  it('commits commands through Raft, answers with their output, and rejects with the command error', async () => {
    await startQuorum();
    const first = await waitFor(leader, 5_000, 'a leader');
    await first.submit({ type: 'registerBroker', brokerId: 7, address: '127.0.0.1:7', rack: '', incarnationId: 'a', nowMs: 1, sessionTimeoutMs: 10_000 });
    await first.submit({ type: 'brokerHeartbeat', brokerId: 7, brokerEpoch: first.state.brokers.get(7)?.brokerEpoch ?? 0, metadataVersion: first.state.version, wantsFence: false, wantsShutdown: false, nowMs: 2, sessionTimeoutMs: 10_000 });
    const created = await first.submit({ type: 'createTopic', name: 'orders', config: topicConfig, replicaAssignment: [], idempotencyKey: '' });
    expect(created.topic.partitions).toHaveLength(3);
    await expect(first.submit({ type: 'createTopic', name: 'orders', config: topicConfig, replicaAssignment: [], idempotencyKey: '' })).rejects.toMatchObject({
      code: 'TOPIC_ALREADY_EXISTS',
    });
    for (const controller of controllers.values()) expect((await controller.linearizableState()).topics.has('orders')).toBe(true);
  });

  it('a follower refuses writes with NOT_LEADER carrying the leader address', async () => {
    await startQuorum();
    const current = await waitFor(leader, 5_000, 'a leader');
    const follower = [...controllers.values()].find((controller) => controller !== current);
    await waitFor(() => (follower?.raftStatus().leader === current.nodeId ? true : undefined), 5_000, 'the follower to learn its leader');
    await expect(follower?.submit({ type: 'deleteTopic', name: 'x', topicId: '' })).rejects.toMatchObject({
      code: 'NOT_LEADER',
      leaderHint: { nodeId: current.nodeId, address: quorum.get(current.nodeId) },
    });
  });

  it('the leader registers the quorum members and fences a broker whose session expired', async () => {
    await startQuorum();
    const current = await waitFor(leader, 5_000, 'a leader');
    await waitFor(() => (current.state.controllers.size === 3 ? true : undefined), 5_000, 'the controller registry');
    await current.submit({ type: 'registerBroker', brokerId: 9, address: '127.0.0.1:9', rack: '', incarnationId: 'b', nowMs: Date.now(), sessionTimeoutMs: 1_000 });
    const epoch = current.state.brokers.get(9)?.brokerEpoch ?? 0;
    await current.submit({ type: 'brokerHeartbeat', brokerId: 9, brokerEpoch: epoch, metadataVersion: current.state.version, wantsFence: false, wantsShutdown: false, nowMs: Date.now(), sessionTimeoutMs: 1_000 });
    expect(current.state.brokers.get(9)?.fenced).toBe(false);
    await waitFor(() => (current.state.brokers.get(9)?.fenced === true ? true : undefined), 5_000, 'the broker to be fenced');
  });

  it('streams deltas to watchers, from an image for a new watcher', async () => {
    await startQuorum();
    const current = await waitFor(leader, 5_000, 'a leader');
    const updates: MetadataUpdate[] = [];
    const stop = current.feed.watch(0, (update) => updates.push(update));
    expect(updates[0]?.kind).toBe('image');
    await current.submit({ type: 'registerBroker', brokerId: 3, address: '127.0.0.1:3', rack: 'r1', incarnationId: 'c', nowMs: 1, sessionTimeoutMs: 10_000 });
    expect(updates.at(-1)).toMatchObject({ kind: 'deltas', deltas: [{ kind: 'brokerRegistered', broker: { brokerId: 3 } }] });
    stop();
  });
});
