// Three combined Tributary nodes (controller and broker in one process each, as
// cluster/local.yaml) for a benchmark: started with `trib cluster up` on loopback
// (test/support/local-cluster.ts), durability fsync, ready once all three brokers are active.
// With a profile directory the nodes run under `node --cpu-prof` and are stopped with SIGTERM
// (`trib cluster down`) so that they write their profiles. The nodes are detached from the
// benchmark, so a process 'exit' handler (reached on SIGINT and SIGTERM through process.exit)
// SIGKILLs them through their pid files if the benchmark ends before stop().
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Admin } from '../../src/client/index.js';
import { LocalCluster } from '../../test/support/local-cluster.js';
import { cleanEnv, runTrib } from '../../test/support/trib-process.js';

export const nodeCount = 3;
/** Bound on `trib cluster up` and `down` with profiling nodes (slower to start, and they write profiles on exit). */
const clusterCommandTimeoutMs = 120_000;
/** Bound on every broker registering and becoming active after `cluster up`. */
const brokersActiveTimeoutMs = 30_000;
const pollIntervalMs = 100;
const logTailLines = 40;

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

export class TributaryBenchCluster {
  private readonly killOnExit = () => this.killSync();
  private stopped = false;

  private constructor(
    private readonly cluster: LocalCluster,
    private readonly profileDirectory: string | undefined,
  ) {
    process.on('exit', this.killOnExit);
  }

  /** Starts the nodes and waits until every broker is active, so topics get all three replicas. */
  static async start(profileDirectory: string | undefined): Promise<TributaryBenchCluster> {
    const cluster = await LocalCluster.create({ controllers: nodeCount, combined: true, settings: { durability: 'fsync', log: { level: 'warn' } } });
    const started = new TributaryBenchCluster(cluster, profileDirectory);
    try {
      if (profileDirectory === undefined) await cluster.up();
      else await upWithProfiler(cluster, profileDirectory);
      await started.waitForActiveBrokers();
      return started;
    } catch (error) {
      await started.stop();
      throw error;
    }
  }

  /** The nodes' gRPC addresses (every node is a broker). */
  addresses(): string[] {
    return this.cluster.bootstrap.split(',');
  }

  /** The last lines of every node's log (level warn), for errors raised while benchmarking. */
  logTails(): string {
    return this.cluster.ids.map((id) => `node ${id}:\n${logTail(join(this.cluster.nodeDirectory(id), 'node.log'))}`).join('\n');
  }

  /** Copies every node's whole log to a new temporary directory that outlives stop(), and returns it. */
  saveLogs(): string {
    const directory = mkdtempSync(join(tmpdir(), 'tributary-bench-logs-'));
    for (const id of this.cluster.ids) {
      const log = join(this.cluster.nodeDirectory(id), 'node.log');
      if (existsSync(log)) copyFileSync(log, join(directory, `node-${id}.log`));
    }
    return directory;
  }

  /** Kills the nodes (after SIGTERM when profiling) and removes their directory; safe to call more than once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      if (this.profileDirectory !== undefined) await runTrib(['cluster', 'down', '--config', this.cluster.configPath, '--json'], { timeoutMs: clusterCommandTimeoutMs });
      await this.cluster.destroy();
    } finally {
      process.off('exit', this.killOnExit);
    }
  }

  private async waitForActiveBrokers(): Promise<void> {
    const admin = new Admin({ bootstrap: this.addresses(), deadlineMs: 3_000 });
    const deadline = performance.now() + brokersActiveTimeoutMs;
    try {
      for (;;) {
        const described = await admin.describeCluster().catch(() => undefined);
        if (described?.brokers.filter((broker) => broker.state === 'active').length === nodeCount) return;
        if (performance.now() > deadline) throw new Error(`tributary: ${nodeCount} brokers were not active within ${brokersActiveTimeoutMs} ms; node logs:\n${this.logTails()}`);
        await sleep(pollIntervalMs);
      }
    } finally {
      admin.close();
    }
  }

  /** The 'exit' handler: only synchronous work is possible there. */
  private killSync(): void {
    for (const id of this.cluster.ids) {
      const pid = this.cluster.pid(id);
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    }
    rmSync(this.cluster.directory, { recursive: true, force: true });
  }
}

/** `trib cluster up` run under `--cpu-prof`: each node inherits the CLI's execArgv, so it profiles too. */
async function upWithProfiler(cluster: LocalCluster, profileDirectory: string): Promise<void> {
  const args = ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`, '--import', 'tsx', 'src/cli/main.ts', 'cluster', 'up', '--config', cluster.configPath, '--json'];
  const child = spawn(process.execPath, args, { cwd: repositoryRoot, env: cleanEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
  const [code] = await new Promise<[number | null]>((resolve) => child.once('exit', (exitCode) => resolve([exitCode])));
  if (code !== 0) throw new Error(`trib cluster up under --cpu-prof failed with exit code ${code}`);
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-logTailLines).join('\n');
  } catch {
    return '(no log written)';
  }
}
