// The controller quorum against etcd 3.4 on the same machine in the same run: sequential durable
// write latency (p50, p99, max), throughput of concurrent writers, and leader failover time
// (SIGKILL the leader; time until a write succeeds; median of the trials), the workload of
// bench/metadata-workload.ts run on each target selected by --targets. Runs alternate between the
// targets so machine noise falls on all alike. Prints one JSON line: per target, the median over
// runs with min and max, and when the baseline (etcd) ran beside another target, the ratios
// other/etcd of the medians. Each run also measures the transport ceiling (the same client against
// a server that answers at once, bench/peers/transport-ceiling.ts) and prints target/ceiling
// ratios. Progress goes to stderr.
// Needs the etcd binary: sudo bash scripts/install-bench-peers.sh (docs/BENCHMARKS.md).
// Run: npm run bench:metadata -- [--targets etcd] [--runs 3] [--sequential 5000]
//      [--concurrent-clients 32] [--concurrent-writes 20000] [--failover-trials 3] [--quick]
import { parseArgs } from 'node:util';
import { median, summary } from './bench-statistics.js';
import {
  type MetadataBenchTarget,
  type MetadataWorkloadOptions,
  type MetadataWorkloadResult,
  runMetadataWorkload,
  valueBytes,
  type WritePhasesResult,
} from './metadata-workload.js';
import { EtcdTarget } from './peers/etcd-target.js';
import { measureTransportCeiling, transportCeilingSettings } from './peers/transport-ceiling.js';
import { TributaryTarget } from './peers/tributary-target.js';

/** Every target the benchmark knows; adding one is an import and an entry here. */
const targetFactories: Readonly<Record<string, () => MetadataBenchTarget>> = {
  tributary: () => new TributaryTarget(),
  etcd: () => new EtcdTarget(),
};
/** The peer every other target is divided by in `ratios`. */
const baselineTargetName = 'etcd';

interface BenchOptions extends MetadataWorkloadOptions {
  readonly runs: number;
  readonly targetNames: readonly string[];
}

interface TargetRecord {
  readonly results: MetadataWorkloadResult[];
  settings: Record<string, unknown>;
}

/** Each count flag: its default, its --quick value and the largest value accepted. */
const countFlags = {
  runs: { flag: 'runs', standard: 3, quick: 1, max: 10 },
  sequentialWrites: { flag: 'sequential', standard: 5_000, quick: 300, max: 100_000 },
  concurrentClients: { flag: 'concurrent-clients', standard: 32, quick: 32, max: 1_024 },
  concurrentWrites: { flag: 'concurrent-writes', standard: 20_000, quick: 2_000, max: 1_000_000 },
  failoverTrials: { flag: 'failover-trials', standard: 3, quick: 1, max: 20 },
} as const;

type CountName = keyof typeof countFlags;

/** Signals end the run through process.exit, so the clusters' 'exit' handlers kill their members. */
const signalExitCodes = { SIGINT: 130, SIGTERM: 143 } as const;

function parseOptions(argv: readonly string[]): BenchOptions {
  const text = { type: 'string' } as const;
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: text,
      sequential: text,
      'concurrent-clients': text,
      'concurrent-writes': text,
      'failover-trials': text,
      targets: text,
      quick: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = values.quick === true;
  const count = (name: CountName): number => parseCount(countFlags[name], values[countFlags[name].flag], quick);
  return {
    runs: count('runs'),
    sequentialWrites: count('sequentialWrites'),
    concurrentClients: count('concurrentClients'),
    concurrentWrites: count('concurrentWrites'),
    failoverTrials: count('failoverTrials'),
    targetNames: parseTargetNames(values.targets),
  };
}

function parseCount(spec: (typeof countFlags)[CountName], text: string | undefined, quick: boolean): number {
  if (text === undefined) return quick ? spec.quick : spec.standard;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1 || value > spec.max) {
    throw new Error(`--${spec.flag} must be an integer from 1 to ${spec.max}, got "${text}"`);
  }
  return value;
}

function parseTargetNames(text: string | undefined): string[] {
  const known = Object.keys(targetFactories);
  if (text === undefined) return known;
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !known.includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`--targets takes a comma-separated list of ${known.join(', ')}; got "${text}"`);
  }
  return [...new Set(names)];
}

function createTarget(name: string): MetadataBenchTarget {
  const factory = targetFactories[name];
  if (factory === undefined) throw new Error(`no target named "${name}"`);
  return factory();
}

/** Runs every target, then the transport ceiling, once per run, alternating. */
async function runAll(options: BenchOptions): Promise<{ byTarget: Map<string, TargetRecord>; ceiling: WritePhasesResult[] }> {
  const byTarget = new Map(options.targetNames.map((name): [string, TargetRecord] => [name, { results: [], settings: {} }]));
  const ceiling: WritePhasesResult[] = [];
  for (let run = 1; run <= options.runs; run++) {
    for (const [name, record] of byTarget) {
      console.error(`bench/metadata: run ${run}/${options.runs}, target ${name}`);
      const target = createTarget(name);
      record.results.push(await runMetadataWorkload(target, options));
      record.settings = target.settings();
    }
    console.error(`bench/metadata: run ${run}/${options.runs}, transport ceiling`);
    ceiling.push(await measureTransportCeiling(options));
  }
  return { byTarget, ceiling };
}

function summarizePhases(results: readonly WritePhasesResult[], settings: Record<string, unknown>): Record<string, unknown> {
  const figure = (pick: (result: WritePhasesResult) => number, digits: number) => summary(results.map(pick), digits);
  return {
    settings,
    sequentialLatencyMsP50: figure((result) => result.sequentialLatencyMsP50, 3),
    sequentialLatencyMsP99: figure((result) => result.sequentialLatencyMsP99, 3),
    sequentialLatencyMsMax: figure((result) => result.sequentialLatencyMsMax, 3),
    concurrentWritesPerSecond: figure((result) => result.concurrentWritesPerSecond, 0),
    concurrentLatencyMsP50: figure((result) => result.concurrentLatencyMsP50, 3),
    concurrentLatencyMsP99: figure((result) => result.concurrentLatencyMsP99, 3),
  };
}

function summarize(results: readonly MetadataWorkloadResult[], settings: Record<string, unknown>): Record<string, unknown> {
  return {
    ...summarizePhases(results, settings),
    failoverMs: summary(results.map((result) => result.failoverMsMedian), 1),
    failoverMsTrials: results.flatMap((result) => result.failoverMsTrials.map((value) => Number(value.toFixed(1)))),
  };
}

const ratioOf = <R>(candidate: readonly R[], baseline: readonly R[], pick: (result: R) => number): number =>
  Number((median(candidate.map(pick)) / median(baseline.map(pick))).toFixed(3));

/** other/baseline for the medians over runs: below 1 is better for latency and failover, above 1 for throughput. */
function ratios(candidate: readonly MetadataWorkloadResult[], baseline: readonly MetadataWorkloadResult[]): Record<string, number> {
  return {
    ...phaseRatios(candidate, baseline),
    failoverMs: ratioOf(candidate, baseline, (result) => result.failoverMsMedian),
  };
}

function phaseRatios(candidate: readonly WritePhasesResult[], baseline: readonly WritePhasesResult[]): Record<string, number> {
  return {
    sequentialLatencyMsP50: ratioOf(candidate, baseline, (result) => result.sequentialLatencyMsP50),
    sequentialLatencyMsP99: ratioOf(candidate, baseline, (result) => result.sequentialLatencyMsP99),
    concurrentWritesPerSecond: ratioOf(candidate, baseline, (result) => result.concurrentWritesPerSecond),
  };
}

function report(options: BenchOptions, byTarget: ReadonlyMap<string, TargetRecord>, ceiling: readonly WritePhasesResult[]): Record<string, unknown> {
  const baseline = byTarget.get(baselineTargetName);
  const targets = Object.fromEntries([...byTarget].map(([name, record]) => [name, summarize(record.results, record.settings)]));
  const compared = [...byTarget].filter(([name]) => name !== baselineTargetName && baseline !== undefined);
  return {
    bench: 'metadata',
    runs: options.runs,
    valueBytes,
    sequentialWrites: options.sequentialWrites,
    concurrentClients: options.concurrentClients,
    concurrentWrites: options.concurrentWrites,
    failoverTrials: options.failoverTrials,
    targets,
    ratios: Object.fromEntries(compared.map(([name, record]) => [`${name}/${baselineTargetName}`, ratios(record.results, baseline?.results ?? [])])),
    transportCeiling: summarizePhases(ceiling, transportCeilingSettings()),
    ceilingRatios: Object.fromEntries([...byTarget].map(([name, record]) => [`${name}/ceiling`, phaseRatios(record.results, ceiling)])),
    node: process.version,
  };
}

async function main(): Promise<void> {
  for (const [signal, code] of Object.entries(signalExitCodes)) process.once(signal, () => process.exit(code));
  const options = parseOptions(process.argv.slice(2));
  const { byTarget, ceiling } = await runAll(options);
  console.log(JSON.stringify(report(options, byTarget, ceiling)));
}

main().catch((error: unknown) => {
  console.error(`bench/metadata: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
