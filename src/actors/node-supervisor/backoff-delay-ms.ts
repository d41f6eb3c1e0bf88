import assert from 'node:assert/strict';

/** Doublings past this change nothing: 2^40 times any backoffMsMin exceeds every allowed backoffMsMax. */
const doublingsMax = 40;

export interface Backoff {
  readonly backoffMsMin: number;
  readonly backoffMsMax: number;
  readonly random: { nextInt(maxExclusive: number): number };
}

/**
 * The delay before restarting a child after its n-th consecutive crash (n ≥ 1): the ceiling
 * d = min(backoffMsMax, backoffMsMin·2^(n−1)), less a jitter drawn uniformly from [0, d/2]
 * ("equal jitter"). Children that crashed together (say, every replica when a disk failed) then
 * restart spread over time instead of all at once, and the delay never exceeds backoffMsMax.
 */
export function backoffDelayMs(crashesConsecutive: number, backoff: Backoff): number {
  assert(Number.isSafeInteger(crashesConsecutive) && crashesConsecutive >= 1, `crashesConsecutive must be ≥ 1, got ${crashesConsecutive}`);
  const doublings = Math.min(crashesConsecutive - 1, doublingsMax);
  const ceilingMs = Math.min(backoff.backoffMsMax, backoff.backoffMsMin * 2 ** doublings);
  const jitterMs = backoff.random.nextInt(Math.floor(ceilingMs / 2) + 1);
  assert(Number.isSafeInteger(jitterMs) && jitterMs >= 0 && jitterMs <= ceilingMs / 2, `random.nextInt returned ${jitterMs}, outside [0, ${Math.floor(ceilingMs / 2)}]`);
  const delayMs = ceilingMs - jitterMs;
  assert(delayMs >= 0 && delayMs <= backoff.backoffMsMax);
  return delayMs;
}
