import { describe, expect, it } from 'vitest';
import { NodeSupervisor } from '../../../src/actors/node-supervisor/node-supervisor.js';
import { supervisorDefaults } from '../../../src/actors/node-supervisor/supervisor-options.js';
import { PartitionReplicas, partitionReplicasDefaults } from '../../../src/actors/partition-replica/partition-replicas.js';
import type { PartitionChange } from '../../../src/actors/broker-metadata/broker-metadata-view.js';
import type { PartitionInfo } from '../../../src/rpc/clients/index.js';
import { claimPartition, formatPartition, GroupCommitWriter, MemoryKeyValueStore, openPartitionLog, type PartitionId, type StoredBatch } from '../../../src/storage/index.js';
import { waitFor } from '../../support/in-process-raft-cluster.js';
import { captureLogger } from '../../support/log-capture.js';
import { ManualClock } from '../../support/manual-clock.js';

const brokerId = 1;
const batch: Omit<StoredBatch, 'partitionLeaderEpoch'> = { recordCount: 1, firstTimestampMs: 1, maxTimestampMs: 1, payload: new Uint8Array(8) };

function change(partition: Partial<PartitionInfo> | undefined, topic = 'orders', topicId = 't1'): PartitionChange {
  const info = partition === undefined ? undefined : { partition: 0, replicas: [1, 2, 3], leader: 1, isr: [1, 2, 3], leaderEpoch: 1, partitionEpoch: 1, ...partition };
  return { topic, topicId, partition: info, partitionIndex: 0 };
}

async function hostOn(options: { failOpens?: number } = {}) {
  let failuresLeft = options.failOpens ?? 0;
  const engine = new MemoryKeyValueStore();
  const writer = new GroupCommitWriter(engine, { durability: 'fsync' });
  const opened: PartitionId[] = [];
  const following: string[] = [];
  const capture = captureLogger();
  const clock = new ManualClock();
  const escalations: Error[] = [];
  const supervisor = await NodeSupervisor.start({
    ...supervisorDefaults, name: 'partitions', clock, random: { nextInt: () => 0 }, logger: capture.logger, onEscalate: (error) => escalations.push(error),
  });
  const replicas = new PartitionReplicas({
    supervisor,
    brokerId,
    openLog: async (id, topicId) => {
      opened.push(id);
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('disk gone');
      }
      await claimPartition(engine, writer, id, topicId);
      return openPartitionLog(engine, writer, id);
    },
    minInSyncReplicasOf: () => 2,
    fetchers: {
      follow: (leaderId, followed) => following.push(`follow ${formatPartition(followed.id)} from ${leaderId} in epoch ${followed.leaderEpoch}`),
      unfollow: (id) => following.push(`unfollow ${formatPartition(id)}`),
    },
    alterIsr: () => Promise.resolve(undefined),
    clock,
    logger: capture.logger,
    settings: partitionReplicasDefaults,
  });
  const roleOf = () => replicas.hosted('orders', 0)?.role;
  const untilRole = (role: string) => waitFor(() => (roleOf() === role ? true : undefined), 2_000, `orders-0 to be ${role}`);
  return { replicas, opened, following, capture, roleOf, untilRole, clock, escalations };
}

describe('partition replicas', () => {
  it('leads a partition the metadata says this broker leads, and takes writes in its epoch', async () => {
    const { replicas, untilRole } = await hostOn();
    replicas.apply([change({ leaderEpoch: 3 })]);
    await untilRole('leading');
    const leader = replicas.hosted('orders', 0)?.leader;
    expect(leader?.leaderEpoch).toBe(3);
    await expect(leader?.append(batch, 'leader', 1_000)).resolves.toEqual({ baseOffset: 0, lastOffset: 0, duplicate: false });
  });

  it('follows when another broker leads, is offline when none does, and ignores partitions it does not replicate', async () => {
    const { replicas, untilRole, following } = await hostOn();
    replicas.apply([change({ leader: 2 })]);
    await untilRole('following');
    expect(replicas.hosted('orders', 0)?.leader).toBeUndefined();
    replicas.apply([change({ leader: 3, leaderEpoch: 2 })]);
    await waitFor(() => (following.length === 3 ? true : undefined), 2_000, 'the fetch to move to broker 3');
    replicas.apply([change({ leader: 0, leaderEpoch: 3 })]);
    await untilRole('offline');
    expect(following).toEqual(['follow orders-0 from 2 in epoch 1', 'unfollow orders-0', 'follow orders-0 from 3 in epoch 2', 'unfollow orders-0']);
    replicas.apply([change({ replicas: [2, 3], leader: 2 }, 'other')]);
    expect(replicas.hosted('other', 0)).toBeUndefined();
  });

  it('a follower made leader settles its log first: the new epoch starts where the log really ends', async () => {
    const { replicas, untilRole } = await hostOn();
    replicas.apply([change({ leader: 2 })]);
    await untilRole('following');
    replicas.apply([change({ leader: 1, leaderEpoch: 2 })]);
    await untilRole('leading');
    const leader = replicas.hosted('orders', 0)?.leader;
    expect(leader?.leaderEpoch).toBe(2);
    await expect(leader?.append(batch, 'leader', 1_000)).resolves.toEqual({ baseOffset: 0, lastOffset: 0, duplicate: false });
  });

  it('a newer leader epoch elsewhere resigns this leader: its waiting acks=all writes fail with NOT_LEADER', async () => {
    const { replicas, untilRole } = await hostOn();
    replicas.apply([change({ leaderEpoch: 1 })]);
    await untilRole('leading');
    const write = replicas.hosted('orders', 0)?.leader?.append(batch, 'all', 60_000);
    const failure = write?.catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 20));
    replicas.apply([change({ leader: 2, leaderEpoch: 2, isr: [2, 3] })]);
    await untilRole('following');
    expect(await failure).toMatchObject({ code: 'NOT_LEADER' });
  });

  it('ignores an assignment older than the leader epoch it has seen', async () => {
    const { replicas, untilRole, roleOf } = await hostOn();
    replicas.apply([change({ leader: 2, leaderEpoch: 5 })]);
    await untilRole('following');
    replicas.apply([change({ leader: 1, leaderEpoch: 4 })]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(roleOf()).toBe('following');
  });

  it('an ISR change in the same epoch keeps the leader and moves its high watermark', async () => {
    const { replicas, untilRole } = await hostOn();
    replicas.apply([change({ leaderEpoch: 1, partitionEpoch: 1 })]);
    await untilRole('leading');
    const leader = replicas.hosted('orders', 0)?.leader;
    const write = leader?.append(batch, 'all', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Followers 2 and 3 left the ISR; min in-sync replicas still allows the write already taken.
    replicas.apply([change({ leaderEpoch: 1, partitionEpoch: 2, isr: [1] })]);
    await expect(write).resolves.toEqual({ baseOffset: 0, lastOffset: 0, duplicate: false });
    expect(replicas.hosted('orders', 0)?.leader).toBe(leader);
  });

  it('a partition removed and assigned again keeps its log, opened once', async () => {
    const { replicas, untilRole, opened } = await hostOn();
    replicas.apply([change({ leaderEpoch: 1, isr: [1] })]);
    await untilRole('leading');
    await replicas.hosted('orders', 0)?.leader?.append(batch, 'leader', 1_000);
    replicas.apply([change(undefined)]);
    expect(replicas.hosted('orders', 0)).toBeUndefined();
    replicas.apply([change({ leaderEpoch: 2, isr: [1] })]);
    await untilRole('leading');
    await expect(replicas.hosted('orders', 0)?.leader?.append(batch, 'leader', 1_000)).resolves.toEqual({ baseOffset: 1, lastOffset: 1, duplicate: false });
    expect(opened).toHaveLength(1);
  });

  it('a topic deleted and created again under the same name starts from an empty log, not the old records', async () => {
    const { replicas, untilRole, opened } = await hostOn();
    replicas.apply([change({ leaderEpoch: 1, isr: [1] })]);
    await untilRole('leading');
    await replicas.hosted('orders', 0)?.leader?.append(batch, 'leader', 1_000);
    replicas.apply([change(undefined)]);
    replicas.apply([change({ leaderEpoch: 1, isr: [1] }, 'orders', 't2')]);
    await untilRole('leading');
    const leader = replicas.hosted('orders', 0)?.leader;
    expect(leader?.logEndOffset()).toBe(0);
    await expect(leader?.append(batch, 'leader', 1_000)).resolves.toEqual({ baseOffset: 0, lastOffset: 0, duplicate: false });
    expect(opened).toHaveLength(2);
  });

  it('a log that cannot be opened crashes the replica; the supervisor restarts it after a backoff, from the newest assignment', async () => {
    const { replicas, untilRole, capture, opened, clock } = await hostOn({ failOpens: 1 });
    replicas.apply([change({})]);
    await waitFor(() => capture.lines().find((line) => line.msg === 'partition replica could not open its log'), 2_000, 'the open to fail');
    expect(capture.lines().find((line) => line.msg === 'partition replica could not open its log')).toMatchObject({ partition: 'orders-0', err: { message: 'disk gone' } });
    replicas.apply([change({ leader: 2, leaderEpoch: 2 })]);
    await waitFor(() => (capture.lines().some((line) => line.msg === 'child ended; restarting after backoff') ? true : undefined), 2_000, 'a restart to be scheduled');
    await clock.advance(supervisorDefaults.backoffMsMin);
    await untilRole('following');
    expect(opened).toHaveLength(2);
  });

  it('a replica that keeps crashing escalates to the supervisor\'s parent', async () => {
    const { replicas, clock, escalations } = await hostOn({ failOpens: 100 });
    replicas.apply([change({})]);
    for (let round = 0; round < 20 && escalations.length === 0; round++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await clock.advance(supervisorDefaults.backoffMsMax);
    }
    expect(escalations.map((error) => error.message)).toEqual([expect.stringContaining('orders-0')]);
  });
});
