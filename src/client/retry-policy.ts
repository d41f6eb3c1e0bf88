import type { TributaryError } from '../errors/index.js';
import { type BackoffLimits, backoffDelayMs } from '../rpc/clients/index.js';

/** How long and how often a request to a partition leader is retried. */
export interface RetryPolicy extends BackoffLimits {
  /** Retries after the first attempt; the attempts are at most this plus one. */
  readonly retriesMax: number;
}

/**
 * What to do with the partition's route before the retry: follow the leader hint the error
 * carries, ask the controllers again, or keep it.
 */
export type RetryRoute = 'hint' | 'refresh' | 'keep';

export type RetryDecision = { retry: true; delayMs: number; route: RetryRoute } | { retry: false; why: string };

/**
 * Codes after which the client's idea of the partition's leader may be wrong. The broker's
 * TOPIC_NOT_FOUND and PARTITION_NOT_FOUND are among them: a broker learns of a new topic a little
 * after the controllers do, and if the topic is really gone the metadata refresh says so.
 */
const rerouteCodes = new Set<string>(['NOT_LEADER', 'STALE_EPOCH', 'NOT_AVAILABLE', 'SHUTTING_DOWN', 'TOPIC_NOT_FOUND', 'PARTITION_NOT_FOUND']);

export interface RetryContext {
  /** Failed attempts so far, this one included (at least 1). */
  readonly failures: number;
  readonly nowMs: number;
  /** No retry may start after this time (the delivery timeout). */
  readonly deadlineMs: number;
  /** Where the failed attempt went, so a hint naming the same broker is not followed in a loop. */
  readonly triedAddress: string;
}

/**
 * Whether and when to retry a failed call to a partition leader. A NOT_LEADER naming another
 * broker is followed at once; any other retriable failure waits an exponential backoff with
 * jitter (`backoffDelayMs`, or the broker's retry_after_ms when longer). Bounded by `retriesMax`
 * and by the deadline: a retry that could not start before it is not made.
 */
export function retryDecision(error: TributaryError, context: RetryContext, policy: RetryPolicy, random: () => number): RetryDecision {
  if (!error.retriable && !rerouteCodes.has(error.code)) return { retry: false, why: `${error.code} is not retriable` };
  if (context.failures > policy.retriesMax) return { retry: false, why: `gave up after ${context.failures} attempts (retriesMax ${policy.retriesMax})` };
  const hinted = error.leaderHint;
  if (error.code === 'NOT_LEADER' && hinted !== undefined && hinted.nodeId !== 0 && hinted.address !== '' && hinted.address !== context.triedAddress) {
    return { retry: true, delayMs: 0, route: 'hint' };
  }
  const delayMs = Math.max(error.retryAfterMs, backoffDelayMs(context.failures, policy, random));
  if (context.nowMs + delayMs > context.deadlineMs) {
    return { retry: false, why: `the delivery timeout ends before a retry in ${delayMs} ms could start` };
  }
  return { retry: true, delayMs, route: rerouteCodes.has(error.code) ? 'refresh' : 'keep' };
}
