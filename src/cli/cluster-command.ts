import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { type ClusterConfig, type ClusterNode, clusterNodeConfig, loadClusterConfig, nodeDataDir } from '../config/cluster-config.js';
import { loadConfig } from '../config/index.js';
import { isProcessRunning, runningPid } from '../node/pid-file.js';
import { storageDirectoryName } from '../storage/open-node-storage.js';
import { checkHealth, defaultClientOptions } from '../rpc/clients/index.js';
import { exitCodes } from './cli-error.js';

/** How long `cluster up` waits for a started node to serve, and `cluster down` for one to exit. */
const nodeStartTimeoutMs = 30_000;
const nodeStopTimeoutMs = 15_000;
const pollIntervalMs = 100;
/** Lines of a node's log shown when it fails to start. */
const logTailLines = 20;

interface ClusterFlags {
  config: string;
  json?: boolean;
}

/** `trib cluster up|down|status --config cluster/local.yaml`: a multi-process cluster on this machine. */
export function clusterCommand(): Command {
  const cluster = new Command('cluster').description('start, stop and inspect a multi-process cluster on this machine');
  cluster.addCommand(subcommand('up', 'start every node of the config that is not running (idempotent)', clusterUp));
  cluster.addCommand(subcommand('down', 'stop every running node of the config (SIGTERM, then SIGKILL after 15 s)', clusterDown));
  cluster.addCommand(subcommand('status', 'show which nodes run and whether they serve', clusterStatus));
  return cluster;
}

function subcommand(name: string, description: string, action: (cluster: ClusterConfig, flags: ClusterFlags) => Promise<void>): Command {
  return new Command(name)
    .description(description)
    .requiredOption('-c, --config <file>', 'cluster file, e.g. cluster/local.yaml')
    .option('--json', 'machine-readable output')
    .action((flags: ClusterFlags) => action(loadClusterConfig(flags.config), flags));
}

interface NodeReport {
  id: number;
  roles: string[];
  grpc: string;
  pid: number | undefined;
  state: string;
}

function report(reports: NodeReport[], flags: ClusterFlags): void {
  if (flags.json) {
    console.log(JSON.stringify({ nodes: reports }));
    return;
  }
  for (const node of reports) {
    console.log(`node ${node.id} [${node.roles.join(',')}] ${node.grpc} pid ${node.pid ?? '-'}: ${node.state}`);
  }
}

async function clusterUp(cluster: ClusterConfig, flags: ClusterFlags): Promise<void> {
  const reports: NodeReport[] = [];
  const started: Array<{ node: ClusterNode; pid: number }> = [];
  for (const node of cluster.nodes) {
    const pid = runningPid(nodeDataDir(cluster, node.id));
    if (pid !== undefined) {
      reports.push({ ...describe(node), pid, state: 'already running' });
      continue;
    }
    started.push({ node, pid: startNodeProcess(cluster, node) });
  }
  for (const { node, pid } of started) {
    await waitUntilServing(cluster, node, pid);
    reports.push({ ...describe(node), pid, state: 'started' });
  }
  report(reports.sort((left, right) => left.id - right.id), flags);
}

/**
 * Writes the node's config beside its data and starts `trib node` on it, detached, logging to
 * node.log. A controller whose data directory is gone while another node's is there lost its
 * disk: it starts with `controller.join` and waits for AddController instead of bootstrapping.
 */
function startNodeProcess(cluster: ClusterConfig, node: ClusterNode): number {
  const dataDir = nodeDataDir(cluster, node.id);
  const mustJoin = node.roles.includes('controller') && !hasStoredData(dataDir) && cluster.nodes.some((other) => hasStoredData(nodeDataDir(cluster, other.id)));
  mkdirSync(dataDir, { recursive: true });
  const configPath = join(dataDir, 'node.yaml');
  writeFileSync(configPath, toYaml(clusterNodeConfig(cluster, node, mustJoin)));
  loadConfig({ file: configPath, env: {} });
  const log = openSync(join(dataDir, 'node.log'), 'a');
  try {
    // The same program and loader flags as this CLI, so a cluster started from source runs source.
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? '', 'node', '--config', configPath], {
      detached: true,
      stdio: ['ignore', log, log],
      env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TRIB_'))),
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`node ${node.id} could not be started`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

function hasStoredData(dataDir: string): boolean {
  return existsSync(join(dataDir, storageDirectoryName));
}

async function waitUntilServing(cluster: ClusterConfig, node: ClusterNode, pid: number): Promise<void> {
  const deadline = Date.now() + nodeStartTimeoutMs;
  const options = { ...defaultClientOptions('trib-cluster'), deadlineMs: 1_000 };
  while (Date.now() < deadline) {
    if (!isProcessRunning(pid)) throw new Error(`node ${node.id} exited during start-up; the end of its log:\n${logTail(cluster, node)}`);
    const status = await checkHealth(node.grpc, '', options).catch(() => 'UNREACHABLE');
    if (status === 'SERVING') return;
    await sleep(pollIntervalMs);
  }
  throw new Error(`node ${node.id} did not serve on ${node.grpc} within ${nodeStartTimeoutMs} ms; the end of its log:\n${logTail(cluster, node)}`);
}

async function clusterDown(cluster: ClusterConfig, flags: ClusterFlags): Promise<void> {
  const running = cluster.nodes.flatMap((node) => {
    const pid = runningPid(nodeDataDir(cluster, node.id));
    return pid === undefined ? [] : [{ node, pid }];
  });
  for (const { pid } of running) process.kill(pid, 'SIGTERM');
  const reports: NodeReport[] = [];
  for (const { node, pid } of running) {
    const graceful = await waitForExit(pid, nodeStopTimeoutMs);
    if (!graceful) process.kill(pid, 'SIGKILL');
    reports.push({ ...describe(node), pid, state: graceful ? 'stopped' : `killed after ${nodeStopTimeoutMs} ms` });
  }
  report(reports, flags);
}

async function clusterStatus(cluster: ClusterConfig, flags: ClusterFlags): Promise<void> {
  const options = { ...defaultClientOptions('trib-cluster'), deadlineMs: 2_000 };
  const reports = await Promise.all(
    cluster.nodes.map(async (node): Promise<NodeReport> => {
      const pid = runningPid(nodeDataDir(cluster, node.id));
      const state = pid === undefined ? 'not running' : await checkHealth(node.grpc, '', options).catch(() => 'UNREACHABLE');
      return { ...describe(node), pid, state };
    }),
  );
  report(reports, flags);
  if (reports.some((node) => node.state !== 'SERVING')) process.exitCode = exitCodes.failed;
}

function describe(node: ClusterNode): Omit<NodeReport, 'pid' | 'state'> {
  return { id: node.id, roles: node.roles, grpc: node.grpc };
}

function logTail(cluster: ClusterConfig, node: ClusterNode): string {
  try {
    return readFileSync(join(nodeDataDir(cluster, node.id), 'node.log'), 'utf8').trimEnd().split('\n').slice(-logTailLines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessRunning(pid)) return true;
    await sleep(pollIntervalMs);
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
