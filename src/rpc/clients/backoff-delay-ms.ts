/** Bounds for reconnecting after a failure. */
export interface BackoffLimits {
  /** Delay ceiling after the first failure. */
  readonly backoffMsMin: number;
  /** Delay ceiling however many failures came before. */
  readonly backoffMsMax: number;
}

/** Doubling stops here: 2^30 times any sane minimum is past every maximum, and never Infinity. */
const doublingsMax = 30;

/**
 * How long to wait before the next attempt after `failures` consecutive failures (at least 1):
 * the ceiling doubles per failure from backoffMsMin up to backoffMsMax, and the delay is drawn
 * from its upper half ("equal jitter"). The fixed half keeps a retry from coming too soon; the
 * random half keeps peers that failed together from retrying together.
 */
export function backoffDelayMs(failures: number, limits: BackoffLimits, random: () => number): number {
  if (!Number.isSafeInteger(failures) || failures < 1) throw new RangeError(`failures must be a positive integer, got ${failures}`);
  const doublings = Math.min(failures - 1, doublingsMax);
  const ceilingMs = Math.min(limits.backoffMsMax, limits.backoffMsMin * 2 ** doublings);
  return Math.round(ceilingMs / 2 + (random() * ceilingMs) / 2);
}
