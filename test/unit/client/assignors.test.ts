import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignorNamed, type AssignorMember, cooperativeStickyAssignor, type GroupAssignment, type PartitionAssignor, rangeAssignor, roundRobinAssignor,
} from '../../../src/client/index.js';

/** Partition counts of up to four topics, and members subscribed to all of them (or to a random subset). */
const groups = (equalSubscriptions: boolean) =>
  fc.record({
    counts: fc.uniqueArray(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 0, max: 24 })), { minLength: 1, maxLength: 4, selector: ([topic]) => topic }),
    members: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 9 }),
    subsets: fc.array(fc.subarray(['a', 'b', 'c', 'd'], { minLength: 1 }), { minLength: 9, maxLength: 9 }),
  }).map(({ counts, members, subsets }) => {
    const topics = counts.map(([topic]) => topic);
    const subscribed = members.map((memberId, index): AssignorMember => ({ memberId, topics: equalSubscriptions ? topics : (subsets[index] ?? topics) }));
    return { partitionCounts: new Map(counts), members: subscribed };
  });

/** topic -> partition -> the members that own it. */
function owners(assignment: GroupAssignment): Map<string, Map<number, string[]>> {
  const found = new Map<string, Map<number, string[]>>();
  for (const [memberId, entries] of assignment) {
    for (const { topic, partitions } of entries) {
      for (const partition of partitions) {
        const byPartition = found.get(topic) ?? new Map<number, string[]>();
        byPartition.set(partition, [...(byPartition.get(partition) ?? []), memberId]);
        found.set(topic, byPartition);
      }
    }
  }
  return found;
}

function countsPerMember(assignment: GroupAssignment, topic: string): number[] {
  return [...assignment.values()].map((entries) => entries.filter((entry) => entry.topic === topic).reduce((sum, entry) => sum + entry.partitions.length, 0));
}

describe.each([rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor])('the $name assignor', (assignor: PartitionAssignor) => {
  it('assigns every partition of a subscribed topic to exactly one member subscribed to it, and answers every member', () => {
    fc.assert(fc.property(groups(false), ({ partitionCounts, members }) => {
      const assignment = assignor.assign(members, partitionCounts);
      expect([...assignment.keys()].toSorted()).toEqual(members.map((member) => member.memberId).toSorted());
      const found = owners(assignment);
      for (const [topic, count] of partitionCounts) {
        const subscribers = members.filter((member) => member.topics.includes(topic)).map((member) => member.memberId);
        const expectedPartitions = subscribers.length === 0 ? 0 : count;
        expect(found.get(topic)?.size ?? 0).toBe(expectedPartitions);
        for (const [partition, memberIds] of found.get(topic) ?? []) {
          expect(partition).toBeLessThan(count);
          expect(memberIds).toHaveLength(1);
          expect(subscribers).toContain(memberIds[0]);
        }
      }
    }));
  });

  it('balances each topic within one partition when subscriptions are equal', () => {
    fc.assert(fc.property(groups(true), ({ partitionCounts, members }) => {
      const assignment = assignor.assign(members, partitionCounts);
      for (const topic of partitionCounts.keys()) {
        const counts = countsPerMember(assignment, topic);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }
    }));
  });

  it('is deterministic: the member order it is given changes nothing', () => {
    fc.assert(fc.property(groups(false), fc.integer(), ({ partitionCounts, members }, seed) => {
      const shuffled = members.toSorted((left, right) => ((left.memberId.charCodeAt(0) * seed) % 7) - ((right.memberId.charCodeAt(0) * seed) % 7));
      const sorted = (assignment: GroupAssignment) => [...assignment].toSorted(([left], [right]) => (left < right ? -1 : 1));
      expect(sorted(assignor.assign(shuffled, partitionCounts))).toEqual(sorted(assignor.assign(members, partitionCounts)));
    }));
  });
});

describe('the cooperative-sticky assignor across a membership change', () => {
  /** Members of a group before and after a change: some stay, some leave, some are new; all subscribe to every topic. */
  const change = fc.record({
    counts: fc.uniqueArray(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 20 })), { minLength: 1, maxLength: 3, selector: ([topic]) => topic }),
    before: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
    after: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
  });

  it('never hands a partition to a new owner while its old owner still holds it, keeps what it can, and settles balanced in the next round', () => {
    fc.assert(fc.property(change, ({ counts, before, after }) => {
      const partitionCounts = new Map(counts);
      const topics = [...partitionCounts.keys()];
      const previous = cooperativeStickyAssignor.assign(before.map((memberId) => ({ memberId, topics })), partitionCounts);
      const previousOwner = new Map([...owners(previous)].flatMap(([topic, byPartition]) => [...byPartition].map(([partition, [memberId]]) => [`${topic}/${partition}`, memberId ?? ''])));
      const round = (owned: GroupAssignment, generation: number) => cooperativeStickyAssignor.assign(after.map((memberId) => ({ memberId, topics, ownedPartitions: owned.get(memberId) ?? [], ownedGeneration: generation })), partitionCounts);
      const first = round(previous, 1);
      for (const [topic, byPartition] of owners(first)) {
        for (const [partition, [memberId]] of byPartition) {
          const owner = previousOwner.get(`${topic}/${partition}`);
          if (owner !== undefined && after.includes(owner)) expect(memberId).toBe(owner);
        }
      }
      const second = round(first, 2);
      for (const [topic, count] of partitionCounts) {
        expect(owners(second).get(topic)?.size ?? 0).toBe(count);
        const perMember = countsPerMember(second, topic);
        expect(Math.max(...perMember) - Math.min(...perMember)).toBeLessThanOrEqual(1);
      }
      // Nothing moves once the group is balanced.
      expect(round(second, 3)).toEqual(second);
    }));
  });

  it('lets a member that stays keep its partitions when a member joins, up to its new share', () => {
    const topics = ['t'];
    const owned = (memberId: string, partitions: number[]) => ({ memberId, topics, ownedPartitions: [{ topic: 't', partitions }], ownedGeneration: 4 });
    const assignment = cooperativeStickyAssignor.assign([owned('m1', [0, 1, 2]), owned('m2', [3, 4, 5]), { memberId: 'm3', topics }], new Map([['t', 6]]));
    // m1 and m2 each give up one partition for m3; it gets them only in the next generation.
    expect(assignment).toEqual(new Map([['m1', [{ topic: 't', partitions: [0, 1] }]], ['m2', [{ topic: 't', partitions: [3, 4] }]], ['m3', []]]));
  });
});

describe('Kafka assignments', () => {
  const members = [{ memberId: 'c1', topics: ['t0', 't1'] }, { memberId: 'c0', topics: ['t0', 't1'] }];
  const partitionCounts = new Map([['t0', 3], ['t1', 3]]);

  it('range gives each member a contiguous range per topic, the first members one more', () => {
    // Kafka's RangeAssignor javadoc: C0: [t0p0, t0p1, t1p0, t1p1], C1: [t0p2, t1p2].
    expect(rangeAssignor.assign(members, partitionCounts)).toEqual(new Map([
      ['c0', [{ topic: 't0', partitions: [0, 1] }, { topic: 't1', partitions: [0, 1] }]],
      ['c1', [{ topic: 't0', partitions: [2] }, { topic: 't1', partitions: [2] }]],
    ]));
  });

  it('roundrobin deals partitions in topic and partition order', () => {
    // Kafka's RoundRobinAssignor javadoc: C0: [t0p0, t0p2, t1p1], C1: [t0p1, t1p0, t1p2].
    expect(roundRobinAssignor.assign(members, partitionCounts)).toEqual(new Map([
      ['c0', [{ topic: 't0', partitions: [0, 2] }, { topic: 't1', partitions: [1] }]],
      ['c1', [{ topic: 't0', partitions: [1] }, { topic: 't1', partitions: [0, 2] }]],
    ]));
  });

  it('names an unknown assignor and the known ones', () => {
    expect(() => assignorNamed('sticky')).toThrow('unknown partition assignor "sticky"; known: range, roundrobin, cooperative-sticky');
  });
});
