import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/actors/clock.js';
import { FollowerHighWatermark } from '../../../src/broker/index.js';
import { PartitionLeader } from '../../../src/actors/partition-replica/partition-leader.js';
import type { PartitionLeaderSource } from '../../../src/actors/partition-replica/partition-leader-lookup.js';
import { ReplicaFetcher, replicaFetcherDefaults, type ReplicaFetcherSettings, type ReplicationLink } from '../../../src/actors/partition-replica/replica-fetcher.js';
import { encodeRecordBatch } from '../../../src/rpc/clients/index.js';
import { partitionFetchOutcomeFromWire, replicateAckToWire, replicateFetchToWire } from '../../../src/rpc/clients/replication-stream.js';
import { storedBatchFromWire } from '../../../src/rpc/services/record-batch-mapping.js';
import { LeaderChanges } from '../../../src/rpc/services/leader-changes.js';
import { ReplicaFetchSession, replicaFetchSessionDefaults } from '../../../src/rpc/services/replica-fetch-session.js';
import { GroupCommitWriter, MemoryKeyValueStore, openPartitionLog, type PartitionLog, type StoredBatch } from '../../../src/storage/index.js';
import { waitFor } from '../../support/in-process-raft-cluster.js';
import { captureLogger } from '../../support/log-capture.js';
import { bytes } from '../../support/record-batches.js';

const id = { topic: 'orders', partition: 0 };

/** A produced batch of one record, as the leader stores it, stamped with `epoch`. */
function recordBatch(value: string, epoch: number): StoredBatch {
  const wire = encodeRecordBatch([{ value: bytes(value), timestampMs: 1_000 }]);
  return storedBatchFromWire(wire, { partition: 'orders-0', partitionLeaderEpoch: epoch, maxBatchBytes: 1_024 });
}

async function logOf(values: Array<[string, number]>): Promise<PartitionLog> {
  const engine = new MemoryKeyValueStore();
  const log = await openPartitionLog(engine, new GroupCommitWriter(engine, { durability: 'fsync' }), id);
  for (const [value, epoch] of values) await log.append(recordBatch(value, epoch));
  return log;
}

async function contents(log: PartitionLog): Promise<Array<[number, number, string]>> {
  const batches = await log.read(log.logStartOffset(), 1_000_000);
  return batches.map((batch) => [batch.baseOffset, batch.partitionLeaderEpoch, Buffer.from(batch.payload).toString('hex')]);
}

/**
 * A follower's link to a leader broker without gRPC: the leader side is the real fetch session
 * over a real PartitionLeader, and both directions go through the wire mapping.
 */
function linkTo(leader: PartitionLeader): ReplicationLink {
  const leaders: PartitionLeaderSource = { leaderFor: () => leader };
  const session = new ReplicaFetchSession(2, leaders, systemClock, replicaFetchSessionDefaults, new LeaderChanges());
  let fetchId = 0;
  const closed = new AbortController();
  return {
    fetch: async (call) => (await session.answer(replicateFetchToWire(++fetchId, call), closed.signal)).map(partitionFetchOutcomeFromWire),
    ack: (reports) => session.ack(replicateAckToWire(reports)),
    close: () => closed.abort(),
  };
}

function leaderOn(log: PartitionLog, leaderEpoch: number): PartitionLeader {
  return new PartitionLeader({
    log, clock: systemClock, leaderId: 1, leaderEpoch, partitionEpoch: 1, replicas: [1, 2], isr: [1, 2], minInSyncReplicas: 2, highWatermark: 0,
    replicaLagTimeMaxMs: 30_000, pendingAcksMax: 100, isrCheckIntervalMs: 15_000, alterIsr: () => Promise.resolve(undefined),
    producersMax: 100, producerIdleMsMax: 3_600_000,
  });
}

describe('replica fetcher', () => {
  it('truncates a divergent suffix by leader epoch, copies the leader\'s log exactly, and lets acks=all complete', async () => {
    // Both wrote a0..a2 in epoch 1; the follower then led epoch 2 alone, and the leader took epoch 3.
    const leaderLog = await logOf([['a0', 1], ['a1', 1], ['a2', 1]]);
    const followerLog = await logOf([['a0', 1], ['a1', 1], ['a2', 1], ['lost3', 2], ['lost4', 2]]);
    const leader = leaderOn(leaderLog, 3);
    await leader.append(recordBatch('b3', 3), 'leader', 1_000);
    const capture = captureLogger();
    const fetcher = new ReplicaFetcher({ leaderId: 1, connect: () => Promise.resolve(linkTo(leader)), clock: systemClock, random: () => 0.5, logger: capture.logger, settings: replicaFetcherDefaults });
    const highWatermark = new FollowerHighWatermark(0);
    fetcher.follow({ id, topicId: 't1', leaderEpoch: 3, log: followerLog, highWatermark });
    try {
      const write = leader.append(recordBatch('b4', 3), 'all', 10_000);
      await expect(write).resolves.toEqual({ baseOffset: 4, lastOffset: 4, duplicate: false });
      await waitFor(() => (followerLog.logEndOffset() === 5 ? true : undefined), 5_000, 'the follower to catch up');
      // The leader's high watermark reaches the follower with its next answer.
      await waitFor(() => (highWatermark.value() === 5 ? true : undefined), 5_000, 'the follower to learn the high watermark');
      expect(await contents(followerLog)).toEqual(await contents(leaderLog));
      expect(followerLog.leaderEpochCheckpoints()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 3 }]);
      expect(capture.lines().filter((line) => line.msg === 'follower log diverges from the leader; truncating').map((line) => line.truncateTo)).toEqual([3]);
    } finally {
      await fetcher.stop();
    }
  });

  it('reports a truncation below its own high watermark: acknowledged records were lost to an unclean election', async () => {
    const leaderLog = await logOf([['a0', 1]]);
    const followerLog = await logOf([['a0', 1], ['acked1', 2], ['acked2', 2]]);
    const leader = leaderOn(leaderLog, 3);
    const capture = captureLogger();
    const fetcher = new ReplicaFetcher({ leaderId: 1, connect: () => Promise.resolve(linkTo(leader)), clock: systemClock, random: () => 0.5, logger: capture.logger, settings: replicaFetcherDefaults });
    const highWatermark = new FollowerHighWatermark(3);
    fetcher.follow({ id, topicId: 't1', leaderEpoch: 3, log: followerLog, highWatermark });
    try {
      await waitFor(() => capture.lines().find((line) => line.level === 50), 5_000, 'the loss to be reported');
      expect(capture.lines().find((line) => line.level === 50)).toMatchObject({ partition: 'orders-0', highWatermark: 1 });
      expect(highWatermark.value()).toBe(1);
    } finally {
      await fetcher.stop();
    }
  });

  it('moves its log start up to the leader\'s, so it keeps nothing the leader can no longer reconcile', async () => {
    const leaderLog = await logOf([['a0', 1], ['a1', 1], ['a2', 1], ['a3', 1]]);
    await leaderLog.advanceLogStartOffset(2);
    const leader = leaderOn(leaderLog, 1);
    const followerLog = await logOf([['a0', 1], ['a1', 1], ['a2', 1]]);
    const fetcher = new ReplicaFetcher({ leaderId: 1, connect: () => Promise.resolve(linkTo(leader)), clock: systemClock, random: () => 0.5, logger: captureLogger().logger, settings: replicaFetcherDefaults });
    fetcher.follow({ id, topicId: 't1', leaderEpoch: 1, log: followerLog, highWatermark: new FollowerHighWatermark(0) });
    try {
      await waitFor(() => (followerLog.logEndOffset() === 4 && followerLog.logStartOffset() === 2 ? true : undefined), 5_000, 'the follower to follow the log start');
      expect(await contents(followerLog)).toEqual(await contents(leaderLog));
    } finally {
      await fetcher.stop();
    }
  });

  it('restarts its log at the leader\'s log start when the leader no longer has what it lacks', async () => {
    const leaderLog = await logOf([['a0', 1], ['a1', 1], ['a2', 1], ['a3', 1]]);
    await leaderLog.advanceLogStartOffset(2);
    const leader = leaderOn(leaderLog, 1);
    const followerLog = await logOf([]);
    const capture = captureLogger();
    const fetcher = new ReplicaFetcher({ leaderId: 1, connect: () => Promise.resolve(linkTo(leader)), clock: systemClock, random: () => 0.5, logger: capture.logger, settings: replicaFetcherDefaults });
    fetcher.follow({ id, topicId: 't1', leaderEpoch: 1, log: followerLog, highWatermark: new FollowerHighWatermark(0) });
    try {
      await waitFor(() => (followerLog.logEndOffset() === 4 ? true : undefined), 5_000, 'the follower to catch up');
      expect(followerLog.logStartOffset()).toBe(2);
      expect(await contents(followerLog)).toEqual(await contents(leaderLog));
    } finally {
      await fetcher.stop();
    }
  });
});

/** A memory store whose synced writes wait at a gate the test opens, as a slow fsync would. */
class GatedStore extends MemoryKeyValueStore {
  held = 0;
  private gate: Promise<void> | undefined;
  private open: () => void = () => undefined;

  override close(): Promise<void> {
    this.release();
    return super.close();
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.gate = undefined;
    this.open();
  }

  override async write(...args: Parameters<MemoryKeyValueStore['write']>): Promise<void> {
    if (this.gate !== undefined) {
      this.held++;
      await this.gate;
    }
    return super.write(...args);
  }
}

/**
 * An empty leader and a follower whose writes the test can hold, fetching through a link that
 * records every fetch (`fetch OFFSET/DURABLE`) and ack (`ack DURABLE`).
 */
async function pipelinedFollower(settings: Partial<ReplicaFetcherSettings>) {
  const leaderLog = await logOf([]);
  const leader = leaderOn(leaderLog, 1);
  const store = new GatedStore();
  const followerLog = await openPartitionLog(store, new GroupCommitWriter(store, { durability: 'fsync' }), id);
  const link = linkTo(leader);
  const calls: string[] = [];
  const recording: ReplicationLink = {
    fetch: (call) => {
      calls.push(`fetch ${call.partitions.map((state) => `${state.fetchOffset}/${state.durableEndOffset}`).join(',')}`);
      return link.fetch(call);
    },
    ack: (reports) => {
      calls.push(`ack ${reports.map((report) => report.durableEndOffset).join(',')}`);
      link.ack(reports);
    },
    close: () => link.close(),
  };
  const fetcher = new ReplicaFetcher({ leaderId: 1, connect: () => Promise.resolve(recording), clock: systemClock, random: () => 0.5, logger: captureLogger().logger, settings: { ...replicaFetcherDefaults, ...settings } });
  fetcher.follow({ id, topicId: 't1', leaderEpoch: 1, log: followerLog, highWatermark: new FollowerHighWatermark(0) });
  return { leaderLog, leader, store, followerLog, calls, fetcher };
}

describe('replica fetcher pipelining', () => {
  it('fetches the next batches while the last ones are being fsynced, and reports their durable end with an ack', async () => {
    // The leader holds a fetch with nothing new for this long: longer than the test takes.
    const { leaderLog, leader, store, followerLog, calls, fetcher } = await pipelinedFollower({ fetchWaitMs: 60_000 });
    try {
      await waitFor(() => (calls.length > 0 ? true : undefined), 5_000, 'the first fetch');
      store.hold();
      const write = leader.append(recordBatch('b0', 1), 'all', 10_000);
      await waitFor(() => (store.held > 0 ? true : undefined), 5_000, 'the follower to start writing b0');
      // b0 is not durable on the follower, yet the next fetch already reads past it.
      await waitFor(() => (calls.includes('fetch 1/0') ? true : undefined), 5_000, 'a fetch from offset 1 while b0 is unsynced');
      expect(leader.highWatermark()).toBe(0);
      store.release();
      await expect(write).resolves.toMatchObject({ baseOffset: 0, duplicate: false });
      // The durable end travelled in an ack while the fetch from offset 1 was held at the leader.
      expect(calls.slice(-2)).toEqual(['fetch 1/0', 'ack 1']);
      expect(await contents(followerLog)).toEqual(await contents(leaderLog));
    } finally {
      await fetcher.stop();
    }
  });

  it('lists the epoch of the batches it just took, not a stale one: a fetch sent before their appends ran finds no divergence', async () => {
    const leaderLog = await logOf([['a0', 1]]);
    const leader = leaderOn(leaderLog, 2);
    await leader.append(recordBatch('b1', 2), 'leader', 1_000);
    await leader.append(recordBatch('b2', 2), 'leader', 1_000);
    const followerLog = await logOf([]);
    const capture = captureLogger();
    const fetcher = new ReplicaFetcher({ leaderId: 1, connect: () => Promise.resolve(linkTo(leader)), clock: systemClock, random: () => 0.5, logger: capture.logger, settings: { ...replicaFetcherDefaults, fetchWaitMs: 20 } });
    fetcher.follow({ id, topicId: 't1', leaderEpoch: 2, log: followerLog, highWatermark: new FollowerHighWatermark(0) });
    try {
      await waitFor(() => (followerLog.logEndOffset() === 3 ? true : undefined), 5_000, 'the follower to catch up');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(capture.lines().filter((line) => line.msg === 'follower log diverges from the leader; truncating')).toEqual([]);
      expect(await contents(followerLog)).toEqual(await contents(leaderLog));
    } finally {
      await fetcher.stop();
    }
  });

  it('keeps at most unsyncedFetchesMax results unsynced: the fetch after them waits for their fsync', async () => {
    const { leaderLog, leader, store, followerLog, calls, fetcher } = await pipelinedFollower({ fetchWaitMs: 20, unsyncedFetchesMax: 2 });
    const fetches = () => calls.filter((call) => call.startsWith('fetch')).length;
    try {
      store.hold();
      // One batch per fetch result: each is appended after the follower took the one before.
      for (const index of [0, 1]) {
        await leader.append(recordBatch(`b${index}`, 1), 'leader', 1_000);
        await waitFor(() => (followerLog.appendedEndOffset() === index + 1 ? true : undefined), 5_000, `the follower to take b${index}`);
      }
      for (const index of [2, 3]) await leader.append(recordBatch(`b${index}`, 1), 'leader', 1_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Two results wait for their fsync; the fetcher sends no further fetch until one is durable.
      expect(followerLog.appendedEndOffset()).toBe(2);
      const fetchesWhileHeld = fetches();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(fetches()).toBe(fetchesWhileHeld);
      store.release();
      await waitFor(() => (followerLog.logEndOffset() === 4 ? true : undefined), 5_000, 'the follower to catch up once the fsync ends');
      expect(await contents(followerLog)).toEqual(await contents(leaderLog));
    } finally {
      await fetcher.stop();
    }
  });
});

describe('replica fetch session (leader side)', () => {
  const listing = (fetchOffset: number, durableEndOffset: number, maxBytes = 0) => replicateFetchToWire(1, {
    maxWaitMs: 0, minBytes: 0, maxBytes,
    partitions: [{ topic: 'orders', partition: 0, topicId: 't1', currentLeaderEpoch: 1, fetchOffset, lastFetchedEpoch: 1, durableEndOffset, logStartOffset: 0, partitionMaxBytes: 0 }],
    removed: [],
  });

  it('counts an ack of the follower\'s durable end toward the high watermark, and refuses one beyond its fetch offset', async () => {
    const leader = leaderOn(await logOf([['a0', 1], ['a1', 1]]), 1);
    const session = new ReplicaFetchSession(2, { leaderFor: () => leader }, systemClock, replicaFetchSessionDefaults, new LeaderChanges());
    // The follower has both records but has fsynced neither yet.
    await session.answer(listing(2, 0), new AbortController().signal);
    expect(leader.highWatermark()).toBeUndefined();
    const ack = (durableEndOffset: number) => session.ack({ partitions: [{ topicPartition: { topic: 'orders', partition: 0 }, currentLeaderEpoch: 1, durableEndOffset }] });
    ack(2);
    expect(leader.highWatermark()).toBe(2);
    expect(() => ack(3)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST', message: 'partition "orders-0": acked durable end offset 3 is outside 2..2 (the last reported, the fetch offset)' }));
  });

  it('sends the first batch even when it alone is past the byte budget, and no more', async () => {
    const leader = leaderOn(await logOf([['a0', 1], ['a1', 1], ['a2', 1]]), 1);
    const session = new ReplicaFetchSession(2, { leaderFor: () => leader }, systemClock, replicaFetchSessionDefaults, new LeaderChanges());
    const results = await session.answer(listing(0, 0, 1), new AbortController().signal);
    expect(results.map((result) => result.batches.map((batch) => batch.baseOffset))).toEqual([[0]]);
  });
});
