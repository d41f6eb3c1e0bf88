import type { SupervisorOptions } from './supervisor-options.js';

type NumericOption = 'restartsMax' | 'restartWindowMs' | 'backoffMsMin' | 'backoffMsMax' | 'stopTimeoutMs' | 'childrenMax';

/** Above this many restarts per window a supervisor no longer supervises; it also bounds the window's memory. */
const restartsMaxLimit = 1_000;
/** One day: a longer window would remember crashes nobody connects any more. */
const restartWindowMsLimit = 86_400_000;
/** One hour: a longer backoff leaves a component down for longer than anyone waits without paging. */
const backoffMsLimit = 3_600_000;
/** Ten minutes: a child that needs longer to stop is stuck. */
const stopTimeoutMsLimit = 600_000;
/** A million children: well above a broker's partitions and sessions, below what exhausts memory. */
const childrenMaxLimit = 1_000_000;
const nameLengthMax = 200;

/**
 * Throws a RangeError naming the first bad option and its value. The supervisor calls it at
 * construction, so a misconfigured supervisor never starts a child.
 */
export function assertSupervisorOptions(options: SupervisorOptions): void {
  const { name } = options;
  if (typeof name !== 'string' || name.length === 0 || name.length > nameLengthMax) {
    throw new RangeError(`supervisor name must be a string of 1 to ${nameLengthMax} characters, got ${JSON.stringify(name)}`);
  }
  const ranges: ReadonlyArray<[NumericOption, number, number]> = [
    ['restartsMax', 0, restartsMaxLimit],
    ['restartWindowMs', 1, restartWindowMsLimit],
    ['backoffMsMin', 0, backoffMsLimit],
    ['backoffMsMax', options.backoffMsMin, backoffMsLimit],
    ['stopTimeoutMs', 1, stopTimeoutMsLimit],
    ['childrenMax', 1, childrenMaxLimit],
  ];
  for (const [key, min, max] of ranges) {
    const value = options[key];
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      const minName = key === 'backoffMsMax' ? `backoffMsMin (${min})` : String(min);
      throw new RangeError(`supervisor "${name}": ${key} must be an integer from ${minName} to ${max}, got ${String(value)}`);
    }
  }
  if (typeof options.onEscalate !== 'function') throw new TypeError(`supervisor "${name}": onEscalate must be a function`);
}
