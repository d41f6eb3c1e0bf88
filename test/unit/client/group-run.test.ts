import { describe, expect, it } from 'vitest';
import { type Assignment, type ConsumerRecord, cooperativeStickyAssignor, rangeAssignor, TributaryError } from '../../../src/client/index.js';
import { GroupMembership } from '../../../src/client/group-membership.js';
import { GroupRun, type RecordSource, type RunOptions } from '../../../src/client/group-run.js';
import { OffsetTracker } from '../../../src/client/offset-tracker.js';
import { eventually } from '../../support/eventually.js';
import { joined, ScriptedCoordinator, synced } from '../../support/scripted-coordinator.js';

/** Records of topic t handed out poll by poll from a script; an empty poll waits a little, as a Fetch would. */
class ScriptedSource implements RecordSource {
  readonly assigned: Assignment[][] = [];
  readonly polls: ConsumerRecord[][] = [];
  private readonly positions = new Map<number, number>();

  assign(assignments: readonly Assignment[]): void {
    this.assigned.push([...assignments]);
    this.positions.clear();
    for (const { partition, offset } of assignments) if (typeof offset === 'number') this.positions.set(partition, offset);
  }

  async poll(): Promise<ConsumerRecord[]> {
    const next = this.polls.shift();
    if (next !== undefined) return next;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return [];
  }

  seek(): void {}

  position(_topic: string, partition: number): number | undefined {
    return this.positions.get(partition);
  }

  isPaused(): boolean {
    return false;
  }
}

function record(partition: number, offset: number): ConsumerRecord {
  return { topic: 't', partition, offset, key: undefined, value: Buffer.from(`${partition}@${offset}`), headers: [], timestampMs: 0 };
}

function startRun(coordinator: ScriptedCoordinator, source: ScriptedSource, options: RunOptions, autoCommitIntervalMs = 60_000) {
  const membership = new GroupMembership(
    { groupId: 'g', topics: ['t'], sessionTimeoutMs: 1_000, rebalanceTimeoutMs: 2_000, assignors: [rangeAssignor, cooperativeStickyAssignor], backoffMsMin: 1, backoffMsMax: 2, random: () => 0.5 },
    coordinator.link(),
    () => Promise.resolve(new Map([['t', 2]])),
  );
  // Heartbeats are driven by the test (membership.heartbeat()), not the timer.
  const settings = { groupId: 'g', autoCommitIntervalMs, heartbeatIntervalMs: 600_000, startWithoutCommit: 'earliest' as const, idleWaitMs: 5 };
  return { membership, run: new GroupRun(settings, options, membership, coordinator.link(), source, 100) };
}

describe('GroupRun', () => {
  it('starts at committed offsets, and commits what it processed BEFORE it gives partitions up and rejoins', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.committed.set('t-0', 5);
    coordinator.joinAnswers.push(joined(1, 'm-b', 'm-a'), joined(2, 'm-b', 'm-a'));
    coordinator.syncAnswers.push(synced(1, [0, 1]), synced(2, [1]));
    const source = new ScriptedSource();
    source.polls.push([record(0, 5), record(0, 6), record(1, 0)]);
    const handled: string[] = [];
    const { membership, run } = startRun(coordinator, source, {
      eachMessage: ({ partition, message }) => Promise.resolve(void handled.push(`${partition}@${message.offset}`)),
      onPartitionsRevoked: ({ generation, partitions }) => void handled.push(`revoked g${generation} ${partitions.map((entry) => entry.partition).join(',')}`),
      onPartitionsAssigned: ({ generation, partitions }) => void handled.push(`assigned g${generation} ${partitions.map((entry) => entry.partition).join(',')}`),
    });
    await run.started;
    await eventually(() => Promise.resolve(handled.length === 4 ? true : undefined), 5_000, 'three records handled');
    coordinator.heartbeatAnswers.push(true);
    await membership.heartbeat();
    await eventually(() => Promise.resolve(handled.length === 6 ? true : undefined), 5_000, 'the rebalance');
    await run.stop();
    expect(source.assigned[0]).toEqual([{ topic: 't', partition: 0, offset: 5 }, { topic: 't', partition: 1, offset: 'earliest' }]);
    expect(handled).toEqual(['assigned g1 0,1', '0@5', '0@6', '1@0', 'revoked g1 0,1', 'assigned g2 1', 'revoked g2 1']);
    expect(coordinator.calls).toEqual([
      'join ', 'sync m-b g1', 'fetchOffsets t-0,t-1', 'heartbeat m-b g1', 'commit m-b g1 t-0@7,t-1@1', 'join m-b', 'sync m-b g2', 'fetchOffsets t-1', 'leave m-b',
    ]);
  });

  it('cooperatively keeps what stays assigned, gives up only what moves, and rejoins at once so it can move', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.committed.set('t-1', 3);
    coordinator.joinAnswers.push(joined(1, 'm-b', 'm-a', [], 'cooperative-sticky'), joined(2, 'm-b', 'm-a', [], 'cooperative-sticky'), joined(3, 'm-b', 'm-a', [], 'cooperative-sticky'));
    coordinator.syncAnswers.push(synced(1, [0, 1]), synced(2, [1]), synced(3, [1]));
    const source = new ScriptedSource();
    source.polls.push([record(0, 0)]);
    const events: string[] = [];
    const { membership, run } = startRun(coordinator, source, {
      eachMessage: ({ partition, message }) => Promise.resolve(void events.push(`${partition}@${message.offset}`)),
      onPartitionsRevoked: ({ generation, partitions }) => void events.push(`revoked g${generation} ${partitions.map((entry) => entry.partition).join(',')}`),
      onPartitionsAssigned: ({ generation, partitions }) => void events.push(`assigned g${generation} ${partitions.map((entry) => entry.partition).join(',')}`),
    });
    await run.started;
    await eventually(() => Promise.resolve(events.length === 2 ? true : undefined), 5_000, 'a record handled');
    coordinator.heartbeatAnswers.push(true);
    await membership.heartbeat();
    await eventually(() => Promise.resolve(coordinator.calls.includes('sync m-b g3') ? true : undefined), 5_000, 'the second rebalance');
    await run.stop();
    expect(events).toEqual(['assigned g1 0,1', '0@0', 'revoked g1 0', 'assigned g2 1', 'assigned g3 1', 'revoked g3 1']);
    expect(coordinator.joins.map((join) => join.subscription)).toEqual([
      { topics: ['t'], ownedPartitions: [], ownedGeneration: 0 },
      { topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [0, 1] }], ownedGeneration: 1 },
      { topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [1] }], ownedGeneration: 2 },
    ]);
    // Partition 1 is read on from where the member was: the group's offsets are asked only at the start.
    expect(coordinator.calls.filter((call) => !call.startsWith('heartbeat'))).toEqual([
      'join ', 'sync m-b g1', 'fetchOffsets t-0,t-1', 'commit m-b g1 t-0@1', 'join m-b', 'sync m-b g2', 'join m-b', 'sync m-b g3', 'leave m-b',
    ]);
    expect(source.assigned.filter((assignment) => assignment.length > 0)).toEqual([
      [{ topic: 't', partition: 0, offset: 'earliest' }, { topic: 't', partition: 1, offset: 3 }],
      [{ topic: 't', partition: 1, offset: 3 }],
      [{ topic: 't', partition: 1, offset: 3 }],
    ]);
  });

  it('rejoins after a fenced auto commit, without committing for the lost generation again', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.joinAnswers.push(joined(1, 'm-b', 'm-a'), joined(3, 'm-b', 'm-a'));
    coordinator.syncAnswers.push(synced(1, [0]), synced(3, [0]));
    coordinator.commitAnswers.push(new TributaryError('ILLEGAL_GENERATION', 'group "g" is at generation 2; member "m-b" sent generation 1'));
    coordinator.committed.set('t-0', 1);
    const source = new ScriptedSource();
    source.polls.push([record(0, 1)]);
    const revoked: boolean[] = [];
    const { run } = startRun(coordinator, source, { eachMessage: () => Promise.resolve(), onPartitionsRevoked: ({ lost }) => void revoked.push(lost) }, 1);
    await run.started;
    await eventually(() => Promise.resolve(coordinator.calls.includes('sync m-b g3') ? true : undefined), 5_000, 'the rejoin');
    await run.stop();
    expect(revoked).toEqual([true, false]);
    expect(coordinator.calls.filter((call) => call.startsWith('commit'))).toEqual(['commit m-b g1 t-0@2']);
    expect(source.assigned.at(-1)).toEqual([]);
  });

  it('commits what the handler processed before it threw, leaves, and ends with the handler error', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.joinAnswers.push(joined(1, 'm-a', 'm-a'));
    coordinator.syncAnswers.push(synced(1, [0]));
    const source = new ScriptedSource();
    source.polls.push([record(0, 0), record(0, 1), record(0, 2)]);
    const { run } = startRun(coordinator, source, {
      eachMessage: ({ message }) => (message.offset === 2 ? Promise.reject(new Error('cannot parse 0@2')) : Promise.resolve()),
    });
    await run.started;
    await expect(run.done).rejects.toThrow('cannot parse 0@2');
    expect(coordinator.calls.slice(-2)).toEqual(['commit m-a g1 t-0@2', 'leave m-a']);
  });
});

describe('OffsetTracker', () => {
  it('commits only offsets above what this member committed in the generation, and refuses an explicit one below', () => {
    const tracker = new OffsetTracker(10);
    tracker.startGeneration(3, [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
    tracker.processed('t', 0, 4);
    tracker.processed('t', 0, 2);
    expect(tracker.pending()).toEqual([{ topic: 't', partition: 0, offset: 5 }]);
    tracker.committed(tracker.explicit([{ topic: 't', partition: 0, offset: 9 }]));
    expect(tracker.pending()).toEqual([]);
    expect(tracker.explicit([{ topic: 't', partition: 0, offset: 9 }])).toEqual([]);
    expect(() => tracker.explicit([{ topic: 't', partition: 0, offset: 6 }])).toThrow('partition t-0: offset 6 is below 9, which this member already committed in generation 3');
    expect(() => tracker.explicit([{ topic: 't', partition: 7, offset: 1 }])).toThrow('partition t-7 is not owned by this member in generation 3; it cannot commit it');
    tracker.startGeneration(4, [{ topic: 't', partition: 0 }]);
    expect(tracker.explicit([{ topic: 't', partition: 0, offset: 6 }])).toEqual([{ topic: 't', partition: 0, offset: 6 }]);
    expect(() => tracker.startGeneration(5, Array.from({ length: 11 }, (_, partition) => ({ topic: 't', partition })))).toThrow('11 partitions assigned; a consumer owns at most 10');
  });
});
