/**
 * The simulator's command line:
 *   npm run sim -- --seeds N [--from S] [--bug NAME] [--jobs J]   run N seeds on J worker threads, a
 *                                                                  report per failure, then a JSON summary
 *   npm run sim -- --seed S [--trace] [--bug NAME]                replay one seed, with a readable event trace
 * Either takes --swarm NAME=VALUE[,NAME=VALUE], which pins swarm knobs (the rest are still drawn),
 * e.g. --swarm metadataBrokerCount=4 runs every seed with the metadata workload, and
 * --swarm metadataBrokerCount=3,replicationPartitionCount=2 every seed with the replication workload.
 * Exits 1 when any run fails, 2 on bad arguments.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { formatFailure } from './sim-failure.js';
import type { WorkerResult, WorkerTask } from './sim-worker.js';
import { Prng } from './prng.js';
import { runSimulation } from './simulation.js';
import { drawSwarmOptions, simBugs, type SimBug, type SwarmOverrides } from './swarm-options.js';

/** Seeds run by a bare `npm run sim`. */
const defaultSeedCount = 2000;

interface Arguments {
  seeds: number;
  from: number;
  bug: SimBug | undefined;
  overrides: SwarmOverrides;
  trace: boolean;
  single: boolean;
  jobs: number;
}

function parseArguments(argv: readonly string[]): Arguments {
  const parsed: Arguments = { seeds: defaultSeedCount, from: 1, bug: undefined, overrides: {}, trace: false, single: false, jobs: availableParallelism() };
  for (let position = 0; position < argv.length; position++) {
    const flag = argv[position];
    const value = (): string => {
      const next = argv[++position];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    if (flag === '--seeds') parsed.seeds = integer(flag, value());
    else if (flag === '--from') parsed.from = integer(flag, value());
    else if (flag === '--seed') [parsed.from, parsed.seeds, parsed.single] = [integer(flag, value()), 1, true];
    else if (flag === '--trace') [parsed.trace, parsed.single] = [true, true];
    else if (flag === '--bug') parsed.bug = bugName(value());
    else if (flag === '--swarm') parsed.overrides = { ...parsed.overrides, ...swarmOverrides(value()) };
    else if (flag === '--jobs') parsed.jobs = Math.max(1, integer(flag, value()));
    else throw new Error(`unknown argument ${flag}; use --seeds N [--from S] [--bug NAME] [--swarm NAME=VALUE,...] or --seed S --trace`);
  }
  return parsed;
}

function integer(flag: string | undefined, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${flag} needs an integer, got "${text}"`);
  return value;
}

function bugName(text: string): SimBug {
  const bug = simBugs.find((name) => name === text);
  if (bug === undefined) throw new Error(`unknown bug "${text}"; choose one of ${simBugs.join(', ')}`);
  return bug;
}

/** `name=value,...` over the swarm knobs; a value takes the type of the knob (number or boolean). */
function swarmOverrides(text: string): SwarmOverrides {
  const knobs: Record<string, unknown> = { ...drawSwarmOptions(new Prng(0)) };
  const overrides: Record<string, number | boolean> = {};
  for (const pair of text.split(',')) {
    const [name = '', value = ''] = pair.split('=');
    const drawn = knobs[name];
    if (drawn === undefined) throw new Error(`unknown swarm knob "${name}"; choose among ${Object.keys(knobs).join(', ')}`);
    if (typeof drawn === 'boolean' && (value === 'true' || value === 'false')) overrides[name] = value === 'true';
    else if (typeof drawn === 'number' && value !== '' && Number.isFinite(Number(value))) overrides[name] = Number(value);
    else throw new Error(`swarm knob ${name} needs a ${typeof drawn}, got "${value}"`);
  }
  return overrides;
}

/** Replays one seed in this thread, printing its trace when asked. */
function replay(options: Arguments): number {
  const traceSink = options.trace ? (line: string) => console.log(line) : undefined;
  const result = runSimulation(options.from, { bug: options.bug, overrides: options.overrides, traceSink });
  console.log(`stats ${JSON.stringify(result.stats)} trace ${result.traceDigest}`);
  if (result.failure !== undefined) console.log(formatFailure(result.seed, result.bug, result.options, result.failure, options.overrides));
  return result.failure === undefined ? 0 : 1;
}

/** Worker threads do not inherit tsx's loader: each registers it, then loads the TypeScript worker. */
const workerBootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(
  new URL('./sim-worker.ts', import.meta.url).href,
)}); })`;

interface Totals {
  failures: number;
  operations: number;
  unknownOperations: number;
  linearizabilityUnknown: number;
  virtualSeconds: number;
  metadataSeeds: number;
  metadataCommands: number;
  staleAlterPartitionsRejected: number;
  replicationSeeds: number;
  recordsAcknowledged: number;
  recordsRetried: number;
  duplicatesAnswered: number;
  producerEpochBumps: number;
  brokerCrashes: number;
  replicaTruncations: number;
  replicaLogRestarts: number;
}

/** Runs the seeds on worker threads (seed s on worker s mod jobs) and totals what they report. */
async function runSeeds(options: Arguments): Promise<Totals> {
  const jobs = Math.min(options.jobs, options.seeds);
  const totals: Totals = {
    failures: 0, operations: 0, unknownOperations: 0, linearizabilityUnknown: 0, virtualSeconds: 0, metadataSeeds: 0, metadataCommands: 0, staleAlterPartitionsRejected: 0,
    replicationSeeds: 0, recordsAcknowledged: 0, recordsRetried: 0, duplicatesAnswered: 0, producerEpochBumps: 0, brokerCrashes: 0, replicaTruncations: 0, replicaLogRestarts: 0,
  };
  const workers = Array.from({ length: jobs }, (_, offset) => {
    const task: WorkerTask = { from: options.from, count: options.seeds, offset, stride: jobs, bug: options.bug, overrides: options.overrides };
    const worker = new Worker(workerBootstrap, { eval: true, workerData: task });
    worker.on('message', (result: WorkerResult) => {
      totals.operations += result.stats.operations;
      totals.unknownOperations += result.stats.unknownOperations;
      totals.linearizabilityUnknown += result.stats.linearizabilityUnknown;
      totals.virtualSeconds += result.stats.virtualMs / 1000;
      if (result.stats.metadataCommands > 0) totals.metadataSeeds++;
      totals.metadataCommands += result.stats.metadataCommands;
      totals.staleAlterPartitionsRejected += result.stats.staleAlterPartitionsRejected;
      if (result.stats.recordsProduced > 0) totals.replicationSeeds++;
      totals.recordsAcknowledged += result.stats.recordsAcknowledged;
      totals.recordsRetried += result.stats.recordsRetried;
      totals.duplicatesAnswered += result.stats.duplicatesAnswered;
      totals.producerEpochBumps += result.stats.producerEpochBumps;
      totals.brokerCrashes += result.stats.brokerCrashes;
      totals.replicaTruncations += result.stats.replicaTruncations;
      totals.replicaLogRestarts += result.stats.replicaLogRestarts;
      if (result.report === undefined) return;
      totals.failures++;
      console.log(result.report);
    });
    return new Promise<void>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a simulator worker exited with code ${code}`))));
    });
  });
  await Promise.all(workers);
  return totals;
}

async function main(): Promise<number> {
  let options: Arguments;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (options.single) return replay(options);
  const startedMs = performance.now();
  const totals = await runSeeds(options);
  const seconds = Number(((performance.now() - startedMs) / 1000).toFixed(1));
  console.log(
    `client operations ${totals.operations} (outcome unknown: ${totals.unknownOperations}); ` +
      `linearizability verdicts 'unknown' (budget spent, counted as passes): ${totals.linearizabilityUnknown}; ` +
      `virtual time ${Math.round(totals.virtualSeconds)}s; ` +
      `metadata: ${totals.metadataSeeds} seeds, ${totals.metadataCommands} commands applied, ${totals.staleAlterPartitionsRejected} stale ISR changes rejected; ` +
      `replication: ${totals.replicationSeeds} seeds, ${totals.recordsAcknowledged} acks=all records acknowledged, ` +
      `${totals.recordsRetried} resent with their stamp, ${totals.duplicatesAnswered} retries answered as duplicates, ${totals.producerEpochBumps} producer epoch bumps, ${totals.brokerCrashes} broker crashes, ${totals.replicaTruncations} reconciliation truncations, ${totals.replicaLogRestarts} logs restarted at the leader's log start`,
  );
  console.log(JSON.stringify({ seeds: options.seeds, failures: totals.failures, seconds }));
  return totals.failures > 0 ? 1 : 0;
}

process.exitCode = await main();
