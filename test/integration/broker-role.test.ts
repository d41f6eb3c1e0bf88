import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, type BrokerStanding, defaultClientOptions, MetadataClient } from '../../src/rpc/clients/index.js';
import { waitFor } from '../support/in-process-raft-cluster.js';
import { LocalCluster } from '../support/local-cluster.js';
import { startTestNode } from '../support/test-node.js';

const waitMs = 20_000;

async function standingOf(admin: AdminClient, nodeId: number): Promise<BrokerStanding | undefined> {
  const described = await admin.describeCluster({ includeFenced: true }).catch(() => undefined);
  return described?.brokers.find((broker) => broker.nodeId === nodeId)?.state;
}

async function waitForStanding(admin: AdminClient, nodeId: number, standing: BrokerStanding): Promise<void> {
  for (const deadline = Date.now() + waitMs; (await standingOf(admin, nodeId)) !== standing; ) {
    if (Date.now() > deadline) throw new Error(`broker ${nodeId} did not become ${standing} within ${waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the broker role of a combined node', () => {
  it('registers with its own controller, becomes active once it applied its metadata, and follows topics', async () => {
    const node = await startTestNode({ controller: { raft: { tickIntervalMs: 20 } } });
    const admin = new AdminClient({ ...defaultClientOptions('broker-role-test'), deadlineMs: 3_000, bootstrap: [node.grpcAddress] });
    try {
      await waitForStanding(admin, 1, 'active');
      const broker = node.broker;
      expect(broker).toBeDefined();
      expect(broker?.lifecycle.brokerEpoch()).toBeGreaterThan(0);
      const { topic } = await admin.createTopic('readings', { config: { partitions: 2, replicationFactor: 1 } });
      expect(topic.partitions.map((partition) => partition.leader)).toEqual([1, 1]);
      await waitFor(() => (broker?.metadata.topic('readings')?.partitions.size === 2 ? true : undefined), waitMs, 'the broker to see the topic');
      expect(broker?.metadata.partition('readings', 1)).toMatchObject({ leader: 1, replicas: [1] });
      // Its partition replicas lead them, on the node's own storage.
      await waitFor(() => (broker?.replicas.hosted('readings', 1)?.role === 'leading' ? true : undefined), waitMs, 'the broker to lead readings-1');
      const leader = broker?.replicas.hosted('readings', 1)?.leader;
      const record = { recordCount: 1, firstTimestampMs: 5, maxTimestampMs: 5, payload: new Uint8Array([1, 2, 3]) };
      await expect(leader?.append(record, 'all', 5_000)).resolves.toEqual({ baseOffset: 0, lastOffset: 0, duplicate: false });
      expect((await leader?.read(0, 1_000))?.batches.map((batch) => [batch.baseOffset, batch.partitionLeaderEpoch])).toEqual([[0, 1]]);
    } finally {
      admin.close();
      await node.stop();
    }
    // Controlled shutdown ran before the controller stopped. No other replica could take the
    // partitions, so the controller answered ready at once and they keep their leader.
    const state = node.controller?.state;
    expect(state?.brokers.get(1)?.shuttingDown).toBe(true);
    expect(state?.topics.get('readings')?.partitions.map((partition) => partition.leader)).toEqual([1, 1]);
    expect(node.logLines().some((line) => line.msg === 'controlled shutdown ended with leaderships not moved away')).toBe(true);
  });
});

describe('broker processes beside a controller process', () => {
  let cluster: LocalCluster;
  let admin: AdminClient;
  let metadata: MetadataClient;

  beforeAll(async () => {
    cluster = await LocalCluster.create({ controllers: 1, brokers: 2, settings: { controller: { raft: { tickIntervalMs: 20 } } } });
    await cluster.up();
    const options = { ...defaultClientOptions('broker-role-test'), deadlineMs: 3_000, bootstrap: cluster.bootstrap.split(',') };
    admin = new AdminClient(options);
    metadata = new MetadataClient(options);
  }, 120_000);

  afterAll(async () => {
    admin.close();
    metadata.close();
    await cluster.destroy();
  });

  it('each broker registers and becomes active, so topics are placed on them', async () => {
    await waitForStanding(admin, 2, 'active');
    await waitForStanding(admin, 3, 'active');
    const { topic } = await admin.createTopic('events', { config: { partitions: 4, replicationFactor: 2 } });
    expect(topic.partitions.every((partition) => partition.replicas.toSorted().join() === '2,3')).toBe(true);
    expect(new Set(topic.partitions.map((partition) => partition.leader))).toEqual(new Set([2, 3]));
  });

  it('SIGTERM makes a broker move its leaderships away before it exits', async () => {
    await cluster.signal(3, 'SIGTERM');
    const described = await admin.describeCluster({ includeFenced: true });
    expect(described.brokers.find((broker) => broker.nodeId === 3)?.state).toBe('shuttingDown');
    const [lookup] = (await metadata.topics(['events'])).topics;
    const topic = lookup?.topic;
    if (topic === undefined) throw new Error('topic "events" is gone');
    expect(topic.partitions.map((partition) => partition.leader)).toEqual([2, 2, 2, 2]);
    const log = readFileSync(join(cluster.nodeDirectory(3), 'node.log'), 'utf8');
    expect(log).toContain('node stopped');
  });

  it('a restarted broker registers again and becomes active', async () => {
    await cluster.up();
    await waitForStanding(admin, 3, 'active');
  });
});
