import assert from 'node:assert/strict';
import { TributaryError } from '../errors/index.js';

/**
 * The answer to "where does epoch E end in your log": the largest epoch at or below E the log
 * holds, and the offset after its last record. Structurally the storage's EpochEndOffset (a pure
 * core does not import storage), so `PartitionLog.endOffsetForEpoch` results pass as they are.
 */
export interface EpochEndOffset {
  readonly epoch: number;
  readonly endOffset: number;
}

/** A follower's position as its fetch states it (KIP-320 / Kafka's FetchRequest). */
export interface FetchPosition {
  /** Its log end offset: where it asks to read from. */
  readonly fetchOffset: number;
  /** The epoch of the last record in its log; `noEpoch` when its log holds none. */
  readonly lastFetchedEpoch: number;
}

/** The last fetched epoch of a follower whose log holds no record: nothing to reconcile. */
export const noEpoch = -1;

/**
 * LEADER side of log reconciliation. `leaderEndForEpoch` is the leader's
 * `endOffsetForEpoch(fetch.lastFetchedEpoch)`. Answers undefined when the follower's log is a
 * prefix of the leader's (serve records from fetchOffset), else where the follower's log departs:
 * Kafka's rule, diverging when the leader's largest epoch ≤ the follower's last is smaller, or
 * ends before the fetch offset. A fetch below the leader's log start is OFFSET_OUT_OF_RANGE first
 * (the follower restarts its log there), as in Kafka.
 *
 * When the leader knows no epoch ≤ lastFetchedEpoch up to it (undefined: its log is empty, or the
 * follower's last epoch is newer than any the leader wrote, e.g. a deposed leader's suffix), it
 * holds no record of that epoch at all. It answers "epoch lastFetchedEpoch − 1 ends no later than
 * your fetch offset", which makes the follower drop exactly its records of that epoch (its own end
 * of the previous epoch is where that epoch starts) and ask again one epoch lower.
 *
 * Reconciliation stops at the leader's log start: for an epoch older than every one the leader
 * kept, its log answers its log start (KAFKA-7415), so a follower may keep a divergent record below
 * it. The host MUST therefore also move the follower's log start up to the leader's (sent with
 * every fetch answer) BEFORE the follower's high watermark vouches for its records, as Kafka's
 * follower does (maybeIncrementLogStartOffset). The simulator found the divergence without it.
 */
export function divergingEpoch(fetch: FetchPosition, leaderEndForEpoch: EpochEndOffset | undefined, leaderLogStartOffset: number): EpochEndOffset | undefined {
  const { fetchOffset, lastFetchedEpoch } = fetch;
  if (!Number.isSafeInteger(fetchOffset) || fetchOffset < 0) {
    throw new TributaryError('INVALID_REQUEST', `fetch offset ${fetchOffset} is not an offset (a safe integer from 0)`);
  }
  if (!Number.isSafeInteger(lastFetchedEpoch) || lastFetchedEpoch < noEpoch) {
    throw new TributaryError('INVALID_REQUEST', `last fetched epoch ${lastFetchedEpoch} is not an epoch (a safe integer from 0, or ${noEpoch} for an empty log)`);
  }
  assert.ok(Number.isSafeInteger(leaderLogStartOffset) && leaderLogStartOffset >= 0, `leader log start offset ${leaderLogStartOffset} is not an offset`);
  if (fetchOffset < leaderLogStartOffset) {
    throw new TributaryError(
      'OFFSET_OUT_OF_RANGE',
      `fetch offset ${fetchOffset} is below the leader's log start offset ${leaderLogStartOffset}; the follower must restart its log at ${leaderLogStartOffset}`,
    );
  }
  if (lastFetchedEpoch === noEpoch) return undefined;
  if (leaderEndForEpoch === undefined) return { epoch: lastFetchedEpoch - 1, endOffset: fetchOffset };
  checkEpochEndOffset('the leader', leaderEndForEpoch, lastFetchedEpoch);
  if (leaderEndForEpoch.epoch < lastFetchedEpoch || leaderEndForEpoch.endOffset < fetchOffset) {
    return { epoch: leaderEndForEpoch.epoch, endOffset: leaderEndForEpoch.endOffset };
  }
  return undefined;
}

/**
 * FOLLOWER side: where to truncate after the leader answered `diverging`.
 * `followerEndForEpoch` is the follower's own `endOffsetForEpoch(diverging.epoch)`. The result is
 * never above `followerLogEndOffset`; the follower truncates there, then fetches again with its
 * new last epoch, until the leader answers no divergence (each round removes at least one record).
 *
 * * It holds `diverging.epoch`: both logs agree up to where the earlier of the two ends (KIP-101).
 * * It holds only a smaller epoch there (KIP-279): everything after its own end of that epoch was
 *   written in epochs the leader does not have; truncate there and ask again, so a follower never
 *   cuts into records the leader may share with it.
 * * It holds no epoch at or below it: nothing to match, so the leader's end bounds it.
 */
export function truncationOffset(diverging: EpochEndOffset, followerEndForEpoch: EpochEndOffset | undefined, followerLogEndOffset: number): number {
  assert.ok(Number.isSafeInteger(diverging.epoch) && diverging.epoch >= noEpoch, `diverging epoch ${diverging.epoch} is not an epoch`);
  assert.ok(Number.isSafeInteger(diverging.endOffset) && diverging.endOffset >= 0, `diverging end offset ${diverging.endOffset} is not an offset`);
  assert.ok(Number.isSafeInteger(followerLogEndOffset) && followerLogEndOffset >= 0, `follower log end offset ${followerLogEndOffset} is not an offset`);
  if (followerEndForEpoch === undefined) return Math.min(diverging.endOffset, followerLogEndOffset);
  checkEpochEndOffset('the follower', followerEndForEpoch, diverging.epoch);
  if (followerEndForEpoch.epoch !== diverging.epoch) return Math.min(followerEndForEpoch.endOffset, followerLogEndOffset);
  return Math.min(followerEndForEpoch.endOffset, diverging.endOffset, followerLogEndOffset);
}

/**
 * KIP-320 fencing of a replication, produce or fetch request by the leader epoch it was sent for
 * (the wire contract of PartitionFetch.current_leader_epoch). An older epoch: the sender follows a
 * deposed leader, STALE_EPOCH (refresh metadata). A newer one: this broker has not yet learned of
 * that epoch and may be deposed itself, NOT_LEADER and retriable.
 */
export function validateLeaderEpoch(partition: string, leaderEpoch: number, requestEpoch: number): void {
  assert.ok(Number.isSafeInteger(leaderEpoch) && leaderEpoch >= 0, `leader epoch ${leaderEpoch} is not an epoch`);
  if (!Number.isSafeInteger(requestEpoch) || requestEpoch < 0) {
    throw new TributaryError('INVALID_REQUEST', `partition "${partition}": request leader epoch ${requestEpoch} is not an epoch (a safe integer from 0)`);
  }
  if (requestEpoch < leaderEpoch) {
    throw new TributaryError('STALE_EPOCH', `partition "${partition}": the request's leader epoch ${requestEpoch} is older than the current ${leaderEpoch}; refresh metadata`);
  }
  if (requestEpoch > leaderEpoch) {
    throw new TributaryError(
      'NOT_LEADER',
      `partition "${partition}": the request's leader epoch ${requestEpoch} is newer than this broker's ${leaderEpoch}; it has not learned of it yet, refresh metadata and retry`,
      { retriable: true },
    );
  }
}

/** What a log's endOffsetForEpoch(asked) may answer: an epoch no later than the one asked for. */
function checkEpochEndOffset(whose: string, answer: EpochEndOffset, asked: number): void {
  assert.ok(
    Number.isSafeInteger(answer.epoch) && answer.epoch <= asked && Number.isSafeInteger(answer.endOffset) && answer.endOffset >= 0,
    `${whose}'s end offset for epoch ${asked} is {epoch ${answer.epoch}, endOffset ${answer.endOffset}}; an epoch at or below ${asked} and an offset are expected`,
  );
}
