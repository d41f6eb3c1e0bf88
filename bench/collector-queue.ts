// Durable appends per second to the collector queue (src/ingest/collector-queue.ts) for 4 KiB and
// 1 MiB entries, at 1 and several concurrent appenders, each awaiting its append before the next,
// the way recording threads feed the queue. Every append resolves only after the fdatasync that
// covers it; the disk's raw fdatasync rate (4 KiB write + fdatasync in a loop) is measured in the
// same run, and appendsPerFsync (appends/s over raw fdatasyncs/s) shows what group commit buys:
// above 1 means several appends share one sync. The queue hashes every appended byte with its
// resumable SHA-256 (sha256-state.ts); its throughput alone is measured too, since it bounds
// large entries. Prints one JSON line with medians, min and max over the runs; about 30 seconds.
// Run: npm run bench:collector-queue
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CollectorQueue } from '../src/ingest/collector-queue.js';
import { Sha256State } from '../src/ingest/sha256-state.js';
import { summary } from './bench-statistics.js';
import { measureRawFdatasync } from './storage-engine.js';

const kibibyte = 1024;
const mebibyte = 1024 * kibibyte;
const configurations = [
  { entryBytes: 4 * kibibyte, appenders: 1 },
  { entryBytes: 4 * kibibyte, appenders: 16 },
  { entryBytes: mebibyte, appenders: 1 },
  { entryBytes: mebibyte, appenders: 4 },
] as const;
const runs = 3;
const runDurationMs = 1_500;
const rawFdatasyncDurationMs = 1_000;
const hashBytes = 64 * mebibyte;

interface RunResult {
  readonly appendsPerSecond: number;
  readonly mebibytesPerSecond: number;
}

/** One run on a fresh queue: `appenders` loops, one source each, appending for runDurationMs. */
async function runOnce(entryBytes: number, appenders: number): Promise<RunResult> {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-bench-collector-queue-'));
  const queue = await CollectorQueue.open(directory, { entryBytesMax: entryBytes, queueBytesMax: 4 * 1024 * mebibyte });
  try {
    const sources = Array.from({ length: appenders }, (_, index) => `source-${index}`);
    await queue.declareSession({ sessionId: 'bench', sources: sources.map((name) => ({ name, contentType: 'application/octet-stream', payloadKind: 'binary' })) });
    const entry = new Uint8Array(entryBytes).fill(0x5a);
    let appended = 0;
    const started = performance.now();
    const deadline = started + runDurationMs;
    await Promise.all(
      sources.map(async (source) => {
        while (performance.now() < deadline) {
          await queue.append('bench', source, entry);
          appended++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { appendsPerSecond: appended / seconds, mebibytesPerSecond: (appended * entryBytes) / mebibyte / seconds };
  } finally {
    await queue.close();
    await rm(directory, { recursive: true, force: true });
  }
}

function measureSha256MebibytesPerSecond(): number {
  const bytes = new Uint8Array(hashBytes).fill(0x33);
  const state = new Sha256State();
  const started = performance.now();
  for (let offset = 0; offset < hashBytes; offset += mebibyte) state.update(bytes.subarray(offset, offset + mebibyte));
  state.digest();
  return hashBytes / mebibyte / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-bench-fdatasync-'));
  const raw = await measureRawFdatasync(directory, rawFdatasyncDurationMs);
  await rm(directory, { recursive: true, force: true });
  const results = [];
  for (const { entryBytes, appenders } of configurations) {
    const measured: RunResult[] = [];
    for (let run = 0; run < runs; run++) measured.push(await runOnce(entryBytes, appenders));
    const appendsPerSecond = summary(measured.map((result) => result.appendsPerSecond), 0);
    results.push({
      entryBytes,
      appenders,
      appendsPerSecond,
      mebibytesPerSecond: summary(measured.map((result) => result.mebibytesPerSecond), 1),
      appendsPerFsync: Number((appendsPerSecond.median / raw.fsyncsPerSecond).toFixed(2)),
    });
  }
  const sha256MebibytesPerSecond = Number(measureSha256MebibytesPerSecond().toFixed(0));
  console.log(JSON.stringify({ bench: 'collector-queue', runs, runDurationMs, rawFdatasyncsPerSecond: Number(raw.fsyncsPerSecond.toFixed(0)), sha256MebibytesPerSecond, results }));
}

await main();
