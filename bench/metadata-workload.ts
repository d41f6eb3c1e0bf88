// The controller-quorum workload of bench/metadata.ts, the same for every target: durable writes of
// 256-byte values (topic-config updates, or an equivalent command) to a 3-member quorum, in three
// phases on one freshly started cluster:
//   sequential  one client, one write at a time: latency p50, p99 and max;
//   concurrent  `concurrentClients` writers sharing `concurrentWrites` writes: writes per second;
//   failover    SIGKILL the leader, probe with writes until one succeeds: time from the kill to
//               that success; restart the killed member and wait until it is healthy; median of
//               `failoverTrials` trials.
// A target adapts one system to MetadataBenchTarget; the workload owns all timing and retrying, so
// a target must not retry internally (a retrying client would hide or add failover time).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from './bench-statistics.js';

/** One system under test: a 3-member quorum and a client that writes to it. */
export interface MetadataBenchTarget {
  readonly name: string;
  /** Starts the quorum and resolves once it accepts writes. */
  start(): Promise<void>;
  /** One durable write, attempted once and abandoned after `timeoutMs`; rejects on any failure. */
  write(key: string, value: Uint8Array, timeoutMs: number): Promise<void>;
  /** SIGKILLs the current leader; `killedAtMs` is performance.now() just before the signal. */
  killLeader(): Promise<{ killedAtMs: number }>;
  /** Restarts the member killLeader() killed and resolves once it has rejoined, healthy. */
  restartKilled(): Promise<void>;
  /** Stops every process and removes every file the target made; safe after a failed start. */
  stop(): Promise<void>;
  /** What a reader needs to compare targets fairly: version, election timeout, durability. */
  settings(): Record<string, unknown>;
}

export interface MetadataWorkloadOptions {
  readonly sequentialWrites: number;
  readonly concurrentClients: number;
  readonly concurrentWrites: number;
  readonly failoverTrials: number;
}

export interface MetadataWorkloadResult {
  readonly sequentialLatencyMsP50: number;
  readonly sequentialLatencyMsP99: number;
  readonly sequentialLatencyMsMax: number;
  readonly concurrentWritesPerSecond: number;
  readonly concurrentLatencyMsP50: number;
  readonly concurrentLatencyMsP99: number;
  readonly failoverMsMedian: number;
  readonly failoverMsTrials: readonly number[];
}

export const valueBytes = 256;
/** Writes cycle over this many topic-config keys, so most writes update an existing key. */
const topicCount = 100;
/** Unmeasured writes first, so connection set-up and first-use costs stay out of the figures. */
const warmupWrites = 100;
/** Bound on one write in the sequential and concurrent phases; a slower write fails the run. */
const writeTimeoutMs = 10_000;
/** A failover probe starts every probeIntervalMs... */
const probeIntervalMs = 5;
/** ...and gives up after probeTimeoutMs, so a write stuck on a dead leader cannot delay the figure. */
const probeTimeoutMs = 500;
/** Bound on overlapping probes: probeTimeoutMs / probeIntervalMs, so it binds only if timers lag. */
const probesInFlightMax = probeTimeoutMs / probeIntervalMs;
/** A quorum that has not accepted a write this long after losing its leader fails the run. */
const failoverTimeoutMs = 30_000;
/** Distinct values, made once, so generating bytes costs nothing inside the measured loops. */
const valuePoolSize = 64;

const valuePool = Array.from({ length: valuePoolSize }, () => new Uint8Array(randomBytes(valueBytes)));

function valueFor(sequence: number): Uint8Array {
  const value = valuePool[sequence % valuePoolSize];
  if (value === undefined) throw new Error(`value pool has no entry ${sequence % valuePoolSize}`);
  return value;
}

function topicConfigKey(sequence: number): string {
  return `topics/topic-${sequence % topicCount}/config`;
}

/** Nearest-rank percentile (`rank` in (0, 100]) of unsorted values. */
function percentile(values: readonly number[], rank: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((rank / 100) * sorted.length))) - 1] ?? 0;
}

/** The figures of the sequential and concurrent phases. */
export type WritePhasesResult = Omit<MetadataWorkloadResult, 'failoverMsMedian' | 'failoverMsTrials'>;

/** Something that takes writes: a quorum's client, or the transport-ceiling server's. */
export type WriteFunction = (key: string, value: Uint8Array, timeoutMs: number) => Promise<void>;

/** Runs the three phases on `target`, from start() to stop(), and returns its figures. */
export async function runMetadataWorkload(target: MetadataBenchTarget, options: MetadataWorkloadOptions): Promise<MetadataWorkloadResult> {
  assertOptions(options);
  try {
    await target.start();
    const phases = await runWritePhases((key, value, timeoutMs) => target.write(key, value, timeoutMs), options);
    const failoverMsTrials = await measureFailovers(target, options.failoverTrials);
    return { ...phases, failoverMsMedian: median(failoverMsTrials), failoverMsTrials };
  } finally {
    await target.stop();
  }
}

/** Warm-up, then the sequential and the concurrent phase through `write`. */
export async function runWritePhases(write: WriteFunction, options: MetadataWorkloadOptions): Promise<WritePhasesResult> {
  assertOptions(options);
  await writeSequentially(write, warmupWrites);
  const sequential = await writeSequentially(write, options.sequentialWrites);
  const concurrent = await writeConcurrently(write, options.concurrentClients, options.concurrentWrites);
  return {
    sequentialLatencyMsP50: percentile(sequential, 50),
    sequentialLatencyMsP99: percentile(sequential, 99),
    sequentialLatencyMsMax: Math.max(...sequential),
    concurrentWritesPerSecond: concurrent.writesPerSecond,
    concurrentLatencyMsP50: percentile(concurrent.latenciesMs, 50),
    concurrentLatencyMsP99: percentile(concurrent.latenciesMs, 99),
  };
}

function assertOptions(options: MetadataWorkloadOptions): void {
  const { sequentialWrites, concurrentClients, concurrentWrites, failoverTrials } = options;
  for (const [name, value] of Object.entries({ sequentialWrites, concurrentClients, concurrentWrites, failoverTrials })) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`workload option ${name} must be a positive integer, got ${value}`);
  }
}

/** `writes` writes, one at a time; returns each write's latency in ms. */
async function writeSequentially(write: WriteFunction, writes: number): Promise<number[]> {
  const latenciesMs: number[] = [];
  for (let sequence = 0; sequence < writes; sequence++) {
    const started = performance.now();
    await write(topicConfigKey(sequence), valueFor(sequence), writeTimeoutMs);
    latenciesMs.push(performance.now() - started);
  }
  return latenciesMs;
}

/** `clients` writers take writes from one shared count until `writes` are done. */
async function writeConcurrently(write: WriteFunction, clients: number, writes: number): Promise<{ writesPerSecond: number; latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  let nextSequence = 0;
  const writer = async (): Promise<void> => {
    while (nextSequence < writes) {
      const sequence = nextSequence++;
      const started = performance.now();
      await write(topicConfigKey(sequence), valueFor(sequence), writeTimeoutMs);
      latenciesMs.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, writer));
  const elapsedSeconds = (performance.now() - started) / 1000;
  return { writesPerSecond: writes / elapsedSeconds, latenciesMs };
}

/** One failover time per trial; each trial leaves the quorum whole again for the next. */
async function measureFailovers(target: MetadataBenchTarget, trials: number): Promise<number[]> {
  const failoverMs: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const { killedAtMs } = await target.killLeader();
    const succeededAtMs = await probeUntilWriteSucceeds(target, trial);
    failoverMs.push(succeededAtMs - killedAtMs);
    await target.restartKilled();
  }
  return failoverMs;
}

/**
 * Starts a write every probeIntervalMs, each abandoned after probeTimeoutMs, and returns when the
 * first one succeeded. Probes overlap so that one stuck on the dead leader cannot hold back the
 * measurement: the figure's resolution is probeIntervalMs, not probeTimeoutMs.
 */
async function probeUntilWriteSucceeds(target: MetadataBenchTarget, trial: number): Promise<number> {
  const probe = { succeededAtMs: undefined as number | undefined, lastError: undefined as unknown, started: 0 };
  const inFlight = new Set<Promise<void>>();
  const deadlineMs = performance.now() + failoverTimeoutMs;
  while (probe.succeededAtMs === undefined) {
    if (performance.now() > deadlineMs) {
      await Promise.all(inFlight);
      throw new Error(`no write succeeded within ${failoverTimeoutMs} ms of killing the ${target.name} leader (trial ${trial + 1}, ${probe.started} probes); last error: ${String(probe.lastError)}`);
    }
    if (inFlight.size < probesInFlightMax) {
      const sequence = probe.started++;
      const attempt: Promise<void> = target
        .write(`failover/trial-${trial}/probe-${sequence}`, valueFor(sequence), probeTimeoutMs)
        .then(
          () => {
            probe.succeededAtMs ??= performance.now();
          },
          (error: unknown) => {
            probe.lastError = error;
          },
        )
        .finally(() => inFlight.delete(attempt));
      inFlight.add(attempt);
    }
    await sleep(probeIntervalMs);
  }
  // Stragglers end within probeTimeoutMs; let them, so none lands during the restart.
  await Promise.all(inFlight);
  return probe.succeededAtMs;
}
