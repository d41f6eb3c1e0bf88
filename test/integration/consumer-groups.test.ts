import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Consumer, Producer } from '../../src/client/index.js';
import { AdminClient, defaultClientOptions, GroupCoordinatorClient } from '../../src/rpc/clients/index.js';
import { GroupMembership } from '../../src/client/group-membership.js';
import { rangeAssignor } from '../../src/client/index.js';
import { controllerOf, registerLiveBrokers, startTestQuorum, type TestNode, waitForLeader } from '../support/controller-quorum.js';
import { eventually } from '../support/eventually.js';
import { startTestNode } from '../support/test-node.js';
import { cleanEnv, runTrib, spawnTrib } from '../support/trib-process.js';

const waitMs = 30_000;
const topic = 'orders';
const partitions = 6;
const groupId = 'workers';
/** Short sessions, so the SIGKILLed member's partitions move within seconds. */
const sessionTimeoutMs = 1_500;

/**
 * What the test sees of the group: who owned which partition at each generation (from the
 * members' assignment callbacks and the CLI member's stderr), every record each member handled,
 * and the group's committed offsets, sampled as they change. Violations are collected as
 * sentences, so a failure says what went wrong.
 */
class GroupObserver {
  readonly violations: string[] = [];
  readonly owners = new Map<number, Map<number, string>>();
  readonly consumed: Array<{ member: string; partition: number; offset: number }> = [];
  readonly committed = new Map<number, number>();
  readonly latest = new Map<string, { generation: number; partitions: number[] }>();
  readonly memberIds = new Map<string, string>();

  assigned(member: string, generation: number, owned: readonly number[]): void {
    const byPartition = this.owners.get(generation) ?? new Map<number, string>();
    this.owners.set(generation, byPartition);
    for (const partition of owned) {
      const owner = byPartition.get(partition);
      if (owner !== undefined && owner !== member) this.violations.push(`generation ${generation}: partition ${partition} owned by ${owner} and ${member}`);
      byPartition.set(partition, member);
    }
    this.latest.set(member, { generation, partitions: [...owned].sort((left, right) => left - right) });
  }

  /** Every member in `members` holds `count` partitions at one generation (the group's current one). */
  balanced(members: readonly string[], count: number): true | undefined {
    const views = members.map((member) => this.latest.get(member));
    const generation = views[0]?.generation;
    return views.every((view) => view !== undefined && view.generation === generation && view.partitions.length === count) ? true : undefined;
  }

  sampleCommits(offsets: ReadonlyArray<{ partition: number; offset: number | undefined }>): void {
    for (const { partition, offset } of offsets) {
      if (offset === undefined) continue;
      const before = this.committed.get(partition) ?? 0;
      if (offset < before) this.violations.push(`partition ${partition}: committed offset went back from ${before} to ${offset}`);
      this.committed.set(partition, Math.max(before, offset));
    }
  }

  /** Records handled more than once, as "partition@offset". */
  duplicates(): string[] {
    const seen = new Set<string>();
    return this.consumed.map((record) => `${record.partition}@${record.offset}`).filter((key) => (seen.has(key) ? true : (seen.add(key), false)));
  }

  missing(produced: ReadonlyMap<number, number>): string[] {
    const seen = new Set(this.consumed.map((record) => `${record.partition}@${record.offset}`));
    return [...produced].flatMap(([partition, count]) => Array.from({ length: count }, (_, offset) => `${partition}@${offset}`)).filter((key) => !seen.has(key));
  }
}

/** `trib consume --group` as its own OS process, its output parsed line by line into the observer. */
function cliMember(name: string, bootstrap: string, observer: GroupObserver, group = groupId): ChildProcess {
  const child = spawnTrib(['consume', topic, '--group', group, '--bootstrap', bootstrap, '--from-beginning', '--json', '--session-timeout-ms', String(sessionTimeoutMs)], cleanEnv());
  onLines(child.stdout, (line) => {
    const record = JSON.parse(line) as { partition: number; offset: number };
    observer.consumed.push({ member: name, partition: record.partition, offset: record.offset });
  });
  onLines(child.stderr, (line) => {
    const assigned = /^trib: group \S+ generation (\d+): assigned (.*)$/.exec(line);
    if (assigned === null) return;
    const owned = assigned[2] === 'no partitions' ? [] : (assigned[2] ?? '').split(', ').map((entry) => Number(entry.slice(entry.lastIndexOf('-') + 1)));
    observer.assigned(name, Number(assigned[1]), owned);
  });
  return child;
}

function onLines(stream: NodeJS.ReadableStream | null, handle: (line: string) => void): void {
  let buffered = '';
  stream?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') handle(line);
  });
}

describe('consumer groups: three members over six partitions, one leaving and one SIGKILLed', () => {
  let node: TestNode;
  let bootstrap: string;
  let coordinator: GroupCoordinatorClient;

  beforeAll(async () => {
    node = await startTestNode({ controller: { raft: { tickIntervalMs: 20 } } });
    bootstrap = node.grpcAddress;
    const options = { ...defaultClientOptions('consumer-groups-test'), deadlineMs: 3_000, bootstrap: [bootstrap] };
    const admin = new AdminClient(options);
    coordinator = new GroupCoordinatorClient(options);
    try {
      const active = async () => ((await admin.describeCluster().catch(() => undefined))?.brokers.some((broker) => broker.state === 'active') ? true : undefined);
      await eventually(active, waitMs, 'the broker to be active');
      await admin.createTopic(topic, { config: { partitions, replicationFactor: 1 } });
    } finally {
      admin.close();
    }
  }, 60_000);

  afterAll(async () => {
    coordinator?.close();
    await node?.stop();
  });

  it('never lets two members own a partition in one generation, consumes every record, and never moves a commit back', async () => {
    const observer = new GroupObserver();
    const produced = new Map<number, number>();
    const producer = new Producer({ bootstrap: [bootstrap], lingerMs: 1 });
    const produce = async (count: number) => {
      const sent = await producer.send(topic, Array.from({ length: count }, (_, index) => ({ value: `order ${index}`, partition: index % partitions })));
      for (const { partition } of sent) produced.set(partition, (produced.get(partition) ?? 0) + 1);
    };
    const allConsumed = (what: string) => eventually(() => Promise.resolve(observer.missing(produced).length === 0 ? true : undefined), waitMs, what);
    const sampler = setInterval(() => {
      coordinator.fetchOffsets(groupId).then(({ offsets }) => observer.sampleCommits(offsets), () => undefined);
    }, 50);
    const sdkMember = (name: string) => {
      const consumer = new Consumer({ bootstrap: [bootstrap], groupId, sessionTimeoutMs: 3_000, heartbeatIntervalMs: 200, autoCommitIntervalMs: 100, fromBeginning: true, fetchMaxWaitMs: 100 });
      consumer.subscribe({ topics: [topic] });
      const running = consumer.run({
        eachMessage: ({ partition, message }) => Promise.resolve(void observer.consumed.push({ member: name, partition, offset: message.offset })),
        onPartitionsAssigned: ({ generation, memberId, partitions: owned }) => {
          observer.memberIds.set(name, memberId);
          observer.assigned(name, generation, owned.map((entry) => entry.partition));
        },
      });
      return { consumer, running };
    };
    const cli = cliMember('c', bootstrap, observer);
    const a = sdkMember('a');
    const b = sdkMember('b');
    try {
      await produce(60);
      await Promise.all([a.running, b.running]);
      await eventually(() => Promise.resolve(observer.balanced(['a', 'b', 'c'], 2)), waitMs, 'three members with two partitions each');
      const threeMembers = observer.latest.get('a')?.generation ?? 0;
      await produce(60);
      await allConsumed('every record with three members');

      // A clean leave: b commits and leaves, a and c take its partitions over where it committed.
      await b.consumer.disconnect();
      await eventually(() => Promise.resolve(observer.balanced(['a', 'c'], 3)), waitMs, 'two members with three partitions each');
      await produce(60);
      await allConsumed('every record after the leave');
      expect(observer.duplicates()).toEqual([]);

      // A commit of a generation the group has left behind is fenced, though its member is still in the group.
      const fenced = await commitAs(coordinator, threeMembers, observer.memberIds.get('a') ?? '');
      expect(fenced).toMatchObject({ code: 'ILLEGAL_GENERATION', message: expect.stringContaining(`sent generation ${threeMembers}`) as unknown });

      // The CLI member dies without a word: after its session times out, a owns all six.
      cli.kill('SIGKILL');
      await eventually(() => Promise.resolve(observer.latest.get('a')?.partitions.length === partitions ? true : undefined), waitMs, 'a to own every partition');
      await produce(60);
      await allConsumed('every record after the crash');
      await a.consumer.disconnect();
      await eventually(async () => {
        observer.sampleCommits((await coordinator.fetchOffsets(groupId)).offsets);
        return [...produced].every(([partition, count]) => observer.committed.get(partition) === count) ? true : undefined;
      }, waitMs, 'every partition committed up to its end');
      expect(observer.violations).toEqual([]);
      expect(observer.owners.size).toBeGreaterThanOrEqual(4);
    } finally {
      clearInterval(sampler);
      cli.kill('SIGKILL');
      await Promise.allSettled([a.consumer.disconnect(), b.consumer.disconnect(), producer.close()]);
    }
  }, 120_000);

  it('cooperative-sticky: a member keeps reading half its partitions through a join, and no record is read twice', async () => {
    const admin = new AdminClient({ ...defaultClientOptions('consumer-groups-sticky'), deadlineMs: 3_000, bootstrap: [bootstrap] });
    await admin.createTopic('sticky', { config: { partitions, replicationFactor: 1 } });
    admin.close();
    const observer = new GroupObserver();
    const revoked: string[] = [];
    const producer = new Producer({ bootstrap: [bootstrap], lingerMs: 1 });
    const produce = (count: number) => producer.send('sticky', Array.from({ length: count }, (_, index) => ({ value: `s${index}`, partition: index % partitions })));
    const member = (name: string) => {
      const consumer = new Consumer({
        bootstrap: [bootstrap], groupId: 'sticky-workers', partitionAssigners: ['cooperative-sticky'], sessionTimeoutMs: 3_000, heartbeatIntervalMs: 200, autoCommitIntervalMs: 100, fromBeginning: true, fetchMaxWaitMs: 100,
      });
      consumer.subscribe({ topics: ['sticky'] });
      const running = consumer.run({
        eachMessage: ({ partition, message }) => Promise.resolve(void observer.consumed.push({ member: name, partition, offset: message.offset })),
        onPartitionsAssigned: ({ generation, partitions: owned }) => observer.assigned(name, generation, owned.map((entry) => entry.partition)),
        onPartitionsRevoked: ({ generation, partitions: given }) => void revoked.push(`${name} g${generation}: ${given.map((entry) => entry.partition).join(',')}`),
      });
      return { consumer, running };
    };
    const a = member('a');
    let b: ReturnType<typeof member> | undefined;
    try {
      await a.running;
      await produce(30);
      await eventually(() => Promise.resolve(observer.consumed.length === 30 ? true : undefined), waitMs, 'a to read 30 records');
      b = member('b');
      await b.running;
      await eventually(() => Promise.resolve(observer.balanced(['a', 'b'], 3)), waitMs, 'three partitions each');
      // a gave up only the three partitions b took, once; it never gave up everything.
      expect(revoked).toHaveLength(1);
      expect(revoked[0]?.split(': ')[1]?.split(',')).toHaveLength(3);
      await produce(30);
      await eventually(() => Promise.resolve(observer.consumed.length === 60 ? true : undefined), waitMs, 'every record once');
      expect(observer.duplicates()).toEqual([]);
      expect(observer.violations).toEqual([]);
    } finally {
      await Promise.allSettled([a.consumer.disconnect(), b?.consumer.disconnect(), producer.close()]);
    }
  }, 60_000);

  it('trib consume --group resumes where the group committed: after --max, and after SIGTERM', async () => {
    const producer = new Producer({ bootstrap: [bootstrap], lingerMs: 1 });
    await producer.send(topic, Array.from({ length: 12 }, (_, index) => ({ value: `cli ${index}`, partition: index % partitions })));
    await producer.close();
    const first = await runTrib(['consume', topic, '--group', 'cli-readers', '--bootstrap', bootstrap, '--from-beginning', '--json', '--max', '5']);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stderr).toMatch(/^trib: group cli-readers generation 1: assigned orders-0, orders-1, orders-2, orders-3, orders-4, orders-5$/m);
    const printedFirst = linesOf(first.stdout);
    expect(printedFirst).toHaveLength(5);
    const committedFirst = await committedCount(coordinator, 'cli-readers');
    expect(committedFirst).toBe(5);

    const observer = new GroupObserver();
    const second = cliMember('second', bootstrap, observer, 'cli-readers');
    const exited = new Promise<number | null>((resolve) => second.on('exit', (code) => resolve(code)));
    await eventually(() => Promise.resolve(observer.consumed.length >= 3 ? true : undefined), waitMs, 'the second run to print records');
    second.kill('SIGTERM');
    expect(await exited).toBe(0);
    const printedSecond = observer.consumed.map((record) => JSON.stringify({ partition: record.partition, offset: record.offset }));
    const firstKeys = printedFirst.map((line) => JSON.stringify({ partition: (JSON.parse(line) as { partition: number }).partition, offset: (JSON.parse(line) as { offset: number }).offset }));
    expect(printedSecond.filter((key) => firstKeys.includes(key))).toEqual([]);
    expect(await committedCount(coordinator, 'cli-readers')).toBe(5 + printedSecond.length);
  }, 60_000);
});

describe('a group member across a controller leader change', () => {
  it('keeps its membership and commits through the new leader, and rebalances there', async () => {
    const quorum = await startTestQuorum(3);
    const bootstrap = quorum.nodes.map((node) => node.grpcAddress);
    const options = { ...defaultClientOptions('consumer-groups-leader-change'), deadlineMs: 3_000, bootstrap };
    const clients = [new GroupCoordinatorClient(options), new GroupCoordinatorClient(options), new GroupCoordinatorClient(options)];
    const admin = new AdminClient(options);
    const member = (client: GroupCoordinatorClient) => new GroupMembership(
      { groupId: 'followers', topics: [topic], sessionTimeoutMs: 3_000, rebalanceTimeoutMs: 5_000, assignors: [rangeAssignor], backoffMsMin: 25, backoffMsMax: 500, random: Math.random },
      client,
      () => Promise.resolve(new Map([[topic, 4]])),
    );
    try {
      await registerLiveBrokers(controllerOf(quorum.leader), [11]);
      await admin.createTopic(topic, { config: { partitions: 4, replicationFactor: 1 } });
      const first = member(clients[0] as GroupCoordinatorClient);
      expect((await first.join())?.partitions).toHaveLength(4);
      await first.commit([{ topic, partition: 0, offset: 5 }]);

      // The leader stops; the member's calls move to whichever controller leads next.
      await quorum.leader.stop();
      const survivors = quorum.nodes.filter((node) => node !== quorum.leader);
      await waitForLeader(survivors);
      await first.heartbeat();
      expect(first.state).toBe('stable');
      await first.commit([{ topic, partition: 0, offset: 7 }]);
      expect((await (clients[2] as GroupCoordinatorClient).fetchOffsets('followers', [{ topic, partition: 0 }])).offsets[0]?.offset).toBe(7);

      // A second member joins through the new leader; the first learns of it from a heartbeat.
      const second = member(clients[1] as GroupCoordinatorClient);
      const secondJoin = second.join();
      await eventually(async () => {
        await first.heartbeat();
        return first.needsJoin ? true : undefined;
      }, waitMs, 'the first member told to rejoin');
      const [firstJoined, secondJoined] = await Promise.all([first.join(), secondJoin]);
      expect(firstJoined?.generation).toBe(secondJoined?.generation);
      const owned = [...(firstJoined?.partitions ?? []), ...(secondJoined?.partitions ?? [])].map((entry) => entry.partition).sort();
      expect(owned).toEqual([0, 1, 2, 3]);
      await Promise.all([first.leave(), second.leave()]);
    } finally {
      admin.close();
      for (const client of clients) client.close();
      await Promise.all(quorum.nodes.filter((node) => node !== quorum.leader).map((node) => node.stop()));
    }
  }, 60_000);
});

function linesOf(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line !== '');
}

/** The number of records a group committed over all partitions (offsets start at 0). */
async function committedCount(coordinator: GroupCoordinatorClient, group: string): Promise<number> {
  const { offsets } = await coordinator.fetchOffsets(group);
  return offsets.reduce((sum, entry) => sum + (entry.offset ?? 0), 0);
}

/** Commits partition 0 as `memberId` at `generation`, answering the coordinator's refusal. */
async function commitAs(coordinator: GroupCoordinatorClient, generation: number, memberId: string): Promise<unknown> {
  return coordinator.commitOffsets({ groupId, generation, memberId }, [{ topic, partition: 0, offset: 0, leaderEpoch: 0, metadata: '' }]).catch((error: unknown) => error);
}
