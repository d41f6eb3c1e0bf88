// Durable produce throughput and latency of three combined Tributary nodes against NATS JetStream
// R3 and the grpc-js transport ceiling, same machine, same run (issue #7). Per run, alternating:
// Tributary (a fresh 3-node cluster: records/s and MiB/s of 1 KiB records through the SDK Producer
// with acks=all and fsync, then produce-to-consume latency at a fixed rate through the SDK
// Consumer), NATS JetStream (a fresh 3-node cluster, stream replicas 3: records/s of the same
// records with async publish acks, bounded in flight), and the transport ceiling (one plain grpc-js
// client-streaming call carrying producer-batch-sized messages to a server that drops them).
// Prints one JSON line: medians over runs with min and max, the ratios, and the targets
// with whether they were met. Progress goes to stderr. Never gates CI.
// Needs nats-server: sudo bash scripts/install-bench-peers.sh (docs/BENCHMARKS.md).
// Run: npm run bench:produce -- [--runs 3] [--throughput-seconds 8] [--latency-seconds 8]
//      [--latency-rate 5000] [--targets tributary,nats,ceiling] [--profile-dir DIR] [--quick]
//      [--batch-bytes 1000000] [--linger-ms 5] [--sends-in-flight 256] [--records-per-send 100]
//      [--latency-linger-ms 0] [--nats-in-flight 256] [--ceiling-message-bytes 65536]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { summary } from './bench-statistics.js';
import { NatsJetStreamTarget, publishesInFlightDefault, type ThroughputResult } from './peers/nats-jetstream-target.js';
import { measureStreamingCeiling, type StreamingCeilingResult, streamingCeilingSettings } from './peers/transport-ceiling.js';
import { type LatencyResult, type ProducerTuning, replicationFactor, TributaryProduceTarget } from './peers/tributary-produce-target.js';

const recordBytes = 1024;
const targetNames = ['tributary', 'nats', 'ceiling'] as const;
type TargetName = (typeof targetNames)[number];
/** Warm-up before each measured throughput window: connections, metadata, first batches. */
const warmUpMs = 2_000;
/** The targets, checked against the medians (reported, never asserted). */
const goals = { natsRatioMin: 5, ceilingShareOfPerReplicaMin: 0.5, latencyMsP50Max: 3, latencyMsP99Max: 15 } as const;

/** Each numeric flag: its default, its --quick value and its bounds. */
const numberFlags = {
  runs: { standard: 3, quick: 1, min: 1, max: 10 },
  'throughput-seconds': { standard: 8, quick: 3, min: 1, max: 120 },
  'latency-seconds': { standard: 8, quick: 3, min: 2, max: 60 },
  'latency-rate': { standard: 5_000, quick: 5_000, min: 1, max: 100_000 },
  // A throughput user's batch: just under the topic's default maxMessageBytes (1 MiB), since a
  // partition has one batch in flight and each batch pays the whole replication round trip.
  'batch-bytes': { standard: 1_000_000, quick: 1_000_000, min: 1_024, max: 1_048_576 },
  'linger-ms': { standard: 5, quick: 5, min: 0, max: 1_000 },
  // 256 sends of 100 KiB keep about two batches per partition outstanding: one in flight, one filling.
  'sends-in-flight': { standard: 256, quick: 256, min: 1, max: 1_024 },
  'records-per-send': { standard: 100, quick: 100, min: 1, max: 10_000 },
  'latency-linger-ms': { standard: 0, quick: 0, min: 0, max: 1_000 },
  'nats-in-flight': { standard: publishesInFlightDefault, quick: publishesInFlightDefault, min: 1, max: 65_536 },
  // The ceiling's message: 64 KiB carried the most bytes of 16, 64 and 256 KiB tried here.
  'ceiling-message-bytes': { standard: 65_536, quick: 65_536, min: 1_024, max: 16_777_216 },
} as const;
type NumberFlag = keyof typeof numberFlags;

interface BenchOptions {
  readonly numbers: Readonly<Record<NumberFlag, number>>;
  readonly targets: readonly TargetName[];
  readonly profileDirectory: string | undefined;
}

interface Results {
  readonly tributaryThroughput: ThroughputResult[];
  readonly tributaryLatency: LatencyResult[];
  readonly nats: ThroughputResult[];
  readonly ceiling: StreamingCeilingResult[];
  settings: Record<string, unknown>;
}

/** Signals end the run through process.exit, so the peers' 'exit' handlers kill their processes. */
const signalExitCodes = { SIGINT: 130, SIGTERM: 143 } as const;

function parseOptions(argv: readonly string[]): BenchOptions {
  const text = { type: 'string' } as const;
  const flagOptions = Object.fromEntries(Object.keys(numberFlags).map((flag) => [flag, text]));
  const { values } = parseArgs({
    args: [...argv],
    options: { ...flagOptions, targets: text, 'profile-dir': text, quick: { type: 'boolean', default: false } },
    strict: true,
  });
  const quick = values.quick === true;
  const given = values as Record<string, unknown>;
  const numbers = Object.fromEntries(Object.entries(numberFlags).map(([flag, spec]) => {
    const text = given[flag];
    return [flag, parseNumber(flag, spec, typeof text === 'string' ? text : undefined, quick)];
  })) as Record<NumberFlag, number>;
  const profileDirectory = typeof values['profile-dir'] === 'string' ? values['profile-dir'] : undefined;
  return { numbers, targets: parseTargets(typeof values.targets === 'string' ? values.targets : undefined), profileDirectory };
}

function parseNumber(flag: string, spec: (typeof numberFlags)[NumberFlag], text: string | undefined, quick: boolean): number {
  if (text === undefined) return quick ? spec.quick : spec.standard;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < spec.min || value > spec.max) {
    throw new Error(`--${flag} must be an integer from ${spec.min} to ${spec.max}, got "${text}"`);
  }
  return value;
}

function parseTargets(text: string | undefined): TargetName[] {
  if (text === undefined) return [...targetNames];
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !(targetNames as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) throw new Error(`--targets takes a comma-separated list of ${targetNames.join(', ')}; got "${text}"`);
  return [...new Set(names)] as TargetName[];
}

function tuningOf(numbers: BenchOptions['numbers']): ProducerTuning {
  return {
    batchBytesMax: numbers['batch-bytes'],
    lingerMs: numbers['linger-ms'],
    // Room for every outstanding send: the window, not the buffer, bounds what is in flight.
    bufferedBytesMax: Math.max(33_554_432, 2 * numbers['sends-in-flight'] * numbers['records-per-send'] * recordBytes),
    sendsInFlightMax: numbers['sends-in-flight'],
    recordsPerSend: numbers['records-per-send'],
    latencyLingerMs: numbers['latency-linger-ms'],
  };
}

async function runTributary(options: BenchOptions, results: Results): Promise<void> {
  const tuning = tuningOf(options.numbers);
  const target = new TributaryProduceTarget(options.profileDirectory);
  try {
    await target.start();
    results.tributaryThroughput.push(await target.measureThroughput(recordBytes, tuning, warmUpMs, options.numbers['throughput-seconds'] * 1_000));
    results.tributaryLatency.push(await target.measureLatency(recordBytes, tuning, options.numbers['latency-rate'], options.numbers['latency-seconds'] * 1_000));
    results.settings.tributary = target.settings(tuning);
  } finally {
    await target.stop();
  }
}

async function runNats(options: BenchOptions, results: Results): Promise<void> {
  const target = new NatsJetStreamTarget(options.numbers['nats-in-flight']);
  try {
    await target.start();
    results.nats.push(await target.measureThroughput(recordBytes, warmUpMs, options.numbers['throughput-seconds'] * 1_000));
    results.settings.nats = target.settings();
  } finally {
    await target.stop();
  }
}

async function runCeiling(options: BenchOptions, results: Results): Promise<void> {
  const messageBytes = options.numbers['ceiling-message-bytes'];
  results.ceiling.push(await measureStreamingCeiling({ messageBytes, recordBytes, warmUpMs, durationMs: options.numbers['throughput-seconds'] * 1_000 }));
  results.settings.ceiling = streamingCeilingSettings(messageBytes);
}

const runners: Readonly<Record<TargetName, (options: BenchOptions, results: Results) => Promise<void>>> = {
  tributary: runTributary,
  nats: runNats,
  ceiling: runCeiling,
};

async function runAll(options: BenchOptions): Promise<Results> {
  const results: Results = { tributaryThroughput: [], tributaryLatency: [], nats: [], ceiling: [], settings: {} };
  for (let run = 1; run <= options.numbers.runs; run++) {
    for (const name of options.targets) {
      console.error(`bench/produce: run ${run}/${options.numbers.runs}, ${name} (load average ${loadavg()[0]?.toFixed(2)})`);
      await runners[name](options, results);
    }
  }
  return results;
}

function summarize<T>(items: readonly T[], pick: (item: T) => number, digits: number): { median: number; min: number; max: number } | undefined {
  return items.length === 0 ? undefined : summary(items.map(pick), digits);
}

function report(options: BenchOptions, results: Results, loadAverageAtStart: number[]): Record<string, unknown> {
  const tributary = {
    recordsPerSecond: summarize(results.tributaryThroughput, (run) => run.recordsPerSecond, 0),
    mebibytesPerSecond: summarize(results.tributaryThroughput, (run) => run.mebibytesPerSecond, 2),
    latencyMsP50: summarize(results.tributaryLatency, (run) => run.endToEndMsP50, 2),
    latencyMsP99: summarize(results.tributaryLatency, (run) => run.endToEndMsP99, 2),
    latencyMsMax: summarize(results.tributaryLatency, (run) => run.endToEndMsMax, 1),
    ackLatencyMsP50: summarize(results.tributaryLatency, (run) => run.ackMsP50, 2),
    ackLatencyMsP99: summarize(results.tributaryLatency, (run) => run.ackMsP99, 2),
    latencyRecordsPerSecondSent: summarize(results.tributaryLatency, (run) => run.recordsPerSecond, 0),
    latencyFailedRecords: summarize(results.tributaryLatency, (run) => run.failedRecords, 0),
  };
  const nats = { recordsPerSecond: summarize(results.nats, (run) => run.recordsPerSecond, 0), mebibytesPerSecond: summarize(results.nats, (run) => run.mebibytesPerSecond, 2) };
  const ceiling = { recordsPerSecond: summarize(results.ceiling, (run) => run.recordsPerSecond, 0), mebibytesPerSecond: summarize(results.ceiling, (run) => run.mebibytesPerSecond, 2) };
  const ratios = ratiosOf(tributary.recordsPerSecond?.median, nats.recordsPerSecond?.median, ceiling.recordsPerSecond?.median);
  return {
    bench: 'produce',
    recordBytes,
    runs: options.numbers.runs,
    flags: options.numbers,
    machine: { loadAverageAtStart: loadAverageAtStart.map((value) => Number(value.toFixed(2))), loadAverageAtEnd: loadavg().map((value) => Number(value.toFixed(2))) },
    settings: results.settings,
    tributary,
    nats,
    ceiling,
    ratios,
    goals: goalsOf(ratios, tributary.latencyMsP50?.median, tributary.latencyMsP99?.median),
    profileDirectory: options.profileDirectory,
  };
}

function ratiosOf(tributary: number | undefined, nats: number | undefined, ceiling: number | undefined): Record<string, number | undefined> {
  const ratio = (numerator: number | undefined, denominator: number | undefined) =>
    numerator === undefined || denominator === undefined || denominator === 0 ? undefined : Number((numerator / denominator).toFixed(3));
  return {
    'tributary/nats': ratio(tributary, nats),
    /** The ceiling divided by the replication factor: each record crosses the transport once per replica. */
    'tributary/(ceiling/replicationFactor)': ratio(tributary, ceiling === undefined ? undefined : ceiling / replicationFactor),
  };
}

function goalsOf(ratios: Record<string, number | undefined>, latencyMsP50: number | undefined, latencyMsP99: number | undefined): Record<string, unknown> {
  const met = (value: number | undefined, test: (value: number) => boolean) => (value === undefined ? 'not measured' : test(value));
  return {
    [`tributary/nats >= ${goals.natsRatioMin}`]: met(ratios['tributary/nats'], (value) => value >= goals.natsRatioMin),
    [`tributary/(ceiling/replicationFactor) >= ${goals.ceilingShareOfPerReplicaMin}`]: met(ratios['tributary/(ceiling/replicationFactor)'], (value) => value >= goals.ceilingShareOfPerReplicaMin),
    [`latency p50 < ${goals.latencyMsP50Max} ms`]: met(latencyMsP50, (value) => value < goals.latencyMsP50Max),
    [`latency p99 < ${goals.latencyMsP99Max} ms`]: met(latencyMsP99, (value) => value < goals.latencyMsP99Max),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  for (const [signal, code] of Object.entries(signalExitCodes)) process.once(signal, () => process.exit(code));
  const loadAverageAtStart = loadavg();
  const results = await runAll(options);
  console.log(JSON.stringify(report(options, results, loadAverageAtStart)));
}

await main();
