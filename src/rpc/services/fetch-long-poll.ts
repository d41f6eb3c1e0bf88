import type { Clock } from '../../actors/clock.js';
import type { FetchRequest, FetchResponse } from '../generated/tributary/client/v1/consumer_service.js';
import { fetchPlanOf, type FetchRound, type FetchRoundContext, readFetchRound } from './fetch-round.js';
import { type LeaderChanges, waitForLeaderChange, type WaitOutcome } from './leader-changes.js';

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

/** Waits on the clock for the first of: a change that matters to `round`, the deadline, `stop`. */
function waitForChange(round: FetchRound, deadlineMs: number, context: FetchContext, stop: AbortSignal): Promise<WaitOutcome> {
  const leaders = round.watched.map(({ leader }) => leader);
  return waitForLeaderChange({ changes: context.changes, clock: context.clock, leaders, deadlineMs, stop, changedSince: () => changedSince(round, context) });
}
