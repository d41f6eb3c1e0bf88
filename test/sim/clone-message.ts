import { decodeEntries, encodeEntries } from '../../src/raft/entry-codec.js';
import type { Message } from '../../src/raft/raft-types.js';

/**
 * What the receiver gets: a deep copy, so two nodes never share an object (bytes included). Entries
 * of an append go through the core's msgpackr entry codec, as they would on the wire.
 */
export function cloneMessage(message: Message): Message {
  if (message.type !== 'append') return deepCopy(message);
  const { entries, ...rest } = message;
  return { ...deepCopy(rest), entries: decodeEntries(encodeEntries(entries)) };
}

/** structuredClone for plain data (objects, arrays, bytes, primitives), several times faster. */
function deepCopy<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  // The constructor copies; Buffer's slice() would return a view sharing the sender's memory.
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => deepCopy(item)) as T;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) copy[key] = deepCopy(field);
  return copy as T;
}
