// etcd 3.4 as a MetadataBenchTarget: a 3-member EtcdCluster and the `etcd3` npm client (over
// @grpc/grpc-js), one Put per write, no lease. Writes go to the leader, the way etcd's own benchmark
// tool measures with --target-leader and the way a leader-aware Tributary client sends them; while
// the leader is dead, each failover probe goes to a random member, as a plain multi-endpoint etcd
// client would, and a follower forwards it once it knows the new leader.
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import type { MetadataBenchTarget } from '../metadata-workload.js';
import { EtcdCluster } from './etcd-cluster.js';

/**
 * The workload owns retries and timing, so the client's own fault handling is off: its default
 * retries 3 times and opens a 5-second circuit per member after 3 failures, which would hide
 * failures and add seconds to the failover time.
 */
const faultHandlingOff = { host: () => noop, global: noop };

export class EtcdTarget implements MetadataBenchTarget {
  readonly name = 'etcd';
  private cluster: EtcdCluster | undefined;
  /** Talks to the leader only; closed when the leader is killed, made again after the restart. */
  private leaderClient: Etcd3 | undefined;
  /** Talks to every member, choosing one at random per call. */
  private anyMemberClient: Etcd3 | undefined;
  private killedIndex: number | undefined;

  async start(): Promise<void> {
    const cluster = await EtcdCluster.start();
    this.cluster = cluster;
    this.anyMemberClient = new Etcd3({ hosts: cluster.clientUrls(), faultHandling: faultHandlingOff });
    await this.pinLeader();
  }

  async write(key: string, value: Uint8Array, timeoutMs: number): Promise<void> {
    const client = this.leaderClient ?? this.anyMemberClient;
    if (client === undefined) throw new Error('etcd target: write before start()');
    const buffer = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    await client.put(key).value(buffer).options({ deadline: Date.now() + timeoutMs });
  }

  async killLeader(): Promise<{ killedAtMs: number }> {
    if (this.killedIndex !== undefined) throw new Error(`etcd target: member ${this.killedIndex} is already killed; restart it first`);
    this.leaderClient?.close();
    this.leaderClient = undefined;
    const { index, killedAtMs } = await this.requireCluster().killLeader();
    this.killedIndex = index;
    return { killedAtMs };
  }

  async restartKilled(): Promise<void> {
    if (this.killedIndex === undefined) throw new Error('etcd target: no member was killed');
    await this.requireCluster().restart(this.killedIndex);
    this.killedIndex = undefined;
    await this.pinLeader();
  }

  async stop(): Promise<void> {
    this.leaderClient?.close();
    this.anyMemberClient?.close();
    this.leaderClient = undefined;
    this.anyMemberClient = undefined;
    await this.cluster?.stop();
  }

  settings(): Record<string, unknown> {
    return {
      ...this.cluster?.settings,
      client: 'etcd3 (npm) over @grpc/grpc-js, Put without lease',
      routing: 'writes to the leader; failover probes to a random member',
      durability: 'etcd default: WAL fsynced before the ack',
    };
  }

  private async pinLeader(): Promise<void> {
    const cluster = this.requireCluster();
    const leaderUrl = cluster.clientUrls()[await cluster.leaderIndex()];
    if (leaderUrl === undefined) throw new Error('etcd target: the leader index has no client URL');
    this.leaderClient = new Etcd3({ hosts: leaderUrl, faultHandling: faultHandlingOff });
  }

  private requireCluster(): EtcdCluster {
    if (this.cluster === undefined) throw new Error('etcd target: not started');
    return this.cluster;
  }
}
