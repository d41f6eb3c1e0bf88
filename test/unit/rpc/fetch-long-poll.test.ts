import { describe, expect, it } from 'vitest';
import { ErrorCode, type RecordBatch } from '../../../src/rpc/generated/tributary/common/v1/common.js';
import type { FetchResponse } from '../../../src/rpc/generated/tributary/client/v1/consumer_service.js';
import { type FetchContext, fetchLongPoll } from '../../../src/rpc/services/fetch-long-poll.js';
import { LeaderChanges } from '../../../src/rpc/services/leader-changes.js';
import { batchOf } from '../../support/data-plane-calls.js';
import { alone, appendWire, ServedPartitions, untilQuiet, withFollower } from '../../support/served-partitions.js';

interface FetchShape {
  readonly maxWaitMs?: number;
  readonly minBytes?: number;
  readonly maxBytes?: number;
}

/** Fetches `orders-<partition>` from each offset given; the answer's promise and whether it has come yet. */
function startFetch(served: ServedPartitions, wanted: Array<[partition: number, fetchOffset: number, maxBytes?: number]>, shape: FetchShape = {}, stop = new AbortController()) {
  const context: FetchContext = { partitions: served.partitions, settings: served.settings, logger: served.log.logger, clock: served.clock, changes: new LeaderChanges() };
  const partitions = wanted.map(([partition, fetchOffset, maxBytes]) => ({ topicPartition: { topic: 'orders', partition }, fetchOffset, maxBytes: maxBytes ?? 0, currentLeaderEpoch: 0 }));
  const state = { answered: false };
  const answer = fetchLongPoll({ header: undefined, partitions, maxWaitMs: shape.maxWaitMs ?? 0, minBytes: shape.minBytes ?? 0, maxBytes: shape.maxBytes ?? 0 }, context, stop.signal).then((response) => {
    state.answered = true;
    return response;
  });
  return { answer, state, stop };
}

/** Each partition's result as [batch base offsets, high watermark, log start, error code]. */
function summary(response: FetchResponse) {
  return response.results.map((result) => [result.batches.map((batch) => batch.baseOffset), result.highWatermark, result.logStartOffset, result.error?.code ?? 'OK']);
}

const recordsBytes = (batch: RecordBatch) => batch.records.byteLength;

describe('Fetch', () => {
  it('returns only whole batches below the high watermark; an offset between the high watermark and the log end reads nothing', async () => {
    const served = new ServedPartitions();
    const leader = await served.lead(0, withFollower);
    await appendWire(leader, batchOf(['a', 'b']));
    await appendWire(leader, batchOf(['c']));
    leader.followerFetched(2, { fetchOffset: 3, durableEndOffset: 2 });
    expect(leader.highWatermark()).toBe(2);
    expect(summary(await startFetch(served, [[0, 0]]).answer)).toEqual([[[0], 2, 0, 'OK']]);
    expect(summary(await startFetch(served, [[0, 2]]).answer)).toEqual([[[], 2, 0, 'OK']]);
    expect(summary(await startFetch(served, [[0, 3]]).answer)).toEqual([[[], 2, 0, 'OK']]);
  });

  it('long-polls until the high watermark moves, not merely the log end', async () => {
    const served = new ServedPartitions();
    const leader = await served.lead(0, withFollower);
    const timersBefore = served.clock.pendingTimers();
    const { answer, state } = startFetch(served, [[0, 0]], { maxWaitMs: 10_000 });
    await untilQuiet();
    await appendWire(leader, batchOf(['a']));
    await untilQuiet();
    expect(state.answered).toBe(false);
    leader.followerFetched(2, { fetchOffset: 1, durableEndOffset: 1 });
    expect(summary(await answer)).toEqual([[[0], 1, 0, 'OK']]);
    // The wait's timer went with it (the leader keeps its own).
    expect(served.clock.pendingTimers()).toBe(timersBefore);
  });

  it('holds the answer for min_bytes, answers early once they are there, and with what there is at max_wait_ms', async () => {
    const served = new ServedPartitions();
    const leader = await served.lead(0, alone);
    const batch = batchOf(['a']);
    const early = startFetch(served, [[0, 0]], { maxWaitMs: 10_000, minBytes: 2 * recordsBytes(batch) });
    await appendWire(leader, batch);
    await untilQuiet();
    expect(early.state.answered).toBe(false);
    await appendWire(leader, batchOf(['b']));
    expect(summary(await early.answer)).toEqual([[[0, 1], 2, 0, 'OK']]);

    const late = startFetch(served, [[0, 1]], { maxWaitMs: 5_000, minBytes: 1_000_000 });
    await served.clock.advance(4_999);
    expect(late.state.answered).toBe(false);
    await served.clock.advance(1);
    expect(summary(await late.answer)).toEqual([[[1], 2, 0, 'OK']]);
  });

  it('answers at once when a partition fails, every partition in request order; OFFSET_OUT_OF_RANGE carries the bounds', async () => {
    const served = new ServedPartitions();
    const leader = await served.lead(0, alone);
    await served.lead(1, alone);
    await appendWire(leader, batchOf(['a', 'b', 'c']));
    const { answer } = startFetch(served, [[0, 9], [3, 0], [1, 0]], { maxWaitMs: 10_000 });
    const response = await answer;
    expect(summary(response)).toEqual([[[], 3, 0, ErrorCode.OFFSET_OUT_OF_RANGE], [[], 0, 0, ErrorCode.NOT_LEADER], [[], 0, 0, 'OK']]);
    expect(response.results[0]?.error?.message).toMatch(/offset 9/);
    expect(response.results[1]?.error?.leaderHint).toEqual({ nodeId: 2, address: '127.0.0.1:7402', epoch: 5 });
  });

  it('fills partitions in request order within their max_bytes and the response max_bytes, the first batch whatever its size', async () => {
    const served = new ServedPartitions();
    const first = await served.lead(0, alone);
    const second = await served.lead(1, alone);
    const batch = batchOf(['x'.repeat(100)]);
    const size = recordsBytes(batch);
    for (let count = 0; count < 3; count += 1) {
      await appendWire(first, batch);
      await appendWire(second, batch);
    }
    // The first batch goes out although it alone is above its partition's max_bytes; the next partition's does not.
    expect(summary(await startFetch(served, [[0, 0, 1], [1, 0, 1]]).answer)).toEqual([[[0], 3, 0, 'OK'], [[], 3, 0, 'OK']]);
    // Two batches fit the first partition's max_bytes, and the response has room for one more, which the second partition gets.
    expect(summary(await startFetch(served, [[0, 0, 2 * size], [1, 0, 0]], { maxBytes: 3 * size }).answer)).toEqual([[[0, 1], 3, 0, 'OK'], [[0], 3, 0, 'OK']]);
    // A full response leaves the later partitions their bounds and no records.
    expect(summary(await startFetch(served, [[0, 0, 0], [1, 0, 0]], { maxBytes: size }).answer)).toEqual([[[0], 3, 0, 'OK'], [[], 3, 0, 'OK']]);
  });

  it('clamps max_wait_ms to the server bound', async () => {
    const served = new ServedPartitions({ fetchWaitMsMax: 1_000 });
    await served.lead(0, alone);
    const { answer, state } = startFetch(served, [[0, 0]], { maxWaitMs: 60_000 });
    await served.clock.advance(999);
    expect(state.answered).toBe(false);
    await served.clock.advance(1);
    expect(summary(await answer)).toEqual([[[], 0, 0, 'OK']]);
  });

  it('answers NOT_LEADER when the leader resigns during the wait', async () => {
    const served = new ServedPartitions();
    await served.lead(0, alone);
    const { answer } = startFetch(served, [[0, 0]], { maxWaitMs: 10_000 });
    await untilQuiet();
    served.moveAway(0);
    expect(summary(await answer)).toEqual([[[], 0, 0, ErrorCode.NOT_LEADER]]);
  });

  it('ends the wait with what it found when the call is cancelled or the server shuts down, and refuses new fetches then', async () => {
    const served = new ServedPartitions();
    await served.lead(0, alone);
    const timersBefore = served.clock.pendingTimers();
    const cancelled = startFetch(served, [[0, 0]], { maxWaitMs: 10_000 });
    await untilQuiet();
    cancelled.stop.abort();
    expect(summary(await cancelled.answer)).toEqual([[[], 0, 0, 'OK']]);
    served.shutdown.abort();
    await expect(startFetch(served, [[0, 0]]).answer).rejects.toMatchObject({ code: 'SHUTTING_DOWN', message: 'broker 1 is shutting down; refresh metadata and retry with the partition\'s leader' });
    expect(served.clock.pendingTimers()).toBe(timersBefore);
  });

  it('refuses a malformed partition list as a whole with INVALID_REQUEST', async () => {
    const served = new ServedPartitions({ requestPartitionsMax: 2 });
    await expect(startFetch(served, []).answer).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: 'Fetch needs at least one entry in partitions' });
    await expect(startFetch(served, [[0, 0], [0, 5]]).answer).rejects.toMatchObject({ message: 'Fetch names partition "orders-0" twice in partitions; name each partition at most once' });
    await expect(startFetch(served, [[0, 0], [1, 0], [2, 0]]).answer).rejects.toMatchObject({ message: 'Fetch names 3 partitions in partitions; the limit is 2, so split the request' });
  });
});
