import { describe, expect, it } from 'vitest';
import { PartitionLeader, type PartitionLeaderOptions } from '../../../src/actors/partition-replica/partition-leader.js';
import { GroupCommitWriter, MemoryKeyValueStore, openPartitionLog, type PartitionLog, type StoredBatch } from '../../../src/storage/index.js';
import { ManualClock } from '../../support/manual-clock.js';

/*
 * A partition leader with idempotent producers: the ProducerStateTable's rules (tested on their
 * own in test/unit/broker) applied on the real append path over a real log.
 */

const producerId = 42;

function batchOf(records: number, baseSequence: number, producerEpoch = 0): Omit<StoredBatch, 'partitionLeaderEpoch'> {
  return {
    recordCount: records, firstTimestampMs: 1_000, maxTimestampMs: 1_000, payload: new Uint8Array(records * 10),
    producer: { producerId, producerEpoch, baseSequence },
  };
}

async function openLog(engine = new MemoryKeyValueStore()): Promise<PartitionLog> {
  return openPartitionLog(engine, new GroupCommitWriter(engine, { durability: 'fsync' }), { topic: 'orders', partition: 3 });
}

function leaderOn(log: PartitionLog, leaderEpoch = 4, overrides: Partial<PartitionLeaderOptions> = {}): PartitionLeader {
  return new PartitionLeader({
    log, clock: new ManualClock(10_000), leaderId: 1, leaderEpoch, partitionEpoch: 1, replicas: [1], isr: [1], minInSyncReplicas: 1, highWatermark: 0,
    replicaLagTimeMaxMs: 30_000, pendingAcksMax: 100, isrCheckIntervalMs: 15_000, producersMax: 100, producerIdleMsMax: 3_600_000,
    alterIsr: () => Promise.resolve(undefined), ...overrides,
  });
}

describe('idempotent appends on a partition leader', () => {
  it('answers a retried batch with its original offsets and does not store it again', async () => {
    const log = await openLog();
    const leader = leaderOn(log);
    expect(await leader.append(batchOf(3, 0), 'all', 1_000)).toEqual({ baseOffset: 0, lastOffset: 2, duplicate: false });
    expect(await leader.append(batchOf(2, 3), 'all', 1_000)).toEqual({ baseOffset: 3, lastOffset: 4, duplicate: false });
    expect(await leader.append(batchOf(3, 0), 'all', 1_000)).toEqual({ baseOffset: 0, lastOffset: 2, duplicate: true });
    expect(await leader.append(batchOf(2, 3), 'leader', 1_000)).toEqual({ baseOffset: 3, lastOffset: 4, duplicate: true });
    expect(log.logEndOffset()).toBe(5);
  });

  it('accepts a producer\'s pipelined batches before the earlier ones are durable', async () => {
    const log = await openLog();
    const leader = leaderOn(log);
    const writes = [leader.append(batchOf(2, 0), 'all', 1_000), leader.append(batchOf(2, 2), 'all', 1_000), leader.append(batchOf(1, 4), 'all', 1_000)];
    // The retry of the first arrives while all three are still being written: it waits for the original.
    const retry = leader.append(batchOf(2, 0), 'all', 1_000);
    expect(await Promise.all(writes)).toEqual([
      { baseOffset: 0, lastOffset: 1, duplicate: false }, { baseOffset: 2, lastOffset: 3, duplicate: false }, { baseOffset: 4, lastOffset: 4, duplicate: false },
    ]);
    expect(await retry).toEqual({ baseOffset: 0, lastOffset: 1, duplicate: true });
    expect(log.logEndOffset()).toBe(5);
  });

  it('refuses a gap, an older epoch, and an unknown producer that does not start at 0, storing nothing', async () => {
    const log = await openLog();
    const leader = leaderOn(log);
    await leader.append(batchOf(2, 0, 1), 'leader', 1_000);
    await expect(leader.append(batchOf(1, 5, 1), 'leader', 1_000)).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE', message: expect.stringContaining('the next expected is 2') as unknown });
    await expect(leader.append(batchOf(1, 2, 0), 'leader', 1_000)).rejects.toMatchObject({ code: 'FENCED' });
    const stranger = { ...batchOf(1, 9), producer: { producerId: 7, producerEpoch: 0, baseSequence: 9 } };
    await expect(leader.append(stranger, 'leader', 1_000)).rejects.toMatchObject({ code: 'UNKNOWN_PRODUCER_ID' });
    expect(log.logEndOffset()).toBe(2);
  });

  it('a new leader over the same log knows the batches the previous leader appended', async () => {
    const engine = new MemoryKeyValueStore();
    const first = leaderOn(await openLog(engine), 4);
    await first.append(batchOf(2, 0), 'leader', 1_000);
    await first.append({ recordCount: 1, firstTimestampMs: 1_000, maxTimestampMs: 1_000, payload: new Uint8Array(5) }, 'leader', 1_000);
    await first.append(batchOf(3, 2), 'leader', 1_000);
    first.resign('test');
    // Reopened from the same storage, as after a restart or a failover to this replica.
    const second = leaderOn(await openLog(engine), 5);
    expect(await second.append(batchOf(3, 2), 'leader', 1_000)).toEqual({ baseOffset: 3, lastOffset: 5, duplicate: true });
    expect(await second.append(batchOf(1, 5), 'leader', 1_000)).toEqual({ baseOffset: 6, lastOffset: 6, duplicate: false });
  });

  it('forgets producers idle longer than producerIdleMsMax: their next batch must start a new epoch at 0', async () => {
    const engine = new MemoryKeyValueStore();
    const log = await openLog(engine);
    await leaderOn(log).append(batchOf(1, 0), 'leader', 1_000);
    const later = leaderOn(await openLog(engine), 5, { clock: new ManualClock(1_000 + 3_600_001) });
    await expect(later.append(batchOf(1, 1), 'leader', 1_000)).rejects.toMatchObject({ code: 'UNKNOWN_PRODUCER_ID' });
    expect(await later.append(batchOf(1, 0, 1), 'leader', 1_000)).toEqual({ baseOffset: 1, lastOffset: 1, duplicate: false });
  });
});

describe('idempotent producers and retention', () => {
  it('a new leader still recognises the retry of a batch retention deleted, on every replica that deleted it', async () => {
    const engine = new MemoryKeyValueStore();
    const first = leaderOn(await openLog(engine), 4);
    await first.append(batchOf(2, 0), 'all', 1_000);
    await first.append({ recordCount: 3, firstTimestampMs: 1_000, maxTimestampMs: 1_000, payload: new Uint8Array(30) }, 'all', 1_000);
    // Retention deletes the producer's only batch: the log no longer holds it.
    await (await openLog(engine)).advanceLogStartOffset(2);
    first.resign('test');
    const second = leaderOn(await openLog(engine), 5);
    expect(await second.append(batchOf(2, 0), 'all', 1_000)).toEqual({ baseOffset: 0, lastOffset: 1, duplicate: true });
    expect(await second.append(batchOf(1, 2), 'all', 1_000)).toEqual({ baseOffset: 5, lastOffset: 5, duplicate: false });
  });
});
