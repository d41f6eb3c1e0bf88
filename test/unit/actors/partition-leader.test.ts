import { describe, expect, it } from 'vitest';
import { type CommittedIsr, PartitionLeader, type PartitionLeaderOptions } from '../../../src/actors/partition-replica/partition-leader.js';
import { type IsrChangeProposal, noEpoch } from '../../../src/broker/index.js';
import { GroupCommitWriter, MemoryKeyValueStore, openPartitionLog, type PartitionLog, type StoredBatch } from '../../../src/storage/index.js';
import { GatedWriter } from '../../support/gated-writer.js';
import { ManualClock } from '../../support/manual-clock.js';

const batchOf = (records: number): Omit<StoredBatch, 'partitionLeaderEpoch'> => ({
  recordCount: records, firstTimestampMs: 1_000, maxTimestampMs: 1_000, payload: new Uint8Array(records * 10),
});

/** A follower's fetch from `fetchOffset`, durable up to it unless told otherwise. */
const fetchFrom = (fetchOffset: number, lastFetchedEpoch = noEpoch, durableEndOffset = fetchOffset) => ({ fetchOffset, lastFetchedEpoch, durableEndOffset, maxBytes: 1_000_000 });

async function openLog(): Promise<PartitionLog> {
  const engine = new MemoryKeyValueStore();
  return openPartitionLog(engine, new GroupCommitWriter(engine, { durability: 'fsync' }), { topic: 'orders', partition: 3 });
}

async function leaderOf(overrides: Partial<PartitionLeaderOptions> = {}, log?: PartitionLog) {
  const clock = new ManualClock(10_000);
  const proposals: IsrChangeProposal[] = [];
  // The controller's answers to ISR proposals, in order; none left means "undecided".
  const answers: Array<CommittedIsr | undefined> = [];
  const options: PartitionLeaderOptions = {
    log: log ?? (await openLog()), clock, leaderId: 1, leaderEpoch: 4, partitionEpoch: 7, replicas: [1, 2, 3], isr: [1, 2, 3],
    minInSyncReplicas: 2, highWatermark: 0, replicaLagTimeMaxMs: 30_000, pendingAcksMax: 100, isrCheckIntervalMs: 15_000,
    producersMax: 100, producerIdleMsMax: 3_600_000,
    alterIsr: (proposal) => {
      proposals.push(proposal);
      return Promise.resolve(answers.shift());
    },
    ...overrides,
  };
  return { leader: new PartitionLeader(options), clock, log: options.log, proposals, answers };
}

/** Waits (on the real event loop: the log's group commit runs there) until the log is durable up to `endOffset`. */
async function untilDurable(log: PartitionLog, endOffset: number): Promise<void> {
  while (log.logEndOffset() < endOffset) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

describe('partition leader', () => {
  it('alone in its ISR, answers acks=all once durable here and lets readers see the batch', async () => {
    const { leader } = await leaderOf({ replicas: [1], isr: [1], minInSyncReplicas: 1 });
    expect(await leader.append(batchOf(3), 'all', 1_000)).toEqual({ baseOffset: 0, lastOffset: 2, duplicate: false });
    expect(await leader.append(batchOf(2), 'all', 1_000)).toEqual({ baseOffset: 3, lastOffset: 4, duplicate: false });
    const read = await leader.read(0, 1_000_000);
    expect(read.batches.map((batch) => [batch.baseOffset, batch.lastOffset, batch.partitionLeaderEpoch])).toEqual([[0, 2, 4], [3, 4, 4]]);
    expect([read.highWatermark, read.logEndOffset]).toEqual([5, 5]);
  });

  it('answers acks=leader once durable here, but readers see it only below the high watermark of the ISR', async () => {
    const { leader } = await leaderOf();
    expect(await leader.append(batchOf(3), 'leader', 1_000)).toEqual({ baseOffset: 0, lastOffset: 2, duplicate: false });
    const read = await leader.read(0, 1_000_000);
    expect(read.batches).toEqual([]);
    expect([read.highWatermark, read.logEndOffset]).toEqual([0, 3]);
    leader.followerFetched(2, { fetchOffset: 3, durableEndOffset: 3 });
    leader.followerFetched(3, { fetchOffset: 3, durableEndOffset: 2 });
    expect(leader.highWatermark()).toBe(2);
    // Whole batches only: offsets 0-2 are one batch, and 2 is not yet below the high watermark.
    expect((await leader.read(0, 1_000_000)).batches).toEqual([]);
    leader.followerFetched(3, { fetchOffset: 3, durableEndOffset: 3 });
    expect((await leader.read(0, 1_000_000)).batches.map((batch) => batch.baseOffset)).toEqual([0]);
  });

  it('holds acks=all until every in-sync replica has the batch durably', async () => {
    const { leader, log } = await leaderOf();
    let answered = false;
    const write = leader.append(batchOf(2), 'all', 5_000).then((appended) => {
      answered = true;
      return appended;
    });
    await untilDurable(log, 2);
    leader.followerFetched(2, { fetchOffset: 2, durableEndOffset: 2 });
    await untilDurable(log, 2);
    expect(answered).toBe(false);
    leader.followerFetched(3, { fetchOffset: 2, durableEndOffset: 2 });
    await expect(write).resolves.toEqual({ baseOffset: 0, lastOffset: 1, duplicate: false });
  });

  it('fails acks=all with TIMEOUT when the ISR does not catch up in time, and the batch is still stored', async () => {
    const { leader, clock, log } = await leaderOf();
    const write = leader.append(batchOf(1), 'all', 2_000);
    const failure = write.catch((error: unknown) => error);
    await untilDurable(log, 1);
    await clock.advance(2_000);
    expect(await failure).toMatchObject({ code: 'TIMEOUT', message: 'partition "orders-3": offset 0 was not replicated to the in-sync replicas within 2000 ms; it may still commit' });
    expect(log.logEndOffset()).toBe(1);
  });

  it('refuses acks=all with NOT_ENOUGH_REPLICAS when the ISR is below min in-sync replicas, storing nothing', async () => {
    const { leader, log } = await leaderOf({ isr: [1] });
    await expect(leader.append(batchOf(1), 'all', 1_000)).rejects.toMatchObject({ code: 'NOT_ENOUGH_REPLICAS' });
    expect(log.logEndOffset()).toBe(0);
    await expect(leader.append(batchOf(1), 'leader', 1_000)).resolves.toEqual({ baseOffset: 0, lastOffset: 0, duplicate: false });
  });

  it('on resigning, fails the waiting writes with NOT_LEADER and refuses new calls', async () => {
    const { leader, log } = await leaderOf();
    const write = leader.append(batchOf(1), 'all', 5_000);
    await untilDurable(log, 1);
    leader.resign('leader epoch 5 went to broker 2');
    await expect(write).rejects.toMatchObject({
      code: 'NOT_LEADER',
      message: 'partition "orders-3": this broker no longer leads it (leader epoch 5 went to broker 2); refresh metadata and retry',
    });
    await expect(leader.append(batchOf(1), 'leader', 1_000)).rejects.toMatchObject({ code: 'NOT_LEADER' });
    await expect(leader.read(0, 1_000)).rejects.toMatchObject({ code: 'NOT_LEADER' });
  });

  it('a new leader publishes no high watermark until the ISR caught up to its epoch start (KIP-207)', async () => {
    const log = await openLog();
    await log.append({ ...batchOf(5), partitionLeaderEpoch: 3 });
    const { leader } = await leaderOf({ leaderEpoch: 4, isr: [1, 2], highWatermark: 2 }, log);
    expect(leader.highWatermark()).toBeUndefined();
    await expect(leader.read(0, 1_000)).rejects.toMatchObject({ code: 'NOT_AVAILABLE', retriable: true });
    leader.followerFetched(2, { fetchOffset: 5, durableEndOffset: 5 });
    expect(leader.highWatermark()).toBe(5);
    expect((await leader.read(0, 1_000)).batches.map((batch) => [batch.baseOffset, batch.partitionLeaderEpoch])).toEqual([[0, 3]]);
  });

  it('fails acks=all with NOT_LEADER when the epoch ended while the batch was being written', async () => {
    const { leader } = await leaderOf();
    const write = leader.append(batchOf(1), 'all', 5_000);
    leader.resign('leader epoch 5 went to broker 2');
    await expect(write).rejects.toMatchObject({ code: 'NOT_LEADER' });
  });

  it('reads nothing between the high watermark and the log end, and names the range beyond it', async () => {
    const { leader } = await leaderOf({ replicas: [1], isr: [1], minInSyncReplicas: 1 });
    await leader.append(batchOf(2), 'leader', 1_000);
    expect((await leader.read(2, 1_000)).batches).toEqual([]);
    await expect(leader.read(9, 1_000)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
  });
});

describe('partition leader: retention', () => {
  it('deletes old batches by time and size, never one at or above the high watermark', async () => {
    const { leader, clock } = await leaderOf({ replicas: [1, 2], isr: [1, 2], minInSyncReplicas: 1 });
    for (let index = 0; index < 4; index++) await leader.append({ ...batchOf(1), firstTimestampMs: 1_000, maxTimestampMs: 1_000 }, 'leader', 1_000);
    // Only offsets 0-1 are on the follower too: the high watermark is 2.
    await leader.replicaFetch(2, { fetchOffset: 2, lastFetchedEpoch: 4, durableEndOffset: 2, maxBytes: 1_000 });
    await clock.advance(60_000);
    await expect(leader.enforceRetention(30_000, undefined)).resolves.toMatchObject({ deletedBatches: 2, logStartOffset: 2 });
    expect(leader.logStartOffset()).toBe(2);
    await leader.replicaFetch(2, { fetchOffset: 4, lastFetchedEpoch: 4, durableEndOffset: 4, maxBytes: 1_000 });
    await expect(leader.enforceRetention(undefined, 1)).resolves.toMatchObject({ deletedBatches: 1, logStartOffset: 3 });
    await expect(leader.enforceRetention(undefined, undefined)).resolves.toMatchObject({ deletedBatches: 0 });
    leader.resign('test');
    await expect(leader.enforceRetention(1, 1)).resolves.toBeUndefined();
  });
});

describe('partition leader: replication', () => {
  it('serves a follower the whole log, above the high watermark too, and counts its durable end', async () => {
    const { leader } = await leaderOf({ replicas: [1, 2], isr: [1, 2] });
    const write = leader.append(batchOf(3), 'all', 5_000);
    const first = await (async () => {
      for (;;) {
        const fetched = await leader.replicaFetch(2, fetchFrom(0));
        if (fetched.batches.length > 0) return fetched;
        await leader.changed();
      }
    })();
    expect(first.batches.map((batch) => [batch.baseOffset, batch.lastOffset, batch.partitionLeaderEpoch])).toEqual([[0, 2, 4]]);
    expect([first.highWatermark, first.logEndOffset, first.leaderEpoch, first.diverging]).toEqual([0, 3, 4, undefined]);
    // The follower appended and fsynced them; its next fetch says so, which commits the write once the leader's own fsync is done.
    const second = await leader.replicaFetch(2, fetchFrom(3, 4));
    expect(second.batches).toEqual([]);
    await expect(write).resolves.toEqual({ baseOffset: 0, lastOffset: 2, duplicate: false });
    expect(leader.highWatermark()).toBe(3);
  });

  it('tells a follower whose log departs where to truncate, and does not count its offsets', async () => {
    const log = await openLog();
    await log.append({ ...batchOf(2), partitionLeaderEpoch: 3 });
    const { leader } = await leaderOf({ replicas: [1, 2], isr: [1, 2], leaderEpoch: 5 }, log);
    await leader.append(batchOf(1), 'leader', 1_000);
    // The follower wrote offsets 2-3 in epoch 4 under a leader that lost them; this leader's epoch 3 ends at 2.
    const fetched = await leader.replicaFetch(2, fetchFrom(4, 4));
    expect(fetched.diverging).toEqual({ epoch: 3, endOffset: 2 });
    expect(fetched.batches).toEqual([]);
    expect(leader.highWatermark()).toBeUndefined();
    await expect(leader.replicaFetch(2, fetchFrom(1, 3, 1))).resolves.toMatchObject({ diverging: undefined });
    // A last epoch newer than any written here (a deposed leader's suffix): drop that epoch and ask again.
    await expect(leader.replicaFetch(2, fetchFrom(3, 7))).resolves.toMatchObject({ diverging: { epoch: 6, endOffset: 3 } });
    await expect(leader.replicaFetch(9, fetchFrom(1, 3))).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('wakes long-polls when the log end or the high watermark moves, and when it resigns', async () => {
    const { leader } = await leaderOf({ replicas: [1, 2], isr: [1, 2] });
    const appended = leader.changed();
    await leader.append(batchOf(1), 'leader', 1_000);
    await expect(appended).resolves.toBeUndefined();
    const advanced = leader.changed();
    await leader.replicaFetch(2, fetchFrom(1, 4));
    await expect(advanced).resolves.toBeUndefined();
    const resigned = leader.changed();
    leader.resign('test');
    await expect(resigned).resolves.toBeUndefined();
  });

  it('proposes a follower that stopped fetching out of the ISR, and takes the controller\'s answer', async () => {
    const { leader, clock, proposals, answers } = await leaderOf({ replicas: [1, 2, 3], isr: [1, 2, 3], minInSyncReplicas: 2 });
    await leader.replicaFetch(2, fetchFrom(0));
    answers.push({ isr: [1, 2], partitionEpoch: 8 });
    await clock.advance(30_001);
    await leader.replicaFetch(2, fetchFrom(0));
    expect(proposals.map((proposal) => [proposal.isr, proposal.partitionEpoch])).toEqual([[[1, 2], 7]]);
    expect(proposals[0]?.reason).toContain('replica 3');
    await Promise.resolve();
    // Broker 2 alone is now enough with the leader: acks=all completes without broker 3.
    const write = leader.append(batchOf(1), 'all', 5_000);
    await untilFetched(leader, 2, 1);
    await expect(write).resolves.toEqual({ baseOffset: 0, lastOffset: 0, duplicate: false });
  });

  it('proposes a caught-up replica back into the ISR, and retries a proposal the controller did not decide', async () => {
    const { leader, clock, proposals, answers } = await leaderOf({ replicas: [1, 2, 3], isr: [1, 2], minInSyncReplicas: 2 });
    await leader.replicaFetch(2, fetchFrom(0));
    await leader.replicaFetch(3, fetchFrom(0));
    expect(proposals.map((proposal) => proposal.isr)).toEqual([[1, 2, 3]]);
    await Promise.resolve();
    // Undecided: dropped, and proposed again at the next check.
    answers.push({ isr: [1, 2, 3], partitionEpoch: 8 });
    await clock.advance(15_000);
    expect(proposals.map((proposal) => proposal.isr)).toEqual([[1, 2, 3], [1, 2, 3]]);
    await Promise.resolve();
    await clock.advance(15_000);
    expect(proposals).toHaveLength(2);
  });
});

/** Fetches for `replicaId` until its fetch at `offset` is served (the leader's append is durable), then reports it durable. */
async function untilFetched(leader: PartitionLeader, replicaId: number, offset: number): Promise<void> {
  while (leader.logEndOffset() < offset) await leader.changed();
  await leader.replicaFetch(replicaId, { fetchOffset: offset, lastFetchedEpoch: 4, durableEndOffset: offset, maxBytes: 1_000 });
}

describe('partition leader: followers copy before the leader\'s fsync', () => {
  it('serves a follower a batch not yet durable here, and acks=all waits for both fsyncs', async () => {
    const engine = new MemoryKeyValueStore();
    const writer = new GatedWriter(new GroupCommitWriter(engine, { durability: 'fsync' }));
    const { leader } = await leaderOf({ replicas: [1, 2], isr: [1, 2] }, await openPartitionLog(engine, writer, { topic: 'orders', partition: 3 }));
    let acknowledged = false;
    const write = leader.append(batchOf(3), 'all', 5_000).then((appended) => {
      acknowledged = true;
      return appended;
    });
    const first = await leader.replicaFetch(2, fetchFrom(0));
    expect(first.batches.map((batch) => [batch.baseOffset, batch.lastOffset])).toEqual([[0, 2]]);
    expect(first.logEndOffset).toBe(3);
    // The follower is durable to 3 before the leader is: nothing is acknowledged yet.
    expect((await leader.replicaFetch(2, fetchFrom(3, 4))).highWatermark).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(acknowledged).toBe(false);
    writer.open();
    await expect(write).resolves.toEqual({ baseOffset: 0, lastOffset: 2, duplicate: false });
    expect(leader.highWatermark()).toBe(3);
  });
});
