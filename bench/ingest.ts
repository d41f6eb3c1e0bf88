// Durable device upload throughput of three combined Tributary nodes against NATS JetStream R3 and
// the grpc-js transport ceiling, same machine, same run (issue #8). Per run, alternating targets,
// each started afresh: 1 device uploading one source of --single-device-mib MiB, then --devices
// devices at once uploading --device-mib MiB each, all in 1 MiB chunks. Tributary: DataIngestService
// sessions (replication factor 3, fsync, acknowledged once committed); NATS: the same 1 MiB
// payloads published to a 3-replica JetStream stream by as many publishers; ceiling: as many
// plain grpc-js client-streaming calls of 1 MiB messages to a server that drops them. MiB/s is
// acknowledged bytes over the wall time from the first chunk sent to the last ack. Prints one JSON
// line: medians over runs with min and max, the ratios, and the target with whether it
// was met. A target that fails in a run is listed under `failures` (its whole error, with the
// Tributary nodes' log tails, goes to stderr) and the other runs and targets go on. Progress goes
// to stderr. Never gates CI.
// Needs nats-server: sudo bash scripts/install-bench-peers.sh (docs/BENCHMARKS.md).
// Run: npm run bench:ingest -- [--runs 3] [--single-device-mib 256] [--devices 100] [--device-mib 16]
//      [--nats-in-flight 16] [--targets tributary,nats,ceiling] [--profile-dir DIR] [--quick]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { summary } from './bench-statistics.js';
import { NatsJetStreamUploadTarget } from './peers/nats-jetstream-upload-target.js';
import { measureUploadCeiling, uploadCeilingSettings } from './peers/transport-ceiling.js';
import { type IngestUploadResult, replicationFactor, TributaryIngestTarget } from './peers/tributary-ingest-target.js';
import type { UploadResult } from './peers/upload-window.js';

const chunkBytes = 1_048_576;
const targetNames = ['tributary', 'nats', 'ceiling'] as const;
type TargetName = (typeof targetNames)[number];
const cases = ['oneDevice', 'manyDevices'] as const;
type CaseName = (typeof cases)[number];
/** Untimed uploads on each fresh target before it is measured: connections, JIT, first appends. */
const warmUp = { uploaders: 6, chunksPerUploader: 4 } as const;
/** The target, checked against the medians (reported, never asserted). */
const natsRatioMin = 1;

/** Each numeric flag: its default, its --quick value and its bounds. */
const numberFlags = {
  runs: { standard: 3, quick: 1, min: 1, max: 10 },
  'single-device-mib': { standard: 256, quick: 32, min: 1, max: 4_096 },
  devices: { standard: 100, quick: 100, min: 1, max: 1_000 },
  'device-mib': { standard: 16, quick: 4, min: 1, max: 1_024 },
  // Unacknowledged 1 MiB publishes per NATS publisher (a Tributary device has up to 32 MiB of one call awaiting commit).
  'nats-in-flight': { standard: 16, quick: 16, min: 1, max: 1_024 },
} as const;
type NumberFlag = keyof typeof numberFlags;

interface BenchOptions {
  readonly numbers: Readonly<Record<NumberFlag, number>>;
  readonly targets: readonly TargetName[];
  readonly profileDirectory: string | undefined;
}

type CaseResults<T> = Record<CaseName, T[]>;

interface Results {
  readonly tributary: CaseResults<IngestUploadResult>;
  readonly nats: CaseResults<UploadResult>;
  readonly ceiling: CaseResults<UploadResult>;
  readonly settings: Record<string, unknown>;
  readonly failures: Array<{ run: number; target: TargetName; error: string }>;
}

/** The first line of a failure for the JSON line: the message before the node logs. */
const failureSummaryCharactersMax = 600;

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
    const flagText = given[flag];
    return [flag, parseNumber(flag, spec, typeof flagText === 'string' ? flagText : undefined, quick)];
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

/** Uploaders and 1 MiB chunks per uploader of each case. */
function shapes(numbers: BenchOptions['numbers']): Record<CaseName, { uploaders: number; chunksPerUploader: number }> {
  return {
    oneDevice: { uploaders: 1, chunksPerUploader: numbers['single-device-mib'] },
    manyDevices: { uploaders: numbers.devices, chunksPerUploader: numbers['device-mib'] },
  };
}

/** Warms the target up, then measures each case in turn on it. */
async function measureCases<T extends UploadResult>(options: BenchOptions, into: CaseResults<T>, measure: (uploaders: number, chunksPerUploader: number) => Promise<T>): Promise<void> {
  await measure(warmUp.uploaders, warmUp.chunksPerUploader);
  for (const [name, shape] of Object.entries(shapes(options.numbers)) as Array<[CaseName, { uploaders: number; chunksPerUploader: number }]>) {
    into[name].push(await measure(shape.uploaders, shape.chunksPerUploader));
  }
}

async function runTributary(options: BenchOptions, results: Results): Promise<void> {
  const target = new TributaryIngestTarget(options.profileDirectory);
  try {
    await target.start();
    await measureCases(options, results.tributary, (devices, chunks) => target.measureUpload(devices, chunks, chunkBytes));
    results.settings.tributary = target.settings();
  } finally {
    await target.stop();
  }
}

async function runNats(options: BenchOptions, results: Results): Promise<void> {
  const target = new NatsJetStreamUploadTarget(options.numbers['nats-in-flight']);
  try {
    await target.start();
    await measureCases(options, results.nats, (publishers, payloads) => target.measureUpload(publishers, payloads, chunkBytes));
    results.settings.nats = target.settings();
  } finally {
    await target.stop();
  }
}

async function runCeiling(options: BenchOptions, results: Results): Promise<void> {
  await measureCases(options, results.ceiling, (streams, messages) => measureUploadCeiling({ messageBytes: chunkBytes, streams, messagesPerStream: messages }));
  results.settings.ceiling = uploadCeilingSettings(chunkBytes);
}

const runners: Readonly<Record<TargetName, (options: BenchOptions, results: Results) => Promise<void>>> = {
  tributary: runTributary,
  nats: runNats,
  ceiling: runCeiling,
};

async function runAll(options: BenchOptions): Promise<Results> {
  const empty = () => ({ oneDevice: [], manyDevices: [] });
  const results: Results = { tributary: empty(), nats: empty(), ceiling: empty(), settings: {}, failures: [] };
  for (let run = 1; run <= options.numbers.runs; run++) {
    for (const name of options.targets) {
      console.error(`bench/ingest: run ${run}/${options.numbers.runs}, ${name} (load average ${loadavg()[0]?.toFixed(2)})`);
      try {
        await runners[name](options, results);
      } catch (error) {
        console.error(`bench/ingest: run ${run}, ${name} failed:`, error);
        const message = error instanceof Error ? error.message : String(error);
        results.failures.push({ run, target: name, error: message.split('; their tails:')[0]?.slice(0, failureSummaryCharactersMax) ?? message });
      }
    }
  }
  return results;
}

type Summary = { median: number; min: number; max: number };

function summarize<T>(items: readonly T[], pick: (item: T) => number, digits: number): Summary | undefined {
  return items.length === 0 ? undefined : summary(items.map(pick), digits);
}

/** Undefined for a target that did not run, so the line leaves it out. */
function figures(results: CaseResults<UploadResult>): Record<CaseName, Record<string, unknown>> | undefined {
  if (results.oneDevice.length === 0) return undefined;
  const figuresOf = (runs: readonly UploadResult[]) => ({
    runsMeasured: runs.length,
    uploaders: runs[0]?.uploaders,
    mebibytesPerRun: runs[0] === undefined ? undefined : runs[0].bytes / 1_048_576,
    mebibytesPerSecond: summarize(runs, (run) => run.mebibytesPerSecond, 2),
    seconds: summarize(runs, (run) => run.seconds, 2),
  });
  return { oneDevice: figuresOf(results.oneDevice), manyDevices: figuresOf(results.manyDevices) };
}

function tributaryFigures(results: CaseResults<IngestUploadResult>): Record<CaseName, Record<string, unknown>> | undefined {
  const base = figures(results);
  if (base === undefined) return undefined;
  const extra = (runs: readonly IngestUploadResult[]) => ({
    retried: runs.map((run) => run.retried),
    sessionsNotComplete: runs.map((run) => run.sessionsNotComplete),
  });
  return { oneDevice: { ...base.oneDevice, ...extra(results.oneDevice) }, manyDevices: { ...base.manyDevices, ...extra(results.manyDevices) } };
}

function report(options: BenchOptions, results: Results, loadAverageAtStart: number[]): Record<string, unknown> {
  const medianOf = (runs: readonly UploadResult[]) => summarize(runs, (run) => run.mebibytesPerSecond, 3)?.median;
  const ratios = Object.fromEntries(cases.map((name) => [name, ratiosOf(medianOf(results.tributary[name]), medianOf(results.nats[name]), medianOf(results.ceiling[name]))]));
  return {
    bench: 'ingest',
    chunkBytes,
    runs: options.numbers.runs,
    flags: { ...options.numbers, targets: options.targets },
    machine: { loadAverageAtStart: loadAverageAtStart.map((value) => Number(value.toFixed(2))), loadAverageAtEnd: loadavg().map((value) => Number(value.toFixed(2))) },
    settings: results.settings,
    tributary: tributaryFigures(results.tributary),
    nats: figures(results.nats),
    ceiling: figures(results.ceiling),
    ratios,
    goals: goalsOf(ratios),
    failures: results.failures,
    profileDirectory: options.profileDirectory,
  };
}

function ratiosOf(tributary: number | undefined, nats: number | undefined, ceiling: number | undefined): Record<string, number | undefined> {
  const ratio = (numerator: number | undefined, denominator: number | undefined) =>
    numerator === undefined || denominator === undefined || denominator === 0 ? undefined : Number((numerator / denominator).toFixed(3));
  return {
    'tributary/nats': ratio(tributary, nats),
    /** The ceiling divided by the replication factor: each chunk crosses the transport once per replica. */
    'tributary/(ceiling/replicationFactor)': ratio(tributary, ceiling === undefined ? undefined : ceiling / replicationFactor),
  };
}

function goalsOf(ratios: Record<string, Record<string, number | undefined>>): Record<string, boolean | string> {
  const met = (name: CaseName): boolean | 'not measured' => {
    const value = ratios[name]?.['tributary/nats'];
    return value === undefined ? 'not measured' : value >= natsRatioMin;
  };
  const oneDevice = met('oneDevice');
  const manyDevices = met('manyDevices');
  return {
    [`tributary/nats >= ${natsRatioMin}`]: oneDevice === 'not measured' || manyDevices === 'not measured' ? 'not measured' : oneDevice && manyDevices,
    [`tributary/nats >= ${natsRatioMin}, 1 device`]: oneDevice,
    [`tributary/nats >= ${natsRatioMin}, many devices`]: manyDevices,
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
