// The process that test/integration/storage-crash.test.ts kills. It opens the RocksDB store in the
// directory it is given, appends to one PartitionLog through the GroupCommitWriter with fsync from
// several concurrent appenders, and prints one line per acknowledged record on stdout, ONLY AFTER
// the append's promise resolved:
//
//   ack OFFSET GENERATION APPENDER SEQUENCE POSITION
//
// It never stops by itself (up to a bound); the parent ends it with SIGKILL. stdout to a pipe is
// synchronous on Linux, so a line that was written is in the pipe when the kill lands.
//
// Run: node --import tsx test/support/storage-crash-child.ts DIRECTORY GENERATION APPENDERS
import { argv, exit, stdout } from 'node:process';
import { pathToFileURL } from 'node:url';
import { GroupCommitWriter } from '../../src/storage/group-commit-writer.js';
import { openPartitionLog } from '../../src/storage/index.js';
import type { PartitionId } from '../../src/storage/partition-id.js';
import type { LogBatch } from '../../src/storage/partition-log.js';
import { openRocksDbKeyValueStore } from '../../src/storage/rocksdb/rocksdb-key-value-store.js';
import { partitionBatchKey } from '../../src/storage/storage-keys.js';
import type { StoredBatch } from '../../src/storage/stored-batch.js';

/** Every crash-test record goes to this one partition, so the parent knows where to look. */
export const crashPartitionId: PartitionId = { topic: 'crash', partition: 3 };
/** How errors name it (formatPartition). */
export const crashPartitionName = 'crash-3';
/** Appenders never go beyond this many batches each, so a forgotten child cannot fill the disk. */
const batchesPerAppenderMax = 20_000;
const recordsPerBatchMax = 4;
const headerBytes = 16;
const bodyBytesMin = 24;
const bodyBytesSpread = 400;

/** Who wrote a record: the child's generation (one per spawn), its appender, batch and position. */
export interface RecordIdentity {
  readonly generation: number;
  readonly appender: number;
  readonly sequence: number;
  readonly position: number;
}

/** A 32-bit mix of the identity, so neighbouring records get unrelated bodies. */
function mixIdentity(identity: RecordIdentity): number {
  let hash = 0x811c9dc5;
  for (const word of [identity.generation, identity.appender, identity.sequence, identity.position]) {
    hash = Math.imul(hash ^ word, 0x01000193) >>> 0;
    hash = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return hash;
}

/**
 * The record's bytes, a pure function of its identity: a 16-byte header that names the identity,
 * then a body whose length and bytes are derived from it. A reader can therefore check that any
 * record it finds is exactly one the child wrote, whole, and not a torn or shuffled one.
 */
export function encodeCrashRecord(identity: RecordIdentity): Uint8Array {
  const seed = mixIdentity(identity);
  const bodyBytes = bodyBytesMin + (seed % bodyBytesSpread);
  const record = new Uint8Array(headerBytes + bodyBytes);
  const view = new DataView(record.buffer);
  view.setUint32(0, identity.generation);
  view.setUint32(4, identity.appender);
  view.setUint32(8, identity.sequence);
  view.setUint32(12, identity.position);
  let state = seed;
  for (let index = headerBytes; index < record.length; index++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    record[index] = state >>> 24;
  }
  return record;
}

/** The identity a record names, or undefined when its bytes are not exactly what the child wrote. */
export function decodeCrashRecord(record: Uint8Array): RecordIdentity | undefined {
  if (record.length < headerBytes) return undefined;
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const identity = { generation: view.getUint32(0), appender: view.getUint32(4), sequence: view.getUint32(8), position: view.getUint32(12) };
  return Buffer.from(encodeCrashRecord(identity)).equals(record) ? identity : undefined;
}

/** Records in the batch an appender sends with this sequence number: 1 to recordsPerBatchMax. */
export function recordsInBatch(generation: number, appender: number, sequence: number): number {
  return 1 + (mixIdentity({ generation, appender, sequence, position: 0xffffffff }) % recordsPerBatchMax);
}

/** The store as the child and the parent use it: the PartitionLog over RocksDB with fsync group commit. */
export interface CrashStore {
  append(records: readonly Uint8Array[]): Promise<{ baseOffset: number; lastOffset: number }>;
  /** Records from `fromOffset` on, as [offset, value] pairs, up to about `maxBytes`. */
  read(fromOffset: number, maxBytes: number): Promise<Array<readonly [number, Uint8Array]>>;
  logStartOffset(): number;
  logEndOffset(): number;
  /** Flips one byte of the stored batch at `baseOffset` through the raw engine, synced. */
  corruptStoredBatch(baseOffset: number): Promise<void>;
  close(): Promise<void>;
}

/** The records of one append as one stored batch: each record framed by its u32 length. */
function packBatch(records: readonly Uint8Array[]): StoredBatch {
  const payload = new Uint8Array(records.reduce((total, record) => total + 4 + record.byteLength, 0));
  const view = new DataView(payload.buffer);
  let position = 0;
  for (const record of records) {
    view.setUint32(position, record.byteLength);
    payload.set(record, position + 4);
    position += 4 + record.byteLength;
  }
  return { recordCount: records.length, partitionLeaderEpoch: 1, firstTimestampMs: 0, maxTimestampMs: 0, payload };
}

/** A batch read back as [offset, record] pairs; a frame that does not fit yields the rest as one record. */
function unpackBatch(batch: LogBatch): Array<readonly [number, Uint8Array]> {
  const records: Array<readonly [number, Uint8Array]> = [];
  const view = new DataView(batch.payload.buffer, batch.payload.byteOffset, batch.payload.byteLength);
  let position = 0;
  for (let offset = batch.baseOffset; offset <= batch.lastOffset; offset++) {
    const length = position + 4 <= view.byteLength ? view.getUint32(position) : 0;
    const end = Math.min(position + 4 + length, view.byteLength);
    records.push([offset, batch.payload.subarray(Math.min(position + 4, end), end)]);
    position = end;
  }
  return records;
}

export async function openCrashStore(directory: string): Promise<CrashStore> {
  const engine = await openRocksDbKeyValueStore(directory);
  const writer = new GroupCommitWriter(engine, { durability: 'fsync' });
  const log = await openPartitionLog(engine, writer, crashPartitionId);
  return {
    append: (records) => log.append(packBatch(records)),
    read: async (fromOffset, maxBytes) => (await log.read(fromOffset, maxBytes)).flatMap(unpackBatch),
    logStartOffset: () => log.logStartOffset(),
    logEndOffset: () => log.logEndOffset(),
    corruptStoredBatch: async (baseOffset) => {
      const key = partitionBatchKey(crashPartitionId, baseOffset);
      const stored = await engine.get(key);
      if (stored === undefined) throw new Error(`no stored batch at offset ${baseOffset}`);
      const damaged = stored.slice();
      const last = damaged.length - 1;
      damaged[last] = (damaged[last] ?? 0) ^ 0x40;
      await engine.write([{ type: 'put', key, value: damaged }], { sync: true });
    },
    close: async () => {
      await writer.close();
      await engine.close();
    },
  };
}

async function main(): Promise<void> {
  const [directory, generationText, appendersText] = argv.slice(2);
  const generation = Number(generationText);
  const appenders = Number(appendersText);
  if (directory === undefined || !Number.isSafeInteger(generation) || !(appenders >= 1 && appenders <= 64)) {
    throw new Error('usage: storage-crash-child.ts DIRECTORY GENERATION APPENDERS(1..64)');
  }
  const store = await openCrashStore(directory);
  stdout.write(`ready ${store.logEndOffset()}\n`);
  const appendLoop = async (appender: number): Promise<void> => {
    for (let sequence = 0; sequence < batchesPerAppenderMax; sequence++) {
      const count = recordsInBatch(generation, appender, sequence);
      const records = Array.from({ length: count }, (_, position) => encodeCrashRecord({ generation, appender, sequence, position }));
      const { baseOffset, lastOffset } = await store.append(records);
      if (lastOffset - baseOffset + 1 !== count) throw new Error(`append of ${count} records returned ${baseOffset}..${lastOffset}`);
      let lines = '';
      for (let position = 0; position < count; position++) {
        lines += `ack ${baseOffset + position} ${generation} ${appender} ${sequence} ${position}\n`;
      }
      stdout.write(lines);
    }
  };
  await Promise.all(Array.from({ length: appenders }, (_, appender) => appendLoop(appender)));
  stdout.write('done\n');
}

if (import.meta.url === pathToFileURL(argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    exit(1);
  });
}
