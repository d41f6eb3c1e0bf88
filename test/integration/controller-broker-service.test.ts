import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdminClient, ControllerBrokerClient, defaultClientOptions, type MetadataRecord, type MetadataWatch, type MetadataWatchUpdate,
} from '../../src/rpc/clients/index.js';
import { controllerOf, type TestNode, waitForLeader } from '../support/controller-quorum.js';
import { waitFor } from '../support/in-process-raft-cluster.js';
import { startTestNode } from '../support/test-node.js';

/** Short broker sessions so fencing shows within a test; the leader's grace is as long. */
const sessionTimeoutMs = 1_000;

/** Heartbeats for a broker every quarter session until stopped, as its broker-lifecycle would. */
function keepAlive(client: ControllerBrokerClient, nodeId: number, brokerEpoch: number, version: () => number): () => void {
  const timer = setInterval(() => {
    client.heartbeat({ nodeId, brokerEpoch, metadataVersion: version() }).catch(() => undefined);
  }, sessionTimeoutMs / 4);
  return () => clearInterval(timer);
}

/** Collects a watch's updates and checks each one continues from the version the last reached. */
function recorder(): { updates: MetadataWatchUpdate[]; onUpdate: (update: MetadataWatchUpdate) => void; records: () => MetadataRecord[] } {
  const updates: MetadataWatchUpdate[] = [];
  let version = -1;
  const onUpdate = (update: MetadataWatchUpdate): void => {
    if (update.kind === 'deltas' && version >= 0) expect(update.prevVersion).toBe(version);
    if (version >= 0) expect(update.version).toBeGreaterThanOrEqual(version);
    version = update.version;
    updates.push(update);
  };
  const records = () => updates.flatMap((update) => (update.kind === 'heartbeat' ? [] : update.records));
  return { updates, onUpdate, records };
}

describe('ControllerBrokerService on a single controller', () => {
  let node: TestNode;
  let client: ControllerBrokerClient;
  let admin: AdminClient;
  const stops: Array<() => void> = [];
  const epochs = new Map<number, number>();

  beforeAll(async () => {
    node = await startTestNode({ roles: ['controller'], controller: { brokerSessionTimeoutMs: sessionTimeoutMs, raft: { tickIntervalMs: 20, electionTimeoutTicks: 10 } } });
    await waitForLeader([node]);
    const options = { ...defaultClientOptions('controller-broker-test'), bootstrap: [node.grpcAddress] };
    client = new ControllerBrokerClient(options);
    admin = new AdminClient(options);
  });
  afterAll(async () => {
    for (const stop of stops) stop();
    client?.close();
    admin?.close();
    await node?.stop();
  });

  async function registerLive(nodeId: number): Promise<() => void> {
    const registered = await client.register({ nodeId, address: `127.0.0.1:${30_000 + nodeId}`, incarnationId: `broker-${nodeId}-a` });
    epochs.set(nodeId, registered.brokerEpoch);
    const answer = await client.heartbeat({ nodeId, brokerEpoch: registered.brokerEpoch, metadataVersion: registered.metadataVersion });
    expect(answer.standing).toBe('active');
    const stop = keepAlive(client, nodeId, registered.brokerEpoch, () => controllerOf(node).state.version);
    stops.push(stop);
    return stop;
  }

  it('registers a broker fenced, and a heartbeat unfences it once it has applied its registration', async () => {
    const registered = await client.register({ nodeId: 9, address: '127.0.0.1:30009', rack: 'r1', incarnationId: 'broker-9-a' });
    expect(registered).toMatchObject({ clusterId: 'tributary', sessionTimeoutMs, heartbeatIntervalMs: sessionTimeoutMs / 4 });
    expect(registered.metadataVersion).toBe(registered.brokerEpoch);
    expect(controllerOf(node).state.brokers.get(9)?.fenced).toBe(true);
    const again = await client.register({ nodeId: 9, address: '127.0.0.1:30009', rack: 'r1', incarnationId: 'broker-9-a' });
    expect(again.brokerEpoch).toBe(registered.brokerEpoch);

    const behind = await client.heartbeat({ nodeId: 9, brokerEpoch: registered.brokerEpoch, metadataVersion: registered.metadataVersion - 1 });
    expect(behind.standing).toBe('fenced');
    const caughtUp = await client.heartbeat({ nodeId: 9, brokerEpoch: registered.brokerEpoch, metadataVersion: registered.metadataVersion });
    expect(caughtUp).toMatchObject({ standing: 'active', shutdownReady: false, remainingLeaderships: 0 });
    expect(caughtUp.metadataVersion).toBeGreaterThan(registered.metadataVersion);
    epochs.set(9, registered.brokerEpoch);
    stops.push(keepAlive(client, 9, registered.brokerEpoch, () => controllerOf(node).state.version));
  });

  it('refuses a heartbeat from a replaced incarnation with FENCED', async () => {
    const first = await client.register({ nodeId: 8, address: '127.0.0.1:30008', incarnationId: 'broker-8-a' });
    const second = await client.register({ nodeId: 8, address: '127.0.0.1:30008', incarnationId: 'broker-8-b' });
    expect(second.brokerEpoch).toBeGreaterThan(first.brokerEpoch);
    await expect(client.heartbeat({ nodeId: 8, brokerEpoch: first.brokerEpoch, metadataVersion: second.metadataVersion })).rejects.toMatchObject({
      code: 'FENCED',
      message: `broker 8 epoch ${first.brokerEpoch} was replaced by epoch ${second.brokerEpoch}; stop serving and register again`,
    });
    await expect(client.register({ nodeId: 8, address: '127.0.0.1:30008', incarnationId: 'broker-8-c', clusterId: 'elsewhere' })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('fences a broker that stops heartbeating and moves its leaderships within the ISR', async () => {
    const stopOne = await registerLive(1);
    await registerLive(2);
    await registerLive(3);
    const { topic } = await admin.createTopic('fencing', { config: { partitions: 3, replicationFactor: 3 } });
    const led = topic.partitions.filter((partition) => partition.leader === 1).map((partition) => partition.partition);
    expect(led.length).toBeGreaterThan(0);
    stopOne();
    const fenced = await waitFor(() => (controllerOf(node).state.brokers.get(1)?.fenced === true ? true : undefined), 10_000, 'broker 1 fenced');
    expect(fenced).toBe(true);
    const after = controllerOf(node).state.topics.get('fencing');
    for (const partition of after?.partitions ?? []) {
      expect(partition.leader).not.toBe(1);
      expect(partition.isr).toContain(partition.leader);
      expect(partition.isr).not.toContain(1);
    }
    for (const partition of led) expect(after?.partitions[partition]?.leaderEpoch).toBeGreaterThan(1);
  });

  it('applies an ISR change based on the current epochs and refuses a stale partition epoch', async () => {
    await waitFor(() => controllerOf(node).state.brokers.get(2)?.fenced === false || undefined, 5_000, 'broker 2 live');
    const { topic } = await admin.createTopic('isr', { config: { partitions: 1, replicationFactor: 3 }, replicaAssignment: [[2, 3, 9]] });
    const partition = topic.partitions[0];
    if (partition === undefined) throw new Error('no partition 0');
    const base = { topic: 'isr', partition: 0, topicId: topic.topicId, leaderEpoch: partition.leaderEpoch };
    const shrink = { ...base, partitionEpoch: partition.partitionEpoch, newIsr: [{ nodeId: 2, brokerEpoch: epochs.get(2) ?? 0 }, { nodeId: 3, brokerEpoch: epochs.get(3) ?? 0 }] };
    const [applied] = await client.alterPartition(2, epochs.get(2) ?? 0, [shrink]);
    expect(applied?.error).toBeUndefined();
    expect(applied?.partitionInfo).toMatchObject({ leader: 2, isr: [2, 3], partitionEpoch: partition.partitionEpoch + 1 });

    const [stale] = await client.alterPartition(2, epochs.get(2) ?? 0, [{ ...shrink, newIsr: shrink.newIsr.slice(0, 1) }]);
    expect(stale?.error).toMatchObject({ code: 'STALE_EPOCH', message: `isr/0: partition epoch ${partition.partitionEpoch} is not the current ${partition.partitionEpoch + 1}` });
    expect(stale?.partitionInfo).toMatchObject({ isr: [2, 3], partitionEpoch: partition.partitionEpoch + 1 });
    expect(stale?.metadataVersion).toBeGreaterThanOrEqual(applied?.metadataVersion ?? Infinity);
  });

  describe('WatchMetadata', () => {
    const watches: MetadataWatch[] = [];
    afterAll(() => {
      for (const watch of watches) watch.close();
    });

    function watch(fromVersion: number, maxMessageBytes = 0): ReturnType<typeof recorder> & { watch: MetadataWatch } {
      const recorded = recorder();
      const opened = client.watchMetadata(fromVersion, recorded.onUpdate, { heartbeatIntervalMs: 100, maxMessageBytes });
      watches.push(opened);
      return { ...recorded, watch: opened };
    }

    it('starts from nothing with an image, then streams deltas in version order', async () => {
      const versionBefore = controllerOf(node).state.version;
      const watcher = watch(0);
      const image = await waitFor(() => watcher.updates.find((update) => update.kind === 'image'), 5_000, 'the image');
      expect(image.version).toBeGreaterThanOrEqual(versionBefore);
      expect(watcher.records()).toContainEqual(expect.objectContaining({ kind: 'topicCreated', name: 'fencing' }));
      await admin.createTopic('watched', { config: { partitions: 2, replicationFactor: 2 } });
      await admin.alterTopicConfig('watched', { retentionMs: 60_000 });
      await waitFor(() => watcher.records().find((record) => record.kind === 'topicConfigChanged'), 5_000, 'the config change');
      const kinds = watcher.records().slice(-4).map((record) => record.kind);
      expect(kinds).toEqual(['topicCreated', 'partitionChanged', 'partitionChanged', 'topicConfigChanged']);
      const config = watcher.records().at(-1);
      expect(config).toMatchObject({ kind: 'topicConfigChanged', name: 'watched', config: { retentionMs: 60_000, partitions: 2 } });
    });

    it('resumes from a version with the deltas after it, and shows heartbeats on an idle stream', async () => {
      const resumeFrom = controllerOf(node).state.version;
      await admin.createTopic('after-resume', { config: { partitions: 1, replicationFactor: 1 } });
      const watcher = watch(resumeFrom);
      const first = await waitFor(() => watcher.updates.find((update) => update.kind !== 'heartbeat'), 5_000, 'the missed deltas');
      expect(first).toMatchObject({ kind: 'deltas', prevVersion: resumeFrom });
      expect(watcher.records()[0]).toMatchObject({ kind: 'topicCreated', name: 'after-resume' });
      await waitFor(() => (watcher.updates.filter((update) => update.kind === 'heartbeat').length >= 2 ? true : undefined), 5_000, 'heartbeats');
      expect(watcher.updates.every((update) => update.kind !== 'image')).toBe(true);
    });

    it('sends an image to a watcher further behind than the history it keeps, in chunks the client reassembles', async () => {
      const oldVersion = controllerOf(node).state.version;
      // One topic of 10 000 partitions is more deltas than the controller keeps (metadataHistoryDeltasMax).
      await admin.createTopic('wide', { config: { partitions: 10_000, replicationFactor: 1 } });
      const { metadataVersion } = await admin.createTopic('after-wide', { config: { partitions: 1, replicationFactor: 1 } });
      // The smallest message the server allows cuts the image of 10 000 partitions into several chunks.
      const watcher = watch(oldVersion, 1);
      const image = await waitFor(() => watcher.updates.find((update) => update.kind === 'image'), 10_000, 'the image');
      expect(image.version).toBeGreaterThanOrEqual(metadataVersion);
      const partitions = watcher.records().filter((record) => record.kind === 'partitionChanged' && record.topic === 'wide');
      expect(partitions).toHaveLength(10_000);
      expect(watcher.updates.filter((update) => update.kind !== 'heartbeat')).toHaveLength(1);
    });
  });
});
