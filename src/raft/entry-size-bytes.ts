import assert from 'node:assert/strict';
import type { Entry } from './raft-types.js';

/** What an entry costs beyond its data when encoded: index, term and type as msgpack fields. */
export const entryOverheadBytes = 24;

export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength + entryOverheadBytes;
}

/**
 * The longest prefix of `entries` whose total size stays within `bytesMax`, but always at least one
 * entry when there is one: an entry larger than the limit must still be able to travel alone.
 */
export function limitEntriesBytes(entries: Entry[], bytesMax: number): Entry[] {
  assert.ok(bytesMax > 0, `bytesMax must be positive, got ${bytesMax}`);
  let totalBytes = 0;
  for (let position = 0; position < entries.length; position++) {
    const entry = entries[position];
    assert.ok(entry !== undefined);
    totalBytes += entrySizeBytes(entry);
    if (totalBytes > bytesMax && position > 0) return entries.slice(0, position);
  }
  return entries;
}
