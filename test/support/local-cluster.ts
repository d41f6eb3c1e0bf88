import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { isProcessRunning, runningPid } from '../../src/node/pid-file.js';
import { freePorts } from './free-ports.js';
import { runTrib, type TribResult } from './trib-process.js';

/** How long a killed process may take to disappear before the fixture complains. */
const exitTimeoutMs = 10_000;
/** `cluster up` starts and waits for every node; on a loaded 2-core machine that takes a while. */
const clusterUpTimeoutMs = 90_000;

export interface LocalClusterOptions {
  readonly controllers: number;
  /** Broker-only nodes, numbered after the controllers; none by default. */
  readonly brokers?: number;
  /** The controllers are brokers too (roles [controller, broker]), as in cluster/local.yaml. */
  readonly combined?: boolean;
  /** Node config keys for every node (the cluster file's `settings`). */
  readonly settings?: Record<string, unknown>;
}

interface ClusterMember {
  id: number;
  roles: string[];
  grpc: string;
  metrics: string;
}

/**
 * A multi-process cluster on loopback for tests and benchmarks, driven through the real CLI:
 * a cluster file with free ports in a temporary directory, `trib cluster up|down`, and SIGKILL
 * through the pid files the nodes write.
 */
export class LocalCluster {
  private constructor(
    readonly directory: string,
    readonly configPath: string,
    private readonly members: ClusterMember[],
    private readonly settings: Record<string, unknown>,
  ) {}

  static async create(options: LocalClusterOptions): Promise<LocalCluster> {
    const directory = mkdtempSync(join(tmpdir(), 'trib-local-cluster-'));
    const members: ClusterMember[] = [];
    const nodes = options.controllers + (options.brokers ?? 0);
    const ports = await freePorts(2 * nodes);
    for (let id = 1; id <= nodes; id++) {
      const roles = id > options.controllers ? ['broker'] : options.combined ? ['controller', 'broker'] : ['controller'];
      members.push({ id, roles, grpc: `127.0.0.1:${ports[2 * id - 2]}`, metrics: `127.0.0.1:${ports[2 * id - 1]}` });
    }
    const cluster = new LocalCluster(directory, join(directory, 'cluster.yaml'), members, options.settings ?? {});
    cluster.writeConfig();
    return cluster;
  }

  /** Adds a member to the cluster file (for AddController); `cluster up` then starts it. */
  async addMember(id: number): Promise<string> {
    const [grpcPort, metricsPort] = await freePorts(2);
    const member = { id, roles: ['controller'], grpc: `127.0.0.1:${grpcPort}`, metrics: `127.0.0.1:${metricsPort}` };
    this.members.push(member);
    this.writeConfig();
    return member.grpc;
  }

  get ids(): number[] {
    return this.members.map((member) => member.id);
  }

  /** The comma-separated gRPC addresses of the controllers, for `--bootstrap`. */
  get bootstrap(): string {
    return this.members.filter((member) => member.roles.includes('controller')).map((member) => member.grpc).join(',');
  }

  address(id: number): string {
    const member = this.members.find((candidate) => candidate.id === id);
    if (member === undefined) throw new Error(`no node ${id} in the local cluster`);
    return member.grpc;
  }

  /** The metrics/health HTTP "host:port" of node `id`. */
  metricsAddress(id: number): string {
    const member = this.members.find((candidate) => candidate.id === id);
    if (member === undefined) throw new Error(`no node ${id} in the local cluster`);
    return member.metrics;
  }

  nodeDirectory(id: number): string {
    return join(this.directory, 'data', String(id));
  }

  async up(): Promise<TribResult> {
    const result = await runTrib(['cluster', 'up', '--config', this.configPath, '--json'], { timeoutMs: clusterUpTimeoutMs });
    if (result.code !== 0) throw new Error(`trib cluster up failed (${result.code}): ${result.stderr}${result.stdout}`);
    return result;
  }

  pid(id: number): number | undefined {
    return runningPid(this.nodeDirectory(id));
  }

  /** SIGKILLs node `id` and waits until it is gone. */
  async kill(id: number): Promise<void> {
    await this.signal(id, 'SIGKILL');
  }

  /** Sends `signal` to node `id` and waits until its process is gone. */
  async signal(id: number, signal: NodeJS.Signals): Promise<void> {
    const pid = this.pid(id);
    if (pid === undefined) throw new Error(`node ${id} is not running`);
    process.kill(pid, signal);
    const deadline = Date.now() + exitTimeoutMs;
    while (isProcessRunning(pid)) {
      if (Date.now() > deadline) throw new Error(`node ${id} (pid ${pid}) did not exit within ${exitTimeoutMs} ms of ${signal}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops every node (SIGKILL: tests do not wait for graceful shutdowns) and removes the directory. */
  async destroy(): Promise<void> {
    for (const id of this.ids) {
      const pid = this.pid(id);
      if (pid !== undefined) await this.kill(id);
    }
    rmSync(this.directory, { recursive: true, force: true });
  }

  private writeConfig(): void {
    const cluster = { dataDir: join(this.directory, 'data'), nodes: this.members, settings: { log: { level: 'info' }, ...this.settings } };
    writeFileSync(this.configPath, toYaml(cluster));
  }
}
