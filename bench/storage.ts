// Partition appends per second and MiB/s for 1 KiB records on RocksDB, through the
// GroupCommitWriter, at 1, 16 and 256 concurrent appenders, with `durability: fsync` (every ack
// covered by a synced write) and `durability: none` (acks before any sync). Each appender owns one
// partition and appends one record at a time, awaiting each ack, the way partition leaders feed the
// shared writer. The disk's raw fdatasync limit (4 KiB write + fdatasync in a loop) is measured in
// the same run, and the ratio of group-committed records per second to raw fsyncs per second shows
// what group commit buys: above 1 means more than one record per sync; the event-loop delay (p99,
// max) says what the appends cost everything else sharing the loop. Prints one JSON line with
// medians over the measured runs, min and max. Every configuration runs with both RocksDB write
// threads ('main' and 'worker', see docs/STORAGE.md). Total time is bounded to about 80 seconds.
// Run: npm run bench:storage
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { GroupCommitWriter } from '../src/storage/group-commit-writer.js';
import { type PartitionLog, openPartitionLog } from '../src/storage/index.js';
import { openRocksDbKeyValueStore, type WriteThread } from '../src/storage/rocksdb/rocksdb-key-value-store.js';
import { measureRawFdatasync } from './storage-engine.js';
import { median, summary } from './bench-statistics.js';

const recordBytes = 1024;
const concurrencies = [1, 16, 256] as const;
const durabilities = ['fsync', 'none'] as const;
const writeThreads: readonly WriteThread[] = ['main', 'worker'];
const runs = 3;
const runDurationMs = 1_000;
const rawFdatasyncDurationMs = 1_000;
const mebibyte = 1024 * 1024;

type Durability = (typeof durabilities)[number];

interface RunResult {
  readonly recordsPerSecond: number;
  readonly mebibytesPerSecond: number;
  /** What the appends cost everything else on the event loop (a Raft host, gRPC servers). */
  readonly eventLoopDelayMsP99: number;
  readonly eventLoopDelayMsMax: number;
}

const nanosecondsPerMillisecond = 1e6;

/** One measured run on a fresh store: `appenders` loops appending for runDurationMs. */
async function runOnce(writeThread: WriteThread, durability: Durability, appenders: number): Promise<RunResult> {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-bench-storage-'));
  const engine = await openRocksDbKeyValueStore(directory, { writeThread });
  const writer = new GroupCommitWriter(engine, { durability });
  const logs: PartitionLog[] = [];
  for (let partition = 0; partition < appenders; partition++) logs.push(await openPartitionLog(engine, writer, { topic: 'bench', partition }));
  try {
    const record = { recordCount: 1, partitionLeaderEpoch: 1, firstTimestampMs: 0, maxTimestampMs: 0, payload: new Uint8Array(recordBytes).fill(0x5a) };
    let appended = 0;
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const started = performance.now();
    const deadline = started + runDurationMs;
    const appendLoop = async (log: PartitionLog): Promise<void> => {
      while (performance.now() < deadline) {
        await log.append(record);
        appended++;
      }
    };
    await Promise.all(logs.map(appendLoop));
    const elapsedSeconds = (performance.now() - started) / 1000;
    histogram.disable();
    return {
      recordsPerSecond: appended / elapsedSeconds,
      mebibytesPerSecond: (appended * recordBytes) / mebibyte / elapsedSeconds,
      eventLoopDelayMsP99: histogram.percentile(99) / nanosecondsPerMillisecond,
      eventLoopDelayMsMax: histogram.max / nanosecondsPerMillisecond,
    };
  } finally {
    await writer.close();
    await engine.close();
    await rm(directory, { recursive: true, force: true });
  }
}

async function measureRaw(): Promise<number> {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-bench-fdatasync-'));
  try {
    return (await measureRawFdatasync(directory, rawFdatasyncDurationMs)).fsyncsPerSecond;
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const rawRates: number[] = [];
  const results = new Map<string, RunResult[]>();
  // Interleave configurations and the raw measurement so machine noise falls on all alike.
  for (let run = 0; run < runs; run++) {
    rawRates.push(await measureRaw());
    for (const writeThread of writeThreads) {
      for (const durability of durabilities) {
        for (const appenders of concurrencies) {
          const key = `${writeThread}/${durability}/${appenders}`;
          results.set(key, [...(results.get(key) ?? []), await runOnce(writeThread, durability, appenders)]);
        }
      }
    }
  }
  const rawMedian = median(rawRates);
  const section = (writeThread: WriteThread, durability: Durability) =>
    Object.fromEntries(
      concurrencies.map((appenders) => {
        const measured = results.get(`${writeThread}/${durability}/${appenders}`) ?? [];
        const recordsPerSecond = summary(measured.map((result) => result.recordsPerSecond), 0);
        return [
          `appenders${appenders}`,
          {
            recordsPerSecond,
            mebibytesPerSecond: summary(measured.map((result) => result.mebibytesPerSecond), 2),
            ratioToRawFdatasync: Number((recordsPerSecond.median / rawMedian).toFixed(2)),
            eventLoopDelayMsP99: summary(measured.map((result) => result.eventLoopDelayMsP99), 2),
            eventLoopDelayMsMax: summary(measured.map((result) => result.eventLoopDelayMsMax), 2),
          },
        ];
      }),
    );
  console.log(
    JSON.stringify({
      bench: 'storage',
      engine: 'rocksdb',
      recordBytes,
      runs,
      runDurationMs,
      rawFdatasyncPerSecond: summary(rawRates, 0),
      writeThreadMain: { fsync: section('main', 'fsync'), none: section('main', 'none') },
      writeThreadWorker: { fsync: section('worker', 'fsync'), none: section('worker', 'none') },
      totalSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      node: process.version,
    }),
  );
}

await main();
