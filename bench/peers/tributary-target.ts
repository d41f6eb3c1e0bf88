// Tributary's controller quorum as a MetadataBenchTarget: three `trib node` controller processes
// started with `trib cluster up` (test/support/local-cluster.ts, durability fsync, default Raft
// timing), three broker sessions so topics can be placed, and one AlterTopicConfig per write: a
// 256-character label on one of the workload's topics, a committed, fsynced Raft entry. Writes go
// to the leader; the client follows one NOT_LEADER hint (as a follower forwards in etcd) but never
// retries after a failure or a timeout, since the workload owns retries and timing.
import { performance } from 'node:perf_hooks';
import { AdminClient, defaultClientOptions } from '../../src/rpc/clients/index.js';
import { HeartbeatingBrokers } from '../../test/support/heartbeating-brokers.js';
import { LocalCluster } from '../../test/support/local-cluster.js';
import type { MetadataBenchTarget } from '../metadata-workload.js';

/** One attempt plus one redirect: a write that lands on a follower reaches the leader it names. */
const routing = { attemptsMax: 2, backoffMsMin: 1, backoffMsMax: 1 };
/** Bound on waiting for a restarted controller to apply what the leader has committed. */
const catchUpTimeoutMs = 60_000;
const brokerIds = [1, 2, 3];

export class TributaryTarget implements MetadataBenchTarget {
  readonly name = 'tributary';
  private cluster: LocalCluster | undefined;
  private brokers: HeartbeatingBrokers | undefined;
  /** One client per write timeout (the workload uses two), each with that deadline per call. */
  private readonly clients = new Map<number, AdminClient>();
  private readonly topics = new Set<string>();
  private killedId: number | undefined;
  /** For finding the leader and watching catch-up: not measured, so it may retry as it likes. */
  private controlClient: AdminClient | undefined;

  async start(): Promise<void> {
    const cluster = await LocalCluster.create({ controllers: 3, settings: { durability: 'fsync', log: { level: 'warn' } } });
    this.cluster = cluster;
    await cluster.up();
    this.brokers = new HeartbeatingBrokers(cluster.bootstrap.split(','));
    await this.brokers.start(brokerIds);
  }

  async write(key: string, value: Uint8Array, timeoutMs: number): Promise<void> {
    const admin = this.client(timeoutMs);
    // The workload's keys are paths ("topics/topic-0/config"); topic names allow dots, not slashes.
    const topic = key.replaceAll('/', '.');
    if (!this.topics.has(topic)) {
      await admin.createTopic(topic, { config: { partitions: 1, replicationFactor: 3 }, idempotencyKey: topic });
      this.topics.add(topic);
    }
    // 256 label characters from the workload's 256 random bytes: the command carries 256 bytes of value.
    await admin.alterTopicConfig(topic, { setLabels: { value: Buffer.from(value).toString('base64').slice(0, value.length) } });
  }

  async killLeader(): Promise<{ killedAtMs: number }> {
    if (this.killedId !== undefined) throw new Error(`tributary target: controller ${this.killedId} is already killed; restart it first`);
    const leaderId = (await this.control().describeCluster()).leaderId;
    if (leaderId === 0) throw new Error('tributary target: no controller leader to kill');
    const killedAtMs = performance.now();
    await this.requireCluster().kill(leaderId);
    this.killedId = leaderId;
    return { killedAtMs };
  }

  async restartKilled(): Promise<void> {
    const killed = this.killedId;
    if (killed === undefined) throw new Error('tributary target: no controller was killed');
    const cluster = this.requireCluster();
    await cluster.up();
    const admin = this.control();
    const target = (await admin.describeCluster()).commitIndex;
    const deadline = Date.now() + catchUpTimeoutMs;
    const appliedIndex = async (): Promise<number> => (await admin.describeController(cluster.address(killed)).catch(() => undefined))?.appliedIndex ?? -1;
    while ((await appliedIndex()) < target) {
      if (Date.now() > deadline) throw new Error(`tributary target: controller ${killed} did not catch up within ${catchUpTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.killedId = undefined;
  }

  async stop(): Promise<void> {
    this.brokers?.stop();
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    this.controlClient?.close();
    await this.cluster?.destroy();
  }

  settings(): Record<string, unknown> {
    return {
      processes: '3 controller processes (trib node, roles [controller]) on 127.0.0.1, started by trib cluster up',
      raft: 'tick 50 ms, election timeout 10-20 ticks (500-1000 ms), heartbeat every tick, PreVote and CheckQuorum on',
      durability: 'fsync: the leader and a majority fsync each entry (group commit; controller-only nodes write RocksDB from the JS thread, storage.writeThread auto); the leader sends appends while its own write runs before the ack',
      client: 'AdminClient over @grpc/grpc-js: AlterTopicConfig with a 256-byte label, routed to the leader, one redirect, no retry',
    };
  }

  private client(timeoutMs: number): AdminClient {
    let client = this.clients.get(timeoutMs);
    if (client === undefined) {
      const bootstrap = this.requireCluster().bootstrap.split(',');
      client = new AdminClient({ ...defaultClientOptions('bench-metadata'), deadlineMs: timeoutMs, bootstrap, routing });
      this.clients.set(timeoutMs, client);
    }
    return client;
  }

  private control(): AdminClient {
    this.controlClient ??= new AdminClient({ ...defaultClientOptions('bench-metadata-control'), deadlineMs: 5_000, bootstrap: this.requireCluster().bootstrap.split(',') });
    return this.controlClient;
  }

  private requireCluster(): LocalCluster {
    if (this.cluster === undefined) throw new Error('tributary target: not started');
    return this.cluster;
  }
}
