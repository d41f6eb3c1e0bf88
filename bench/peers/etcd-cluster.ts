// A 3-member etcd cluster for benchmarks: each member a separate `etcd` OS process on 127.0.0.1
// with its own ports and data directory under one temporary root, and etcd's default durability
// (the WAL is fsynced before a write is acknowledged). Every wait is bounded and fails with an error
// that says what it waited for and shows the tail of the member's log. The processes and the
// temporary root are removed by stop(), and by a process 'exit' handler if the benchmark dies
// first (a SIGKILL of the benchmark itself cannot be caught; its etcd processes then outlive it).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { findExecutable } from './find-executable.js';

const execFileAsync = promisify(execFile);

export const etcdMemberCount = 3;
/** How long a fresh cluster may take to elect a leader and answer /health on every member. */
const clusterHealthyTimeoutMs = 30_000;
/** How long a restarted member may take to rejoin, catch up and answer /health. */
const memberHealthyTimeoutMs = 30_000;
/** How long a SIGKILLed or stopped member may take to be reaped. */
const memberExitTimeoutMs = 10_000;
/** How long the members may take to agree on one leader. */
const leaderAgreementTimeoutMs = 15_000;
const pollIntervalMs = 20;
/** etcd's defaults, passed explicitly so the report states what ran rather than what we assume. */
const heartbeatIntervalMs = 100;
const electionTimeoutMs = 1_000;
/** Bound on one HTTP probe, so a hung member cannot stall a poll loop. */
const probeTimeoutMs = 1_000;
/** Ports are picked free, then released for etcd to bind; another process may take one between. */
const clusterStartAttemptsMax = 3;
const logTailBytesMax = 2_000;

export interface EtcdMember {
  readonly index: number;
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDirectory: string;
  readonly logPath: string;
  process: ChildProcess | undefined;
  spawnError: string | undefined;
}

export interface EtcdClusterSettings {
  readonly etcdVersion: string;
  readonly members: number;
  /** Stated so a reader can compare them with the other target's (etcd 3.4 has pre-vote off by default). */
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
  readonly preVote: boolean;
}

export class EtcdCluster {
  readonly settings: EtcdClusterSettings;
  private readonly cleanupOnExit = () => this.cleanupSync();
  private stopped = false;

  private constructor(
    private readonly binary: string,
    private readonly rootDirectory: string,
    readonly members: readonly EtcdMember[],
    etcdVersion: string,
  ) {
    this.settings = { etcdVersion, members: members.length, heartbeatIntervalMs, electionTimeoutMs, preVote: false };
    process.on('exit', this.cleanupOnExit);
  }

  /** Starts the members and resolves once every one of them reports healthy. */
  static async start(): Promise<EtcdCluster> {
    const binary = findExecutable('etcd', 'etcd-server');
    const etcdVersion = await readEtcdVersion(binary);
    for (let attempt = 1; ; attempt++) {
      const rootDirectory = await mkdtemp(join(tmpdir(), 'tributary-bench-etcd-'));
      const cluster = new EtcdCluster(binary, rootDirectory, await planMembers(rootDirectory), etcdVersion);
      try {
        await cluster.launch();
        return cluster;
      } catch (error) {
        await cluster.stop();
        const portTaken = error instanceof Error && error.message.includes('address already in use');
        if (!portTaken || attempt >= clusterStartAttemptsMax) throw error;
      }
    }
  }

  clientUrls(): string[] {
    return this.members.map((member) => member.clientUrl);
  }

  /** The index of the member that every live member agrees is the leader. */
  async leaderIndex(): Promise<number> {
    let leader: number | undefined;
    await waitUntil('the etcd members to agree on a leader', leaderAgreementTimeoutMs, async () => {
      leader = await this.agreedLeader();
      return leader !== undefined;
    });
    if (leader === undefined) throw new Error('unreachable: waitUntil returned without a leader');
    return leader;
  }

  /** SIGKILLs the current leader; `killedAtMs` is performance.now() just before the signal. */
  async killLeader(): Promise<{ index: number; killedAtMs: number }> {
    const index = await this.leaderIndex();
    const member = this.member(index);
    const child = member.process;
    if (child === undefined) throw new Error(`etcd member ${member.name} is the leader but not running`);
    const killedAtMs = performance.now();
    child.kill('SIGKILL');
    await waitForExit(child, `etcd member ${member.name}`);
    return { index, killedAtMs };
  }

  /** Starts a stopped member on its old data directory and waits until it has rejoined. */
  async restart(index: number): Promise<void> {
    const member = this.member(index);
    if (member.process !== undefined) throw new Error(`etcd member ${member.name} is still running; kill it before restarting it`);
    this.spawnMember(member);
    await waitUntil(`restarted etcd member ${member.name} to report healthy`, memberHealthyTimeoutMs, () => this.memberHealthy(member));
  }

  /** Kills every member and removes the temporary root; safe to call more than once. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const running = this.members.flatMap((member) => (member.process === undefined ? [] : [{ member, child: member.process }]));
    for (const { child } of running) child.kill('SIGKILL');
    await Promise.all(running.map(({ member, child }) => waitForExit(child, `etcd member ${member.name}`)));
    await rm(this.rootDirectory, { recursive: true, force: true });
    process.off('exit', this.cleanupOnExit);
  }

  private async launch(): Promise<void> {
    for (const member of this.members) this.spawnMember(member);
    await waitUntil('every etcd member to report healthy', clusterHealthyTimeoutMs, async () => {
      const health = await Promise.all(this.members.map((member) => this.memberHealthy(member)));
      return health.every(Boolean);
    });
  }

  private spawnMember(member: EtcdMember): void {
    const logFd = openSync(member.logPath, 'a');
    try {
      const child = spawn(this.binary, memberArguments(member, this.members), { stdio: ['ignore', logFd, logFd], env: etcdFreeEnvironment() });
      member.process = child;
      member.spawnError = undefined;
      child.once('exit', () => {
        if (member.process === child) member.process = undefined;
      });
      // Without a listener a failed spawn would throw from the event loop; 'exit' may never follow.
      child.once('error', (error) => {
        member.spawnError = error.message;
        if (member.process === child) member.process = undefined;
      });
    } finally {
      closeSync(logFd);
    }
  }

  /** Whether the member answers /health with true; throws if its process has exited. */
  private async memberHealthy(member: EtcdMember): Promise<boolean> {
    if (member.spawnError !== undefined) throw new Error(`etcd member ${member.name} could not start: ${member.spawnError}`);
    if (member.process === undefined) throw new Error(`etcd member ${member.name} exited; its log ends:\n${logTail(member)}`);
    const body = await probe(`${member.clientUrl}/health`, undefined);
    return body !== undefined && (body as { health?: unknown }).health === 'true';
  }

  private async agreedLeader(): Promise<number | undefined> {
    const live = this.members.filter((member) => member.process !== undefined);
    const statuses = await Promise.all(live.map((member) => memberStatus(member)));
    const known = statuses.filter((status) => status !== undefined);
    const leaderId = known[0]?.leaderId;
    if (leaderId === undefined || leaderId === '0' || known.length * 2 <= this.members.length) return undefined;
    if (!known.every((status) => status.leaderId === leaderId)) return undefined;
    return known.find((status) => status.memberId === leaderId)?.index;
  }

  private member(index: number): EtcdMember {
    const member = this.members[index];
    if (member === undefined) throw new Error(`etcd member index ${index} does not exist; the cluster has ${this.members.length} members`);
    return member;
  }

  /** The 'exit' handler: only synchronous work is possible there. */
  private cleanupSync(): void {
    for (const member of this.members) member.process?.kill('SIGKILL');
    rmSync(this.rootDirectory, { recursive: true, force: true });
  }
}

/** Two free ports per member; data directory and log under `rootDirectory` (etcd creates the former). */
async function planMembers(rootDirectory: string): Promise<EtcdMember[]> {
  const ports = await freePorts(etcdMemberCount * 2);
  return Array.from({ length: etcdMemberCount }, (_, index) => ({
    index,
    name: `member-${index}`,
    clientUrl: `http://127.0.0.1:${ports[index * 2]}`,
    peerUrl: `http://127.0.0.1:${ports[index * 2 + 1]}`,
    dataDirectory: join(rootDirectory, `member-${index}.data`),
    logPath: join(rootDirectory, `member-${index}.log`),
    process: undefined,
    spawnError: undefined,
  }));
}

/** Binds `count` listeners to port 0 at once, so the ports are distinct, then releases them. */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, '127.0.0.1', () => {
              const address = server.address();
              if (address === null || typeof address === 'string') reject(new Error('port 0 listener has no TCP address'));
              else resolve(address.port);
            });
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

function memberArguments(member: EtcdMember, members: readonly EtcdMember[]): string[] {
  const initialCluster = members.map((peer) => `${peer.name}=${peer.peerUrl}`).join(',');
  return [
    '--name', member.name,
    '--data-dir', member.dataDirectory,
    '--listen-client-urls', member.clientUrl,
    '--advertise-client-urls', member.clientUrl,
    '--listen-peer-urls', member.peerUrl,
    '--initial-advertise-peer-urls', member.peerUrl,
    '--initial-cluster', initialCluster,
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', 'tributary-bench',
    '--heartbeat-interval', String(heartbeatIntervalMs),
    '--election-timeout', String(electionTimeoutMs),
    '--logger', 'zap',
    '--log-level', 'warn',
  ];
}

/** ETCD_* variables would conflict with the flags above, and etcd refuses to start on a conflict. */
function etcdFreeEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ETCD_')));
}

async function memberStatus(member: EtcdMember): Promise<{ index: number; memberId: string; leaderId: string } | undefined> {
  const body = (await probe(`${member.clientUrl}/v3/maintenance/status`, '{}')) as
    | { header?: { member_id?: string }; leader?: string }
    | undefined;
  const memberId = body?.header?.member_id;
  const leaderId = body?.leader;
  if (memberId === undefined || leaderId === undefined) return undefined;
  return { index: member.index, memberId, leaderId };
}

/** GET (no body) or POST (JSON body) to etcd's HTTP gateway; undefined when the member does not answer. */
async function probe(url: string, body: string | undefined): Promise<unknown> {
  try {
    const response = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      body,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(probeTimeoutMs),
    });
    return response.ok ? await response.json() : undefined;
  } catch {
    return undefined;
  }
}

async function waitUntil(what: string, timeoutMs: number, condition: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollIntervalMs);
  }
}

async function waitForExit(child: ChildProcess, label: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} (pid ${child.pid}) did not exit within ${memberExitTimeoutMs} ms`)), memberExitTimeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function logTail(member: EtcdMember): string {
  try {
    const log = readFileSync(member.logPath, 'utf8');
    return log.slice(-logTailBytesMax);
  } catch {
    return '(no log written)';
  }
}

async function readEtcdVersion(binary: string): Promise<string> {
  const { stdout } = await execFileAsync(binary, ['--version'], { timeout: memberExitTimeoutMs });
  return /etcd Version: (\S+)/.exec(stdout)?.[1] ?? 'unknown';
}
