// Crash consistency with real processes (issue #4, docs/STORAGE.md "Recovery after a crash"): a
// child appends to a RocksDB-backed PartitionLog through the GroupCommitWriter with fsync and prints
// each acknowledged offset; this test kills it with SIGKILL at seeded random points, reopens the
// store in-process and checks that nothing acknowledged was lost, that the log is a hole-free
// prefix of whole batches, and that a damaged store gives a clear error or a clean prefix, never
// silent garbage. Reproduce a failure with STORAGE_CRASH_SEED=<seed> npx vitest run storage-crash.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, open, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/errors/index.js';
import { Prng } from '../sim/prng.js';
import {
  type CrashStore,
  type RecordIdentity,
  crashPartitionName,
  decodeCrashRecord,
  encodeCrashRecord,
  openCrashStore,
  recordsInBatch,
} from '../support/storage-crash-child.js';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const childScript = 'test/support/storage-crash-child.ts';
const seed = Number(process.env.STORAGE_CRASH_SEED ?? 4_2025);
const killIterations = 8;
const appendersPerChild = 4;
/** A child is killed after this many acknowledged records at most (0 kills it as soon as it is open). */
const killAfterAcksMax = 600;
const childTimeoutMs = 15_000;
const readBytesMax = 64 * 1024;
/** The parent's own appends after a reopen use generations from here, apart from the children's. */
const parentGenerationBase = 1_000_000;

/** What each directory must hold: every acknowledged offset and the record it names. */
type AckedRecords = Map<number, RecordIdentity>;

const liveChildren = new Set<ChildProcess>();
const directories: string[] = [];

afterEach(() => {
  for (const child of liveChildren) child.kill('SIGKILL');
  liveChildren.clear();
});

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function freshDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-storage-crash-'));
  directories.push(directory);
  return directory;
}

interface KilledChild {
  readonly acks: ReadonlyArray<readonly [number, RecordIdentity]>;
  readonly stderr: string;
}

/**
 * Spawns the child on `directory` and SIGKILLs it once it has acknowledged `killAfterAcks` records
 * (0: as soon as it reports the store open). Resolves with the acks it printed before it died.
 */
function runAndKill(directory: string, generation: number, killAfterAcks: number): Promise<KilledChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, directory, String(generation), String(appendersPerChild)], {
    cwd: repositoryRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  let stdout = '';
  let stderr = '';
  let ackCount = 0;
  let ready = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`crash child did not reach ${killAfterAcks} acks within ${childTimeoutMs} ms; stderr: ${stderr}`));
    }, childTimeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stdout += text;
      ready ||= stdout.startsWith('ready ');
      ackCount += text.split('\nack ').length - 1 + (text.startsWith('ack ') ? 1 : 0);
      if (ready && ackCount >= killAfterAcks) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      if (signal !== 'SIGKILL') {
        reject(new Error(`crash child exited by itself (code ${code}, signal ${signal}); stderr: ${stderr}`));
        return;
      }
      resolve({ acks: parseAcks(stdout, generation), stderr });
    });
  });
}

/** The complete `ack` lines; a line cut by the kill has no newline and is not an ack. */
function parseAcks(stdout: string, generation: number): Array<readonly [number, RecordIdentity]> {
  const lines = stdout.split('\n').slice(0, -1);
  const acks: Array<readonly [number, RecordIdentity]> = [];
  for (const line of lines) {
    const fields = line.split(' ');
    if (fields[0] !== 'ack') continue;
    const [offset, lineGeneration, appender, sequence, position] = fields.slice(1).map(Number) as [number, number, number, number, number];
    expect(lineGeneration).toBe(generation);
    acks.push([offset, { generation: lineGeneration, appender, sequence, position }]);
  }
  return acks;
}

/** Every record from the log start to the log end, in order, with each offset checked on the way. */
async function readWholeLog(store: CrashStore): Promise<Array<readonly [number, Uint8Array]>> {
  const records: Array<readonly [number, Uint8Array]> = [];
  const logEndOffset = store.logEndOffset();
  let nextOffset = store.logStartOffset();
  while (nextOffset < logEndOffset) {
    const batch = await store.read(nextOffset, readBytesMax);
    expect(batch.length, `read(${nextOffset}) returned nothing below log end ${logEndOffset}`).toBeGreaterThan(0);
    for (const [offset, value] of batch) {
      if (offset >= logEndOffset) break;
      expect(offset, 'offsets must be contiguous: a hole or a repeat in the log').toBe(nextOffset);
      records.push([offset, value]);
      nextOffset++;
    }
  }
  return records;
}

/**
 * The recovered log's invariants: each record is byte-for-byte one a writer produced; batches are
 * whole and in each appender's order; no record appears twice; and when `acked` is given, every
 * acknowledged offset is below the log end and holds the acknowledged record.
 */
async function verifyLog(store: CrashStore, acked: AckedRecords | undefined): Promise<void> {
  const logStartOffset = store.logStartOffset();
  const logEndOffset = store.logEndOffset();
  expect(logStartOffset).toBeLessThanOrEqual(logEndOffset);
  const records = await readWholeLog(store);
  expect(records.length).toBe(logEndOffset - logStartOffset);
  const identities = new Map<number, RecordIdentity>();
  const seen = new Set<string>();
  const lastSequence = new Map<string, number>();
  let openBatch: { identity: RecordIdentity; count: number } | undefined;
  for (const [offset, value] of records) {
    const identity = decodeCrashRecord(value);
    expect(identity, `offset ${offset} holds bytes no writer produced (${value.length} bytes)`).toBeDefined();
    if (identity === undefined) return;
    identities.set(offset, identity);
    const key = `${identity.generation}/${identity.appender}/${identity.sequence}/${identity.position}`;
    expect(seen.has(key), `record ${key} appears twice, again at offset ${offset}`).toBe(false);
    seen.add(key);
    openBatch = checkBatchOrder(identity, offset, openBatch, lastSequence);
  }
  expect(openBatch, `the log ends inside a batch: ${JSON.stringify(openBatch)}`).toBeUndefined();
  for (const [offset, identity] of acked ?? []) {
    expect(offset, `acknowledged offset ${offset} is beyond the recovered log end ${logEndOffset}`).toBeLessThan(logEndOffset);
    if (offset < logStartOffset) continue;
    expect(identities.get(offset), `acknowledged offset ${offset} holds another record`).toEqual(identity);
  }
}

/** Positions within a batch run 0..count-1 without interruption; an appender's batches go up by one. */
function checkBatchOrder(
  identity: RecordIdentity,
  offset: number,
  openBatch: { identity: RecordIdentity; count: number } | undefined,
  lastSequence: Map<string, number>,
): { identity: RecordIdentity; count: number } | undefined {
  const count = identity.generation >= parentGenerationBase ? 1 : recordsInBatch(identity.generation, identity.appender, identity.sequence);
  if (openBatch !== undefined) {
    const expected = { ...openBatch.identity, position: openBatch.identity.position + 1 };
    expect(identity, `offset ${offset} interrupts a batch (torn or interleaved)`).toEqual(expected);
  } else {
    expect(identity.position, `offset ${offset} starts a batch in its middle`).toBe(0);
    const appenderKey = `${identity.generation}/${identity.appender}`;
    const previous = lastSequence.get(appenderKey) ?? -1;
    expect(identity.sequence, `appender ${appenderKey} skipped or repeated a batch at offset ${offset}`).toBe(previous + 1);
    lastSequence.set(appenderKey, identity.sequence);
  }
  return identity.position + 1 < count ? { identity, count } : undefined;
}

/** Appends one record after a reopen and checks it lands exactly at the old log end. */
async function appendAfterReopen(store: CrashStore, acked: AckedRecords, generation: number): Promise<void> {
  const logEndOffset = store.logEndOffset();
  const identity = { generation, appender: 0, sequence: 0, position: 0 };
  const { baseOffset, lastOffset } = await store.append([encodeCrashRecord(identity)]);
  expect(baseOffset, 'an append after reopening must continue at the log end').toBe(logEndOffset);
  expect(lastOffset).toBe(logEndOffset);
  expect(store.logEndOffset()).toBe(logEndOffset + 1);
  acked.set(baseOffset, identity);
}

async function withStore<T>(directory: string, use: (store: CrashStore) => Promise<T>): Promise<T> {
  const store = await openCrashStore(directory);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

describe(`storage crash consistency (seed=${seed})`, () => {
  it('keeps every acknowledged record across SIGKILL; the log stays a hole-free prefix and appends continue at its end', async () => {
    const prng = new Prng(seed).fork('kill-points');
    const ackedByDirectory = new Map<string, AckedRecords>();
    let generation = 1;
    for (let iteration = 0; iteration < killIterations; iteration++) {
      const continuing = iteration > 0 && prng.chance(0.6);
      const directory = continuing ? (directories.at(-1) ?? (await freshDirectory())) : await freshDirectory();
      const acked = ackedByDirectory.get(directory) ?? new Map<number, RecordIdentity>();
      ackedByDirectory.set(directory, acked);
      const killAfterAcks = prng.chance(0.15) ? 0 : prng.range(1, killAfterAcksMax);
      const killed = await runAndKill(directory, generation, killAfterAcks);
      for (const [offset, identity] of killed.acks) {
        expect(acked.has(offset), `offset ${offset} acknowledged twice (iteration ${iteration})`).toBe(false);
        acked.set(offset, identity);
      }
      await withStore(directory, async (store) => {
        await verifyLog(store, acked);
        await appendAfterReopen(store, acked, parentGenerationBase + generation);
        await verifyLog(store, acked);
      });
      generation++;
    }
  });

  it('reports a value corrupted on disk as CORRUPT_RECORD naming the partition and offset, never its bytes', async () => {
    const directory = await freshDirectory();
    const offsets = await withStore(directory, async (store) => {
      const appended: number[] = [];
      for (let sequence = 0; sequence < 5; sequence++) {
        const records = [0, 1].map((position) => encodeCrashRecord({ generation: 1, appender: 0, sequence, position }));
        appended.push((await store.append(records)).baseOffset);
      }
      return appended;
    });
    const corruptedOffset = offsets.at(-1) ?? 0;
    await withStore(directory, (store) => store.corruptStoredBatch(corruptedOffset));
    await withStore(directory, async (store) => {
      const intact = await store.read(0, 1);
      expect(decodeCrashRecord(intact[0]?.[1] ?? new Uint8Array(0))).toBeDefined();
      const error = await store.read(corruptedOffset, readBytesMax).then(
        (records) => new Error(`read returned ${records.length} records from a corrupted batch`),
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(TributaryError);
      expect((error as TributaryError).code).toBe('CORRUPT_RECORD');
      expect((error as TributaryError).message).toContain(crashPartitionName);
      expect((error as TributaryError).message).toContain(`offset ${corruptedOffset} in RocksDB database "${directory}"`);
    });
  });

  it('recovers a store whose WAL or table files were damaged after SIGKILL to a clean prefix, or fails to open with a clear error', async () => {
    const prng = new Prng(seed).fork('file-damage');
    const damages = [
      { damage: 'truncate-tail', extension: '.log' },
      { damage: 'flip-bytes', extension: '.log' },
      { damage: 'flip-bytes', extension: '.sst' },
    ] as const;
    for (const { damage, extension } of damages) {
      const directory = await freshDirectory();
      // Two lives: reopening flushes the first one's WAL into a table file, so both kinds exist.
      await runAndKill(directory, 1, prng.range(100, 300));
      await runAndKill(directory, 2, prng.range(100, 300));
      const damaged = await damageNewestFile(directory, extension, damage, prng);
      const outcome = await openCrashStore(directory).then(
        async (store) => {
          try {
            await verifyLog(store, undefined);
            return 'clean prefix';
          } catch (error) {
            // A failed check of verifyLog is silent garbage, the one outcome this test forbids.
            if (error instanceof Error && error.name === 'AssertionError') throw error;
            return asClearStorageError(error, directory, damaged);
          } finally {
            await store.close();
          }
        },
        (error: unknown) => asClearStorageError(error, directory, damaged),
      );
      expect(['clean prefix', 'clear error']).toContain(outcome);
    }
  });
});

/** Damages the newest WAL (`.log`) or table (`.sst`) file with data in it; returns its name. */
async function damageNewestFile(directory: string, extension: '.log' | '.sst', damage: 'truncate-tail' | 'flip-bytes', prng: Prng): Promise<string> {
  const candidates: Array<{ name: string; size: number; modifiedMs: number }> = [];
  for (const name of await readdir(directory)) {
    if (!name.endsWith(extension)) continue;
    const info = await stat(join(directory, name));
    if (info.size > 0) candidates.push({ name, size: info.size, modifiedMs: info.mtimeMs });
  }
  candidates.sort((left, right) => right.modifiedMs - left.modifiedMs);
  const target = candidates[0];
  if (target === undefined) throw new Error(`no ${extension} file with data in ${directory}`);
  const path = join(directory, target.name);
  if (damage === 'truncate-tail') {
    await truncate(path, Math.floor(target.size * prng.rangeFloat(0.3, 0.9)));
  } else {
    const file = await open(path, 'r+');
    try {
      const position = Math.floor(target.size * prng.rangeFloat(0.3, 0.9));
      await file.write(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, position);
    } finally {
      await file.close();
    }
  }
  return target.name;
}

/** A clear error names the directory and is a CORRUPT_RECORD or says what is corrupt. */
function asClearStorageError(error: unknown, directory: string, damagedFile: string): 'clear error' {
  const message = error instanceof Error ? error.message : String(error);
  const clear = message.includes(directory) && ((error instanceof TributaryError && error.code === 'CORRUPT_RECORD') || /corrupt/i.test(message));
  expect(clear, `damaging ${damagedFile} gave an unclear error: ${message}`).toBe(true);
  return 'clear error';
}
