// The raw storage-engine figures behind bench/storage.ts: the disk's fdatasync limit (4 KiB
// written, then fdatasync, in a loop) and RocksDB group-commit throughput for 1 KiB values written
// by 1, 16 and 256 concurrent writers through GroupCommitWriter, with `durability: fsync` and
// `none`. Each writer puts one value at a time and awaits it, as a partition leader does. Beside
// records per second it reports what each flush costs the event loop: the JS thread runs the
// synced write itself (the binding calls DB::Write synchronously), so the loop-delay percentiles
// and the fraction of wall time spent inside store.write say whether a worker thread would pay;
// every configuration runs twice, with writeThread 'main' and 'worker' (DB::Write on a worker).
// Prints ONE JSON line of medians over the runs (min and max beside), and the ratio of
// group-committed records per second to raw fsyncs per second. Bounded to about 70 seconds.
// Run: npm run bench:storage-engine [-- DIRECTORY]   (default: the OS temporary directory)
import { closeSync, fdatasyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { type Durability, GroupCommitWriter } from '../src/storage/group-commit-writer.js';
import type { KeyValueOperation, KeyValueStore, WriteOptions } from '../src/storage/key-value-store.js';
import { openRocksDbKeyValueStore } from '../src/storage/rocksdb/rocksdb-key-value-store.js';
import { median, summary } from './bench-statistics.js';

const rawWriteBytes = 4096;
/** The raw loop starts over at offset 0 past this, so a long measurement cannot fill the disk. */
const rawFileBytesMax = 256 * 1024 * 1024;
const valueBytes = 1024;
const writerCounts = [1, 16, 256] as const;
const durabilities: readonly Durability[] = ['fsync', 'none'];
const writeThreads = ['main', 'worker'] as const;
type WriteThread = (typeof writeThreads)[number];
const runs = 3;
const runDurationMs = 1_500;
const rawDurationMs = 1_000;
const mebibyte = 1024 * 1024;
const nanosecondsPerMillisecond = 1e6;

export interface RawFdatasyncResult {
  readonly fsyncsPerSecond: number;
  readonly fsyncs: number;
  readonly elapsedMs: number;
}

/** Appends 4 KiB and fdatasyncs it, over and over for `durationMs`, in a file inside `directory`. */
export function measureRawFdatasync(directory: string, durationMs: number): Promise<RawFdatasyncResult> {
  const path = join(directory, 'raw-fdatasync.bench');
  const block = new Uint8Array(rawWriteBytes).fill(0xa5);
  const descriptor = openSync(path, 'w');
  try {
    let fsyncs = 0;
    const started = performance.now();
    let elapsedMs = 0;
    // Synchronous on purpose: the figure is the disk's, without thread-pool hops in between.
    while (elapsedMs < durationMs) {
      writeSync(descriptor, block, 0, rawWriteBytes, (fsyncs * rawWriteBytes) % rawFileBytesMax);
      fdatasyncSync(descriptor);
      fsyncs++;
      elapsedMs = performance.now() - started;
    }
    return Promise.resolve({ fsyncsPerSecond: (fsyncs * 1000) / elapsedMs, fsyncs, elapsedMs });
  } finally {
    closeSync(descriptor);
    unlinkSync(path);
  }
}

export interface GroupCommitRun {
  readonly recordsPerSecond: number;
  readonly mebibytesPerSecond: number;
  /** Records per store.write: how much group commit gathered. */
  readonly recordsPerFlush: number;
  /** Share of wall time the JS thread spent inside store.write, where RocksDB writes and syncs. */
  readonly writeBlockedFraction: number;
  /** Mean and longest single store.write call. */
  readonly writeBlockedMsMean: number;
  readonly writeBlockedMsMax: number;
  readonly eventLoopDelayMsP99: number;
  readonly eventLoopDelayMsMax: number;
}

/** Counts and times the engine's writes: their synchronous part is what blocks the event loop. */
class TimedStore implements KeyValueStore {
  flushes = 0;
  blockedMs = 0;
  blockedMsMax = 0;

  constructor(private readonly inner: KeyValueStore) {}

  get location(): string {
    return this.inner.location;
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  range(range: Parameters<KeyValueStore['range']>[0]): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    return this.inner.range(range);
  }

  write(operations: readonly KeyValueOperation[], options: WriteOptions): Promise<void> {
    const started = performance.now();
    const written = this.inner.write(operations, options);
    const blockedMs = performance.now() - started;
    this.flushes++;
    this.blockedMs += blockedMs;
    this.blockedMsMax = Math.max(this.blockedMsMax, blockedMs);
    return written;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function writerKey(writer: number, sequence: number): Uint8Array {
  const key = new Uint8Array(12);
  const view = new DataView(key.buffer);
  view.setUint32(0, writer);
  view.setBigUint64(4, BigInt(sequence));
  return key;
}

/** `writers` loops, each putting one value and awaiting it, for `durationMs` on a fresh database. */
export async function measureGroupCommit(
  directory: string,
  durability: Durability,
  writers: number,
  durationMs: number,
  writeThread: WriteThread = 'main',
): Promise<GroupCommitRun> {
  const store = new TimedStore(await openRocksDbKeyValueStore(directory, { writeThread }));
  const writer = new GroupCommitWriter(store, { durability });
  const value = new Uint8Array(valueBytes).fill(0x5a);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let records = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const writeLoop = async (id: number): Promise<void> => {
    for (let sequence = 0; performance.now() < deadline; sequence++) {
      await writer.write([{ type: 'put', key: writerKey(id, sequence), value }]);
      records++;
    }
  };
  histogram.enable();
  await Promise.all(Array.from({ length: writers }, (_, id) => writeLoop(id)));
  histogram.disable();
  const elapsedMs = performance.now() - started;
  await writer.close();
  await store.close();
  return {
    recordsPerSecond: (records * 1000) / elapsedMs,
    mebibytesPerSecond: (records * valueBytes) / mebibyte / (elapsedMs / 1000),
    recordsPerFlush: records / Math.max(1, store.flushes),
    writeBlockedFraction: store.blockedMs / elapsedMs,
    writeBlockedMsMean: store.blockedMs / Math.max(1, store.flushes),
    writeBlockedMsMax: store.blockedMsMax,
    eventLoopDelayMsP99: histogram.percentile(99) / nanosecondsPerMillisecond,
    eventLoopDelayMsMax: histogram.max / nanosecondsPerMillisecond,
  };
}

async function inTemporaryDirectory<T>(parent: string, action: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(join(parent, 'tributary-bench-engine-'));
  try {
    return await action(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

function describeRuns(measured: readonly GroupCommitRun[], rawMedian: number) {
  const pick = (field: keyof GroupCommitRun) => measured.map((run) => run[field]);
  const recordsPerSecond = summary(pick('recordsPerSecond'), 0);
  return {
    recordsPerSecond,
    mebibytesPerSecond: summary(pick('mebibytesPerSecond'), 2),
    ratioToRawFdatasync: Number((recordsPerSecond.median / rawMedian).toFixed(2)),
    recordsPerFlush: summary(pick('recordsPerFlush'), 1),
    writeBlockedFraction: summary(pick('writeBlockedFraction'), 3),
    writeBlockedMsMean: summary(pick('writeBlockedMsMean'), 3),
    writeBlockedMsMax: summary(pick('writeBlockedMsMax'), 2),
    eventLoopDelayMsP99: summary(pick('eventLoopDelayMsP99'), 2),
    eventLoopDelayMsMax: summary(pick('eventLoopDelayMsMax'), 2),
  };
}

async function main(parent: string): Promise<void> {
  const started = performance.now();
  const rawRates: number[] = [];
  const results = new Map<string, GroupCommitRun[]>();
  // Interleave the raw loop and every configuration so machine noise falls on all alike.
  for (let run = 0; run < runs; run++) {
    rawRates.push((await inTemporaryDirectory(parent, (directory) => measureRawFdatasync(directory, rawDurationMs))).fsyncsPerSecond);
    for (const writeThread of writeThreads) {
      for (const durability of durabilities) {
        for (const writers of writerCounts) {
          const measured = await inTemporaryDirectory(parent, (directory) => measureGroupCommit(directory, durability, writers, runDurationMs, writeThread));
          const key = `${writeThread}/${durability}/${writers}`;
          results.set(key, [...(results.get(key) ?? []), measured]);
        }
      }
    }
  }
  const rawMedian = median(rawRates);
  const section = (writeThread: WriteThread, durability: Durability) =>
    Object.fromEntries(writerCounts.map((writers) => [`writers${writers}`, describeRuns(results.get(`${writeThread}/${durability}/${writers}`) ?? [], rawMedian)]));
  const threadSection = (writeThread: WriteThread) => ({ fsync: section(writeThread, 'fsync'), none: section(writeThread, 'none') });
  console.log(
    JSON.stringify({
      bench: 'storage-engine',
      engine: 'rocksdb',
      valueBytes,
      runs,
      runDurationMs,
      rawFdatasyncPerSecond: summary(rawRates, 0),
      writeThreadMain: threadSection('main'),
      writeThreadWorker: threadSection('worker'),
      totalSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      node: process.version,
    }),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv[2] ?? tmpdir());
}
