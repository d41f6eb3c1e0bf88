import { TributaryError } from '../errors/index.js';

/**
 * Offsets and epochs that arrive from another node are checked before anything uses them: a bad
 * one is refused with INVALID_REQUEST naming the partition, the field and the value, and nothing
 * is changed. Offsets travel as JS numbers, so only safe integers are exact.
 */
export function requireOffset(partition: string, field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TributaryError('INVALID_REQUEST', `partition "${partition}": ${field} ${value} is not an offset (a safe integer from 0)`);
  }
  return value;
}
