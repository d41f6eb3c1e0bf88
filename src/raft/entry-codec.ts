import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import type { ConfChange, Entry, EntryType } from './raft-types.js';

/**
 * msgpackr with plain maps (no record extension, so any msgpack reader can read the bytes) and
 * 64-bit integers decoded as numbers: Raft indices and terms are JS numbers, asserted safe below.
 */
const packr = new Packr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });

const entryTypes: readonly EntryType[] = ['normal', 'confChange'];
const confChangeTypes: ReadonlyArray<ConfChange['type']> = ['addLearner', 'promoteLearner', 'removeNode'];

/** On the wire an entry is a 4-element array [index, term, type, data]: compact and ordered. */
type EncodedEntry = [number, number, number, Uint8Array];

export function encodeEntries(entries: readonly Entry[]): Uint8Array {
  const encoded: EncodedEntry[] = entries.map((entry) => [entry.index, entry.term, entryTypes.indexOf(entry.type), entry.data]);
  return packr.pack(encoded);
}

export function decodeEntries(bytes: Uint8Array): Entry[] {
  const decoded: unknown = packr.unpack(bytes);
  assert.ok(Array.isArray(decoded), 'encoded entries must be an array');
  return decoded.map((item: unknown, position) => decodeEntry(item, position));
}

function decodeEntry(item: unknown, position: number): Entry {
  assert.ok(Array.isArray(item) && item.length === 4, `encoded entry ${position} must be [index, term, type, data]`);
  const [index, term, typeCode, data] = item as unknown[];
  assertSafeIndex(index, `entry ${position} index`);
  assertSafeIndex(term, `entry ${position} term`);
  const type = typeof typeCode === 'number' ? entryTypes[typeCode] : undefined;
  assert.ok(type !== undefined, `entry ${position} has unknown type code ${String(typeCode)}`);
  assert.ok(data instanceof Uint8Array, `entry ${position} data must be bytes`);
  return { index, term, type, data };
}

export function encodeConfChange(change: ConfChange): Uint8Array {
  return packr.pack({ type: change.type, nodeId: change.nodeId });
}

export function decodeConfChange(bytes: Uint8Array): ConfChange {
  const decoded: unknown = packr.unpack(bytes);
  assert.ok(typeof decoded === 'object' && decoded !== null, 'an encoded ConfChange must be a map');
  const { type, nodeId } = decoded as Record<string, unknown>;
  assert.ok(confChangeTypes.includes(type as ConfChange['type']), `unknown ConfChange type ${String(type)}`);
  assertSafeIndex(nodeId, 'ConfChange nodeId');
  assert.ok(nodeId > 0, 'ConfChange nodeId must not be 0');
  return { type: type as ConfChange['type'], nodeId };
}

function assertSafeIndex(value: unknown, what: string): asserts value is number {
  assert.ok(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0, `${what} must be a safe non-negative integer, got ${String(value)}`);
}
