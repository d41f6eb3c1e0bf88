import { TributaryError } from '../errors/index.js';
import type { KeyRange, KeyValueStore } from './key-value-store.js';

/*
 * Every read a store makes goes through these, so that whatever fails names what an operator needs
 * to find the damage: the record (`partition "orders-3" offset 1234`, `raft log index 88`) and the
 * database that holds it (`RocksDB database "/var/lib/tributary"`). A value failing its checksum
 * is caught by the store (checksummed-value.ts); a damaged table or WAL file is caught by RocksDB
 * and surfaces here as the engine's error, which is wrapped, kept as `cause`.
 */

/** `record` in the database of `engine`: the `where` of a CORRUPT_RECORD. */
export function recordIn(engine: KeyValueStore, record: string): string {
  return `${record} in ${engine.location}`;
}

/** `engine.get(key)`; an engine failure is rethrown naming `record`. */
export async function getStoredRecord(engine: KeyValueStore, key: Uint8Array, record: string): Promise<Uint8Array | undefined> {
  try {
    return await engine.get(key);
  } catch (error) {
    throw readFailure(record, error);
  }
}

/** `engine.range(range)`; an engine failure is rethrown naming `records`. */
export async function* rangeStoredRecords(engine: KeyValueStore, range: KeyRange, records: string): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
  // Only the engine's errors land here: a consumer leaving its loop early returns, never throws in.
  try {
    yield* engine.range(range);
  } catch (error) {
    throw readFailure(records, error);
  }
}

/** The engine names its database in its own message; this adds the record and keeps the code. */
function readFailure(record: string, error: unknown): Error {
  if (error instanceof TributaryError) return new TributaryError(error.code, `${record}: ${error.message}`, { cause: error, retriable: error.retriable });
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`cannot read ${record}: ${message}`, { cause: error });
}
