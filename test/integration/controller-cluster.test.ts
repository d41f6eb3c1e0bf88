import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, type ClusterDescription, defaultClientOptions, MetadataClient } from '../../src/rpc/clients/index.js';
import { HeartbeatingBrokers } from '../support/heartbeating-brokers.js';
import { LocalCluster } from '../support/local-cluster.js';
import { runTrib } from '../support/trib-process.js';

/** Small snapshot thresholds, so a node that was down for a few hundred writes catches up through a snapshot. */
const settings = { controller: { raft: { tickIntervalMs: 20, snapshotThresholdEntries: 100, snapshotKeepEntries: 10 } } };
const catchUpTimeoutMs = 30_000;
const writesWhileDown = 600;

let cluster: LocalCluster;
let brokers: HeartbeatingBrokers;
let admin: AdminClient;
let metadata: MetadataClient;

beforeAll(async () => {
  cluster = await LocalCluster.create({ controllers: 3, settings });
  await cluster.up();
  const bootstrap = cluster.bootstrap.split(',');
  admin = new AdminClient({ ...defaultClientOptions('controller-cluster-test'), deadlineMs: 3_000, bootstrap });
  metadata = new MetadataClient({ ...defaultClientOptions('controller-cluster-test'), deadlineMs: 3_000, bootstrap });
  brokers = new HeartbeatingBrokers(bootstrap);
  await brokers.start([1, 2, 3]);
}, 120_000);

afterAll(async () => {
  brokers.stop();
  admin.close();
  metadata.close();
  await cluster.destroy();
}, 60_000);

function nodeLog(id: number): string {
  return readFileSync(join(cluster.nodeDirectory(id), 'node.log'), 'utf8');
}

/** Polls `probe` until it yields a value; bounded by catchUpTimeoutMs. */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + catchUpTimeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${catchUpTimeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function leaderId(excluded?: number): Promise<number> {
  return eventually(async () => {
    const { leaderId: leader } = await admin.describeCluster();
    return leader !== 0 && leader !== excluded ? leader : undefined;
  }, `a controller leader other than ${excluded ?? 'none'}`);
}

/** Waits until controller `id` has applied everything the leader had committed when called. */
async function waitUntilCaughtUp(id: number): Promise<ClusterDescription> {
  const target = (await admin.describeCluster()).commitIndex;
  return eventually(async () => {
    const own = await admin.describeController(cluster.address(id));
    return own.appliedIndex >= target ? own : undefined;
  }, `controller ${id} to apply index ${target}`);
}

async function topicNames(): Promise<string[]> {
  return (await metadata.allTopics()).map((topic) => topic.name).sort();
}

async function alterMany(count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i++) await admin.alterTopicConfig('orders', { setLabels: { step: `${prefix}-${i}` } });
}

describe('a three-controller cluster of OS processes', () => {
  it('starts every node with its pid file and log, and cluster status reports them serving', async () => {
    for (const id of cluster.ids) {
      expect(cluster.pid(id)).toBeGreaterThan(0);
      expect(nodeLog(id)).toContain('"msg":"node started"');
    }
    const status = await runTrib(['cluster', 'status', '--config', cluster.configPath, '--json']);
    expect(status.code).toBe(0);
    const nodes = (JSON.parse(status.stdout) as { nodes: Array<{ id: number; state: string }> }).nodes;
    expect(nodes.map((node) => [node.id, node.state])).toEqual([
      [1, 'SERVING'],
      [2, 'SERVING'],
      [3, 'SERVING'],
    ]);
  });

  it('elects a leader and creates topics on the registered brokers', async () => {
    expect(await leaderId()).toBeGreaterThan(0);
    for (const name of ['orders', 'audio', 'imu']) {
      const { topic } = await admin.createTopic(name, { config: { partitions: 3, replicationFactor: 3 } });
      expect(topic.partitions).toHaveLength(3);
    }
    expect(await topicNames()).toEqual(['audio', 'imu', 'orders']);
  });

  it('after SIGKILL of the leader, a new leader serves writes and every committed topic is still there', async () => {
    const killed = await leaderId();
    await cluster.kill(killed);
    const successor = await leaderId(killed);
    expect(successor).not.toBe(killed);
    await admin.createTopic('after-failover', { config: { partitions: 1, replicationFactor: 3 } });
    expect(await topicNames()).toEqual(['after-failover', 'audio', 'imu', 'orders']);
    await cluster.up();
    const restarted = await waitUntilCaughtUp(killed);
    expect(restarted.leaderId).toBe(successor);
  }, 120_000);

  it('a controller that was down for many writes catches up through a snapshot', async () => {
    const leader = await leaderId();
    const lagging = cluster.ids.find((id) => id !== leader) ?? 0;
    await cluster.kill(lagging);
    // More writes than the leader keeps in flight to a silent follower (inflightMessagesMax, 256):
    // those appends wait in the transport's queue and arrive on restart; the rest must come as a snapshot.
    await alterMany(writesWhileDown, 'while-down');
    await cluster.up();
    await waitUntilCaughtUp(lagging);
    // The node's log is written asynchronously: the line may land a moment after the catch-up.
    await eventually(() => Promise.resolve(nodeLog(lagging).includes('restored a snapshot from the leader') ? true : undefined), 'the snapshot in the log');
    const labels = (await metadata.topics(['orders'])).topics[0]?.topic?.config.labels;
    expect(labels).toEqual({ step: `while-down-${writesWhileDown - 1}` });
  }, 120_000);

  it('cluster up is idempotent: it restarts only a node that was killed', async () => {
    const before = cluster.ids.map((id) => cluster.pid(id));
    await cluster.kill(2);
    const result = await cluster.up();
    const states = (JSON.parse(result.stdout) as { nodes: Array<{ id: number; state: string }> }).nodes.map((node) => node.state);
    expect(states).toEqual(['already running', 'started', 'already running']);
    expect(cluster.pid(1)).toBe(before[0]);
    expect(cluster.pid(3)).toBe(before[2]);
    await waitUntilCaughtUp(2);
  }, 120_000);

  it('transfers leadership to a chosen controller', async () => {
    const leader = await leaderId();
    const target = cluster.ids.find((id) => id !== leader) ?? 0;
    await waitUntilCaughtUp(target);
    await admin.transferLeadership(target);
    await eventually(async () => ((await admin.describeCluster()).leaderId === target ? true : undefined), 'the transfer');
  }, 60_000);

  it('adds a fourth controller and removes one while writes continue', async () => {
    let writing = true;
    let written = 0;
    const failures: unknown[] = [];
    const writer = (async () => {
      while (writing) {
        await admin.alterTopicConfig('orders', { setLabels: { during: String(written) } }).then(
          () => written++,
          (error: unknown) => failures.push(error),
        );
      }
    })();
    const address = await cluster.addMember(4);
    await cluster.up();
    await admin.addController(4, address);
    const leader = await leaderId();
    const removed = cluster.ids.find((id) => id !== leader && id !== 4) ?? 0;
    await admin.removeController(removed);
    const description = await admin.describeCluster();
    writing = false;
    await writer;
    expect(description.controllers.map((controller) => controller.nodeId).sort()).toEqual(cluster.ids.filter((id) => id !== removed).sort());
    expect(failures).toEqual([]);
    expect(written).toBeGreaterThan(0);
    await waitUntilCaughtUp(4);
  }, 120_000);
});

