import type { Clock } from '../../actors/clock.js';
import type { FetchRequest, FetchResponse } from '../generated/tributary/client/v1/consumer_service.js';
import { fetchPlanOf, type FetchRound, type FetchRoundContext, readFetchRound } from './fetch-round.js';
import type { LeaderChanges } from './leader-changes.js';

export interface FetchContext extends FetchRoundContext {
  readonly clock: Clock;
  readonly changes: LeaderChanges;
}

/**
 * Fetch as a long poll (Kafka's DelayedFetch): read every partition; answer when some partition
 * failed, when the records found reach min_bytes, or when max_wait_ms has passed; otherwise wait
 * for a partition's high watermark to move (or its leader to change) and read again. `stop` (the
 * caller went away, or the server is shutting down) answers with what the last pass found.
 */
export async function fetchLongPoll(request: FetchRequest, context: FetchContext, stop: AbortSignal): Promise<FetchResponse> {
  const plan = fetchPlanOf(request, context.settings);
  context.partitions.assertServing();
  const deadlineMs = context.clock.nowMs() + plan.waitMs;
  for (;;) {
    const round = await readFetchRound(plan, context);
    const done = round.failed || round.recordBytes >= plan.minBytes || context.clock.nowMs() >= deadlineMs || stop.aborted;
    if (done || (await waitForChange(round, deadlineMs, context, stop)) === 'stopped') return { results: round.results };
  }
}

/**
 * Whether a partition of `round` now reads differently: its high watermark moved, another leader
 * (or none) serves it, or the broker stopped serving it. A log-end change alone does not count:
 * consumers see nothing above the high watermark.
 */
function changedSince(round: FetchRound, context: FetchContext): boolean {
  return round.watched.some(({ partition, leader, highWatermark }) => {
    try {
      const current = context.partitions.leaderFor(partition.topicPartition, partition.currentLeaderEpoch);
      return current !== leader || current.highWatermark() !== highWatermark;
    } catch {
      return true;
    }
  });
}

type WaitOutcome = 'changed' | 'deadline' | 'stopped';

/** Waits on the clock for the first of: a change that matters to `round`, the deadline, `stop`. */
function waitForChange(round: FetchRound, deadlineMs: number, context: FetchContext, stop: AbortSignal): Promise<WaitOutcome> {
  return new Promise((resolve) => {
    let cancelWatches: Array<() => void> = [];
    let cancelTimer: () => void = () => undefined;
    let settled = false;
    const settle = (outcome: WaitOutcome): void => {
      if (settled) return;
      settled = true;
      for (const cancel of cancelWatches) cancel();
      cancelTimer();
      stop.removeEventListener('abort', onStop);
      resolve(outcome);
    };
    const onStop = (): void => settle('stopped');
    // Subscribing before checking: a change after the check fires the subscription, and one
    // during the pass that was just read (before the subscription existed) shows in the check.
    const watch = (): void => {
      if (settled) return;
      for (const cancel of cancelWatches) cancel();
      cancelWatches = round.watched.map(({ leader }) => context.changes.subscribe(leader, watch));
      if (changedSince(round, context)) settle('changed');
    };
    stop.addEventListener('abort', onStop, { once: true });
    cancelTimer = context.clock.setTimer(Math.max(0, deadlineMs - context.clock.nowMs()), () => settle('deadline'));
    watch();
  });
}
