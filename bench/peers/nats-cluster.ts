// A 3-node NATS JetStream cluster for benchmarks: each node a separate `nats-server` OS process on
// 127.0.0.1 with its own client and route ports, its own JetStream store directory under one
// temporary root, and JetStream's default durability (nats-server 2.9 writes each message to its
// file store and syncs it to disk on a 2-minute timer, not before the publish ack). The processes
// and the root are removed by stop(), and by a process 'exit' handler if the benchmark dies first.
// `maxPayloadBytes` raises NATS' largest message (1 MiB by default, headers included), for
// benchmarks that publish 1 MiB payloads.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from '../../test/support/free-ports.js';
import { findExecutable } from './find-executable.js';

const execFileAsync = promisify(execFile);

export const natsNodeCount = 3;
/** How long a node may take to exit after SIGKILL. */
const nodeExitTimeoutMs = 10_000;
const logTailBytesMax = 2_000;

export interface NatsClusterOptions {
  /** Each node's max_payload: the largest message, headers included (nats-server's default is 1 MiB). */
  readonly maxPayloadBytes?: number;
}

interface NatsNode {
  readonly name: string;
  readonly clientPort: number;
  readonly routePort: number;
  readonly configPath: string;
  readonly logPath: string;
  process: ChildProcess | undefined;
}

export class NatsCluster {
  private readonly cleanupOnExit = () => this.cleanupSync();
  private stopped = false;

  private constructor(
    private readonly binary: string,
    private readonly rootDirectory: string,
    private readonly nodes: readonly NatsNode[],
    readonly version: string,
    private readonly options: NatsClusterOptions,
  ) {
    process.on('exit', this.cleanupOnExit);
  }

  /** Starts the nodes; the caller waits for JetStream to be ready (a stream can be created). */
  static async start(options: NatsClusterOptions = {}): Promise<NatsCluster> {
    const binary = findExecutable('nats-server', 'nats-server');
    const version = await readNatsVersion(binary);
    const rootDirectory = await mkdtemp(join(tmpdir(), 'tributary-bench-nats-'));
    const ports = await freePorts(natsNodeCount * 2);
    const nodes = Array.from({ length: natsNodeCount }, (_, index): NatsNode => ({
      name: `nats-${index + 1}`,
      clientPort: ports[index * 2] ?? 0,
      routePort: ports[index * 2 + 1] ?? 0,
      configPath: join(rootDirectory, `nats-${index + 1}.conf`),
      logPath: join(rootDirectory, `nats-${index + 1}.log`),
      process: undefined,
    }));
    const cluster = new NatsCluster(binary, rootDirectory, nodes, version, options);
    for (const node of nodes) cluster.spawnNode(node);
    return cluster;
  }

  /** Client URLs of every node, for the client's server list. */
  servers(): string[] {
    return this.nodes.map((node) => `127.0.0.1:${node.clientPort}`);
  }

  /** The tail of every node's log, for errors raised while waiting on the cluster. */
  logTails(): string {
    return this.nodes.map((node) => `${node.name}:\n${logTail(node.logPath)}`).join('\n');
  }

  /** Kills every node and removes the temporary root; safe to call more than once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const running = this.nodes.flatMap((node) => (node.process === undefined ? [] : [node.process]));
    for (const child of running) child.kill('SIGKILL');
    await Promise.all(running.map((child) => waitForExit(child)));
    rmSync(this.rootDirectory, { recursive: true, force: true });
    process.off('exit', this.cleanupOnExit);
  }

  private spawnNode(node: NatsNode): void {
    writeFileSync(node.configPath, nodeConfig(node, this.nodes, join(this.rootDirectory, `${node.name}.store`), this.options));
    const logFd = openSync(node.logPath, 'a');
    try {
      const child = spawn(this.binary, ['-c', node.configPath], { stdio: ['ignore', logFd, logFd] });
      node.process = child;
      child.once('exit', () => {
        if (node.process === child) node.process = undefined;
      });
      // Without a listener a failed spawn would throw from the event loop.
      child.once('error', () => {
        if (node.process === child) node.process = undefined;
      });
    } finally {
      closeSync(logFd);
    }
  }

  /** The 'exit' handler: only synchronous work is possible there. */
  private cleanupSync(): void {
    for (const node of this.nodes) node.process?.kill('SIGKILL');
    rmSync(this.rootDirectory, { recursive: true, force: true });
  }
}

/** server_name is required for clustered JetStream; every node lists every route, itself included (NATS ignores its own). */
function nodeConfig(node: NatsNode, nodes: readonly NatsNode[], storeDirectory: string, options: NatsClusterOptions): string {
  const routes = nodes.map((peer) => `nats-route://127.0.0.1:${peer.routePort}`).join(', ');
  return [
    `server_name: ${node.name}`,
    `listen: 127.0.0.1:${node.clientPort}`,
    ...(options.maxPayloadBytes === undefined ? [] : [`max_payload: ${options.maxPayloadBytes}`]),
    `jetstream { store_dir: "${storeDirectory}" }`,
    `cluster { name: tributary-bench, listen: 127.0.0.1:${node.routePort}, routes: [${routes}] }`,
    '',
  ].join('\n');
}

async function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server (pid ${child.pid}) did not exit within ${nodeExitTimeoutMs} ms`)), nodeExitTimeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-logTailBytesMax);
  } catch {
    return '(no log written)';
  }
}

async function readNatsVersion(binary: string): Promise<string> {
  const { stdout } = await execFileAsync(binary, ['--version'], { timeout: nodeExitTimeoutMs });
  return /v(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? 'unknown';
}
