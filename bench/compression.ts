// The batch codecs (src/rpc/batch-compression.ts) on record sets as producers build them: a
// serialized RecordSet of about 128 KiB (the Producer's default batchBytesMax) of JSON sensor
// readings, and one of random 1 KiB values that no codec can shrink. Per codec: the compression
// ratio, compression and decompression speed in MiB of uncompressed records per CPU second, and
// the CPU time the broker's produce checks take per batch (storedBatchFromWire, which decompresses a
// compressed batch once). zstd at its default level 3 is measured beside the level the codec uses
// (zstdLevel), to show why that level. Prints one JSON line with the median, min and max over the
// runs; progress on stderr.
// Run: npm run bench:compression -- [--runs 5] [--record-set-bytes 131072] [--window-ms 300]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import zstdBinding from 'zstd-napi/binding.js';
import { compressRecords, decompressRecords, zstdLevel } from '../src/rpc/batch-compression.js';
import { type CompressionCodec, encodeRecordBatch, type ProducerRecord } from '../src/rpc/clients/index.js';
import { Codec } from '../src/rpc/generated/tributary/common/v1/common.js';
import { storedBatchFromWire } from '../src/rpc/services/record-batch-mapping.js';
import { summary } from './bench-statistics.js';

interface BenchOptions {
  readonly runs: number;
  readonly recordSetBytes: number;
  readonly windowMs: number;
}

/** One way to compress and decompress a record set, measured alike. */
interface MeasuredCodec {
  readonly name: string;
  readonly compress: (records: Uint8Array) => Uint8Array;
  readonly decompress: (compressed: Uint8Array, uncompressedBytes: number) => Uint8Array;
  /** The SDK's codec, when the broker check is measured for it. */
  readonly compression?: CompressionCodec;
}

/** Bounds on the options, so a typo cannot run for hours or allocate without limit. */
const runsMax = 50;
const recordSetBytesMax = 16 * 1024 * 1024;
const windowMsMax = 10_000;
const mebibyte = 1024 * 1024;

/** zstd's own default level, and Kafka's, measured for comparison. */
const zstdComparisonLevel = 3;
const comparisonContext = new zstdBinding.CCtx();

const measuredCodecs: readonly MeasuredCodec[] = [
  { name: 'none', compress: (records) => records, decompress: (compressed) => compressed, compression: 'none' },
  { name: 'lz4', compress: (records) => compressRecords(Codec.LZ4, records), decompress: (compressed, bytes) => decompressRecords(Codec.LZ4, compressed, bytes, 'bench'), compression: 'lz4' },
  { name: `zstd-${zstdLevel}`, compress: (records) => compressRecords(Codec.ZSTD, records), decompress: (compressed, bytes) => decompressRecords(Codec.ZSTD, compressed, bytes, 'bench'), compression: 'zstd' },
  { name: `zstd-${zstdComparisonLevel}`, compress: zstdAtComparisonLevel, decompress: (compressed, bytes) => decompressRecords(Codec.ZSTD, compressed, bytes, 'bench') },
];

function zstdAtComparisonLevel(records: Uint8Array): Uint8Array {
  const target = Buffer.allocUnsafe(zstdBinding.compressBound(records.byteLength));
  return target.subarray(0, comparisonContext.compress(target, records, zstdComparisonLevel));
}

/** A deterministic stream of numbers in [0, 1), so every run compresses the same readings. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Readings from a few hundred devices: the kind of record Tributary exists to carry. */
function sensorReading(index: number, random: () => number): ProducerRecord {
  const device = `sensor-${Math.floor(random() * 400)}`;
  const value = { device, seq: index, temperatureC: Number((18 + random() * 8).toFixed(2)), humidityPct: Number((35 + random() * 30).toFixed(1)), batteryV: Number((3.1 + random() * 0.3).toFixed(3)), status: random() < 0.02 ? 'warn' : 'ok' };
  return { key: Buffer.from(device), value: Buffer.from(JSON.stringify(value)), timestampMs: 1_763_000_000_000 + index * 7 };
}

function randomValue(index: number): ProducerRecord {
  return { value: randomBytes(1024), timestampMs: 1_763_000_000_000 + index };
}

/** Records from `next` until their serialized RecordSet reaches `targetBytes`. */
function recordSetOf(next: (index: number) => ProducerRecord, targetBytes: number): ProducerRecord[] {
  const records: ProducerRecord[] = [];
  let sizeBytes = 0;
  while (sizeBytes < targetBytes) {
    const record = next(records.length);
    records.push(record);
    sizeBytes += record.value.byteLength + (record.key?.byteLength ?? 0) + 16;
  }
  return records;
}

/**
 * CPU seconds per call of `action`, over at least `windowMs` of this process's CPU time. CPU time,
 * not wall time: the codecs run synchronously on this thread, and on a machine shared with other
 * work wall time would mostly measure the waits for a core (GC helper threads still count).
 */
function secondsPerCall(action: () => unknown, windowMs: number): number {
  const start = process.cpuUsage();
  let calls = 0;
  let elapsedMs = 0;
  while (elapsedMs < windowMs) {
    action();
    calls++;
    const used = process.cpuUsage(start);
    elapsedMs = (used.user + used.system) / 1000;
  }
  return elapsedMs / 1000 / calls;
}

function measureCodec(codec: MeasuredCodec, records: readonly ProducerRecord[], options: BenchOptions) {
  const uncompressed = encodeRecordBatch(records).records;
  const compressed = codec.compress(uncompressed);
  const batch = codec.compression === undefined ? undefined : encodeRecordBatch(records, undefined, codec.compression);
  const context = { partition: 'bench-0', partitionLeaderEpoch: 1, maxBatchBytes: recordSetBytesMax };
  const compressMiBPerS: number[] = [];
  const decompressMiBPerS: number[] = [];
  const brokerCheckUs: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    compressMiBPerS.push(uncompressed.byteLength / mebibyte / secondsPerCall(() => codec.compress(uncompressed), options.windowMs));
    decompressMiBPerS.push(uncompressed.byteLength / mebibyte / secondsPerCall(() => codec.decompress(compressed, uncompressed.byteLength), options.windowMs));
    if (batch !== undefined) brokerCheckUs.push(secondsPerCall(() => storedBatchFromWire(batch, context), options.windowMs) * 1e6);
  }
  return {
    ratio: Number((uncompressed.byteLength / compressed.byteLength).toFixed(2)),
    compressedBytes: compressed.byteLength,
    compressMiBPerS: summary(compressMiBPerS, 0),
    decompressMiBPerS: summary(decompressMiBPerS, 0),
    ...(brokerCheckUs.length > 0 ? { brokerCheckUs: summary(brokerCheckUs, 1) } : {}),
  };
}

function measureInput(name: string, records: readonly ProducerRecord[], options: BenchOptions) {
  const recordSetBytes = encodeRecordBatch(records).records.byteLength;
  process.stderr.write(`${name}: ${records.length} records, ${recordSetBytes} bytes\n`);
  const codecs = Object.fromEntries(measuredCodecs.map((codec) => [codec.name, measureCodec(codec, records, options)]));
  return { records: records.length, recordSetBytes, codecs };
}

function optionsOf(argv: string[]): BenchOptions {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string', default: '5' }, 'record-set-bytes': { type: 'string', default: '131072' }, 'window-ms': { type: 'string', default: '300' } } });
  return {
    runs: boundedInteger('--runs', values.runs, runsMax),
    recordSetBytes: boundedInteger('--record-set-bytes', values['record-set-bytes'], recordSetBytesMax / 2),
    windowMs: boundedInteger('--window-ms', values['window-ms'], windowMsMax),
  };
}

function boundedInteger(flag: string, text: string, max: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new Error(`${flag} must be an integer from 1 to ${max}, got "${text}"`);
  return value;
}

function main(): void {
  const options = optionsOf(process.argv.slice(2));
  const random = seededRandom(7);
  const inputs = {
    sensorJson: measureInput('sensor JSON', recordSetOf((index) => sensorReading(index, random), options.recordSetBytes), options),
    randomBytes: measureInput('random bytes', recordSetOf(randomValue, options.recordSetBytes), options),
  };
  console.log(JSON.stringify({ bench: 'compression', node: process.version, runs: options.runs, windowMs: options.windowMs, inputs }));
}

main();
