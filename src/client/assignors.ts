import { TributaryError } from '../errors/index.js';
import type { TopicPartitions } from '../rpc/clients/index.js';

/** One group member as the leader's assignor sees it: its id and the topics it subscribed to. */
export interface AssignorMember {
  readonly memberId: string;
  readonly topics: readonly string[];
}

/** Each member's partitions, by member id; every member of the input appears, possibly with none. */
export type GroupAssignment = Map<string, TopicPartitions[]>;

/**
 * How the generation's leader spreads partitions over members. Pure: the same members and
 * partition counts give the same assignment, whichever member leads.
 */
export interface PartitionAssignor {
  readonly name: AssignorName;
  assign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): GroupAssignment;
}

export type AssignorName = 'range' | 'roundrobin';

/**
 * Kafka's RangeAssignor: per topic, the members subscribed to it in member id order each take a
 * contiguous range; the first (partitions % members) take one more. Balanced within one per topic.
 */
export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  assign(members, partitionCounts) {
    const owned = new Map(sortedMembers(members).map((member) => [member.memberId, new Map<string, number[]>()]));
    for (const [topic, count] of sortedTopics(partitionCounts)) {
      const subscribed = sortedMembers(members).filter((member) => member.topics.includes(topic));
      const perMember = Math.floor(count / Math.max(1, subscribed.length));
      const extra = count % Math.max(1, subscribed.length);
      subscribed.forEach((member, index) => {
        const start = index * perMember + Math.min(index, extra);
        const length = perMember + (index < extra ? 1 : 0);
        if (length > 0) owned.get(member.memberId)?.set(topic, range(start, length));
      });
    }
    return assignmentOf(owned);
  },
};

/**
 * Kafka's RoundRobinAssignor: every partition of every subscribed topic, in topic then partition
 * order, goes to the next member in member id order that subscribed to its topic. With equal
 * subscriptions the counts differ by at most one, overall and per topic.
 */
export const roundRobinAssignor: PartitionAssignor = {
  name: 'roundrobin',
  assign(members, partitionCounts) {
    const cycle = sortedMembers(members);
    const owned = new Map(cycle.map((member) => [member.memberId, new Map<string, number[]>()]));
    let next = 0;
    for (const [topic, count] of sortedTopics(partitionCounts)) {
      if (!cycle.some((member) => member.topics.includes(topic))) continue;
      for (let partition = 0; partition < count; partition++) {
        // Some member takes the topic (checked above), so this walk ends within one cycle.
        while (!(cycle[next % cycle.length]?.topics.includes(topic) ?? false)) next++;
        const partitions = owned.get(cycle[next % cycle.length]?.memberId ?? '');
        partitions?.set(topic, [...(partitions.get(topic) ?? []), partition]);
        next++;
      }
    }
    return assignmentOf(owned);
  },
};

const assignors: ReadonlyMap<string, PartitionAssignor> = new Map([rangeAssignor, roundRobinAssignor].map((assignor) => [assignor.name, assignor]));

/** The assignor of a name; INVALID_REQUEST names the bad one and the known ones. */
export function assignorNamed(name: string): PartitionAssignor {
  const assignor = assignors.get(name);
  if (assignor === undefined) throw new TributaryError('INVALID_REQUEST', `unknown partition assignor "${name}"; known: ${[...assignors.keys()].join(', ')}`);
  return assignor;
}

function sortedMembers(members: readonly AssignorMember[]): AssignorMember[] {
  return members.toSorted((left, right) => (left.memberId < right.memberId ? -1 : left.memberId > right.memberId ? 1 : 0));
}

function sortedTopics(partitionCounts: ReadonlyMap<string, number>): Array<[string, number]> {
  return [...partitionCounts].toSorted(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
}

function range(start: number, length: number): number[] {
  return Array.from({ length }, (_, index) => start + index);
}

function assignmentOf(owned: Map<string, Map<string, number[]>>): GroupAssignment {
  return new Map([...owned].map(([memberId, topics]) => [memberId, [...topics].map(([topic, partitions]) => ({ topic, partitions }))]));
}
