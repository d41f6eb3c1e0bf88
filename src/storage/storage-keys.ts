import assert from 'node:assert/strict';
import type { KeyRange } from './key-value-store.js';
import { assertPartitionId, type PartitionId } from './partition-id.js';

/**
 * The whole keyspace of a node's database, in one place (docs/STORAGE.md). Every key starts with
 * one prefix byte naming its concern, so concerns never interleave and each can be scanned or
 * cleared as one range. Numbers are 8-byte big-endian (snapshot chunk numbers 4-byte), so the
 * engine's bytewise order is numeric order; strings are length-prefixed, so no key of one
 * partition or device is a prefix of another's.
 *
 *   01 <index>                          Raft log entry
 *   02                                  Raft log compaction point (index and term)
 *   03                                  Raft hard state
 *   04 <index>                          committed snapshot metadata
 *   05 <index> <chunk u32>              snapshot chunk
 *   06 <index>                          snapshot being written (its chunks go if it never commits)
 *   10 <partition> <base offset>        partition batch
 *   11 <partition> <base offset>        partition batch summary (offsets, size, max timestamp, producer)
 *   12 <partition>                      partition log start offset
 *   13 <partition> <epoch>              leader-epoch checkpoint
 *   14                                  retired (a per-producer store; producer state is rebuilt from 11)
 *   15 <partition>                      the id of the topic incarnation the partition's data belongs to
 *   16 <partition>                      idempotent producers' batch summaries retention deleted
 *   20 <device id> <session id>         upload-session index entry
 *
 * where <partition> is <topic length u16> <topic UTF-8> <partition index u32>.
 */
export const keyPrefixes = {
  raftEntry: 0x01,
  raftCompaction: 0x02,
  raftHardState: 0x03,
  snapshotMetadata: 0x04,
  snapshotChunk: 0x05,
  snapshotPending: 0x06,
  partitionBatch: 0x10,
  partitionBatchSummary: 0x11,
  partitionLogStart: 0x12,
  leaderEpoch: 0x13,
  partitionTopicId: 0x15,
  retiredProducerBatches: 0x16,
  uploadSession: 0x20,
} as const;

type KeyPrefix = (typeof keyPrefixes)[keyof typeof keyPrefixes];
type KeyPart = number | Uint8Array;

const uint64Bytes = 8;
const uint32Bytes = 4;
/** Length prefixes are 2 bytes; the identifiers they frame (topic, device, session) are far shorter. */
export const keyStringBytesMax = 0xffff;
const utf8 = new TextEncoder();

/** A safe non-negative integer as 8 big-endian bytes. */
export function encodeUint64(value: number): Uint8Array {
  assert.ok(Number.isSafeInteger(value) && value >= 0, `a key number must be a safe non-negative integer, got ${value}`);
  const bytes = new Uint8Array(uint64Bytes);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, Math.floor(value / 2 ** 32));
  view.setUint32(4, value >>> 0);
  return bytes;
}

/** The 8-byte big-endian number at `position` of a key, as encodeUint64 wrote it. */
export function decodeUint64(bytes: Uint8Array, position: number): number {
  assert.ok(position + uint64Bytes <= bytes.byteLength, `a key of ${bytes.byteLength} bytes has no 8-byte number at ${position}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, uint64Bytes);
  return view.getUint32(0) * 2 ** 32 + view.getUint32(4);
}

/** The index in a raftEntryKey. */
export const raftEntryIndex = (entryKey: Uint8Array): number => decodeUint64(entryKey, 1);
/** The base offset in a partitionBatchSummaryKey: its last 8 bytes. */
export const partitionBatchSummaryOffset = (summaryKey: Uint8Array): number => decodeUint64(summaryKey, summaryKey.byteLength - uint64Bytes);
/** The index in a snapshotPendingKey. */
export const snapshotPendingIndex = (pendingKey: Uint8Array): number => decodeUint64(pendingKey, 1);

function encodeUint32(value: number): Uint8Array {
  assert.ok(Number.isInteger(value) && value >= 0 && value <= 0xffffffff, `a 4-byte key number must be from 0 to ${0xffffffff}, got ${value}`);
  const bytes = new Uint8Array(uint32Bytes);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

function encodeString(value: string): Uint8Array {
  const text = utf8.encode(value);
  assert.ok(text.byteLength <= keyStringBytesMax, `a key string must be at most ${keyStringBytesMax} UTF-8 bytes, got ${text.byteLength}`);
  const bytes = new Uint8Array(2 + text.byteLength);
  new DataView(bytes.buffer).setUint16(0, text.byteLength);
  bytes.set(text, 2);
  return bytes;
}

function encodePartition(id: PartitionId): Uint8Array {
  assertPartitionId(id);
  return concatParts([encodeString(id.topic), encodeUint32(id.partition)]);
}

function concatParts(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.byteLength, 0));
  let position = 0;
  for (const part of parts) {
    bytes.set(part, position);
    position += part.byteLength;
  }
  return bytes;
}

/** Numbers in key parts are 8-byte; byte arrays are taken as they are. */
function key(prefix: KeyPrefix, ...parts: readonly KeyPart[]): Uint8Array {
  return concatParts([Uint8Array.of(prefix), ...parts.map((part) => (typeof part === 'number' ? encodeUint64(part) : part))]);
}

/** The first key after every key that starts with `prefix`. */
function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  for (let position = end.length - 1; position >= 0; position--) {
    if ((end[position] as number) < 0xff) {
      end[position] = (end[position] as number) + 1;
      return end.subarray(0, position + 1);
    }
  }
  throw new Error('a key prefix of only 0xff bytes has no end');
}

function prefixRange(prefix: Uint8Array): KeyRange {
  return { gte: prefix, lt: prefixEnd(prefix) };
}

/** Keys `prefix ‖ number` for numbers in [from, to); `to` undefined means to the end of the prefix. */
function numberRange(prefix: Uint8Array, from: number, to: number | undefined): KeyRange {
  const lt = to === undefined ? prefixEnd(prefix) : concatParts([prefix, encodeUint64(to)]);
  return { gte: concatParts([prefix, encodeUint64(from)]), lt };
}

export const raftEntryKey = (index: number): Uint8Array => key(keyPrefixes.raftEntry, index);
/** Entries with indices in [low, high), or to the end when `high` is undefined. */
export const raftEntryRange = (low: number, high?: number): KeyRange => numberRange(key(keyPrefixes.raftEntry), low, high);
export const raftCompactionKey = (): Uint8Array => key(keyPrefixes.raftCompaction);
export const raftHardStateKey = (): Uint8Array => key(keyPrefixes.raftHardState);

export const snapshotMetadataKey = (index: number): Uint8Array => key(keyPrefixes.snapshotMetadata, index);
export const snapshotMetadataRange = (): KeyRange => prefixRange(key(keyPrefixes.snapshotMetadata));
export const snapshotChunkKey = (index: number, chunkNumber: number): Uint8Array =>
  key(keyPrefixes.snapshotChunk, index, encodeUint32(chunkNumber));
export const snapshotChunkRange = (index: number): KeyRange => prefixRange(key(keyPrefixes.snapshotChunk, index));
export const snapshotPendingKey = (index: number): Uint8Array => key(keyPrefixes.snapshotPending, index);
export const snapshotPendingRange = (): KeyRange => prefixRange(key(keyPrefixes.snapshotPending));

export const partitionBatchKey = (id: PartitionId, baseOffset: number): Uint8Array =>
  key(keyPrefixes.partitionBatch, encodePartition(id), baseOffset);
/** Batches with base offsets in [from, to), or to the end when `to` is undefined. */
export const partitionBatchRange = (id: PartitionId, from: number, to?: number): KeyRange =>
  numberRange(key(keyPrefixes.partitionBatch, encodePartition(id)), from, to);
export const partitionBatchSummaryKey = (id: PartitionId, baseOffset: number): Uint8Array =>
  key(keyPrefixes.partitionBatchSummary, encodePartition(id), baseOffset);
export const partitionBatchSummaryRange = (id: PartitionId): KeyRange =>
  prefixRange(key(keyPrefixes.partitionBatchSummary, encodePartition(id)));
export const partitionLogStartKey = (id: PartitionId): Uint8Array => key(keyPrefixes.partitionLogStart, encodePartition(id));
export const leaderEpochKey = (id: PartitionId, epoch: number): Uint8Array => key(keyPrefixes.leaderEpoch, encodePartition(id), epoch);
export const leaderEpochRange = (id: PartitionId): KeyRange => prefixRange(key(keyPrefixes.leaderEpoch, encodePartition(id)));
export const partitionTopicIdKey = (id: PartitionId): Uint8Array => key(keyPrefixes.partitionTopicId, encodePartition(id));
export const retiredProducerBatchesKey = (id: PartitionId): Uint8Array => key(keyPrefixes.retiredProducerBatches, encodePartition(id));

/** Every range holding data of `id`'s partition: what discarding a partition deletes. */
export function partitionDataRanges(id: PartitionId): KeyRange[] {
  const partition = encodePartition(id);
  const prefixes = [keyPrefixes.partitionBatch, keyPrefixes.partitionBatchSummary, keyPrefixes.partitionLogStart, keyPrefixes.leaderEpoch, keyPrefixes.retiredProducerBatches];
  return prefixes.map((prefix) => prefixRange(key(prefix, partition)));
}

export const uploadSessionKey = (deviceId: string, sessionId: string): Uint8Array =>
  key(keyPrefixes.uploadSession, encodeString(deviceId), encodeString(sessionId));
/** One device's sessions, or every device's when `deviceId` is undefined. */
export const uploadSessionRange = (deviceId?: string): KeyRange =>
  prefixRange(deviceId === undefined ? key(keyPrefixes.uploadSession) : key(keyPrefixes.uploadSession, encodeString(deviceId)));
