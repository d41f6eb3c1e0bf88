import { Packr } from 'msgpackr';
import { z } from 'zod';
import { checksumValue, corruptRecord, verifyChecksummedValue } from './checksummed-value.js';

/**
 * Small structured values (hard state, metadata, producer state, session index): msgpack with
 * plain maps, so any msgpack reader can read them, and 64-bit integers as numbers, checksummed
 * and validated against a schema when read. A value that fails either is CORRUPT_RECORD.
 */
const packr = new Packr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });

/** Indices, terms, offsets, ids and sizes: JS numbers that stay exact. */
export const safeNonNegativeInteger = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export function packValue(value: unknown): Uint8Array {
  return checksumValue(packr.pack(value));
}

export function unpackValue<T>(bytes: Uint8Array, schema: z.ZodType<T>, where: string): T {
  const payload = verifyChecksummedValue(bytes, where);
  let decoded: unknown;
  try {
    decoded = packr.unpack(payload);
  } catch (error) {
    throw corruptRecord(where, `the value is not msgpack (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = schema.safeParse(decoded);
  if (!parsed.success) throw corruptRecord(where, `the value has the wrong shape (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}
