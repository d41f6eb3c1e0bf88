import { TributaryError } from '../errors/index.js';

/** The bounds of a collector queue; every one is named, has a default and is checked on open. */
export interface CollectorQueueLimits {
  /** A segment file rolls over once the next entry would take it past this size. */
  readonly segmentBytesMax: number;
  /** Bytes of segment files the queue may hold; an append beyond it fails with RESOURCE_EXHAUSTED. */
  readonly queueBytesMax: number;
  /** Largest payload one append may carry. */
  readonly entryBytesMax: number;
  /** Sessions declared and not yet dropped. */
  readonly sessionsMax: number;
  /** Bytes one group commit (one write and one fdatasync) carries at most. */
  readonly flushBytesMax: number;
}

const mebibyte = 1024 * 1024;

/**
 * A 4 MiB entry is the broker's default max_chunk_bytes, so one entry can always go out as one
 * chunk. 64 MiB segments are deleted after an Upload call of recommended_call_bytes (64 MiB) is
 * acknowledged; 1 GiB is a modest share of a phone's or a Raspberry Pi's storage.
 */
export const collectorQueueDefaults: CollectorQueueLimits = {
  segmentBytesMax: 64 * mebibyte,
  queueBytesMax: 1024 * mebibyte,
  entryBytesMax: 4 * mebibyte,
  sessionsMax: 256,
  flushBytesMax: 8 * mebibyte,
};

/** A segment must hold at least one largest entry with its frame and a small checkpoint beside it. */
const segmentOverheadBytes = 64 * 1024;
/** Frame lengths are 32-bit. */
const entryBytesLimit = 2 ** 31;
const sessionsLimit = 65_536;

/** The defaults with `overrides` applied, checked; a bad value fails with INVALID_REQUEST naming it. */
export function resolveCollectorQueueLimits(overrides: Partial<CollectorQueueLimits> = {}): CollectorQueueLimits {
  const limits = { ...collectorQueueDefaults, ...overrides };
  requireInteger('entryBytesMax', limits.entryBytesMax, 1, entryBytesLimit);
  requireInteger('segmentBytesMax', limits.segmentBytesMax, limits.entryBytesMax + segmentOverheadBytes, Number.MAX_SAFE_INTEGER);
  requireInteger('queueBytesMax', limits.queueBytesMax, limits.segmentBytesMax, Number.MAX_SAFE_INTEGER);
  requireInteger('sessionsMax', limits.sessionsMax, 1, sessionsLimit);
  requireInteger('flushBytesMax', limits.flushBytesMax, 1, Number.MAX_SAFE_INTEGER);
  return limits;
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TributaryError('INVALID_REQUEST', `collector queue ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}
