import { TributaryError } from '../errors/index.js';
import type { TopicPartitions } from '../rpc/clients/index.js';

/** One group member as the leader's assignor sees it: its id, the topics it subscribed to and, for cooperative assignors, what it owns now. */
export interface AssignorMember {
  readonly memberId: string;
  readonly topics: readonly string[];
  readonly ownedPartitions?: readonly TopicPartitions[];
  /** The generation its owned partitions are from: a claim from an older generation than another's on the same partition is stale. */
  readonly ownedGeneration?: number;
}

/** Each member's partitions, by member id; every member of the input appears, possibly with none. */
export type GroupAssignment = Map<string, TopicPartitions[]>;

/**
 * How the generation's leader spreads partitions over members. Pure: the same members and
 * partition counts give the same assignment, whichever member leads.
 */
export interface PartitionAssignor {
  readonly name: AssignorName;
  /**
   * `eager`: members give up every partition before they rejoin. `cooperative`: members keep
   * their partitions through the rebalance and give up only those the assignment no longer
   * lists, then rejoin at once so the withheld partitions reach their new owners (KIP-429).
   */
  readonly protocol: 'eager' | 'cooperative';
  assign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): GroupAssignment;
}

export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky';

/**
 * Kafka's RangeAssignor: per topic, the members subscribed to it in member id order each take a
 * contiguous range; the first (partitions % members) take one more. Balanced within one per topic.
 */
export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  protocol: 'eager',
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
  protocol: 'eager',
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

/**
 * A sticky, cooperative assignor: per topic, each subscribed member's quota is the topic's
 * partitions divided evenly (members that own more now take the larger quotas), each member keeps
 * what it owns up to its quota, and the rest goes to members with room, in member id order and
 * partition order. A partition that changes owner is withheld for this generation: its old owner
 * gives it up and rejoins, and the next assignment hands it over. Balanced within one per topic
 * once nothing moves. Not Kafka's exact algorithm (which balances across topics too).
 */
export const cooperativeStickyAssignor: PartitionAssignor = {
  name: 'cooperative-sticky',
  protocol: 'cooperative',
  assign(members, partitionCounts) {
    const owners = validOwners(members);
    const owned = new Map(sortedMembers(members).map((member) => [member.memberId, new Map<string, number[]>()]));
    for (const [topic, count] of sortedTopics(partitionCounts)) {
      const subscribed = sortedMembers(members).filter((member) => member.topics.includes(topic));
      for (const [memberId, partitions] of stickyTopicAssignment(topic, count, subscribed, owners)) {
        // A partition that moves is withheld until its previous owner has given it up.
        const handed = partitions.filter((partition) => (owners.get(`${topic}/${partition}`) ?? memberId) === memberId);
        if (handed.length > 0) owned.get(memberId)?.set(topic, handed);
      }
    }
    return assignmentOf(owned);
  },
};

/** One topic's balanced assignment keeping current owners where quotas allow, before anything is withheld. */
function stickyTopicAssignment(topic: string, count: number, subscribed: readonly AssignorMember[], owners: ReadonlyMap<string, string>): Map<string, number[]> {
  const current = new Map(subscribed.map((member) => [member.memberId, [] as number[]]));
  for (let partition = 0; partition < count; partition++) current.get(owners.get(`${topic}/${partition}`) ?? '')?.push(partition);
  const byOwned = subscribed.toSorted((left, right) => (current.get(right.memberId)?.length ?? 0) - (current.get(left.memberId)?.length ?? 0));
  const base = Math.floor(count / Math.max(1, subscribed.length));
  const quotas = new Map(byOwned.map((member, index) => [member.memberId, base + (index < count % Math.max(1, subscribed.length) ? 1 : 0)]));
  const result = new Map<string, number[]>();
  const kept = new Set<number>();
  for (const member of subscribed) {
    const keeps = (current.get(member.memberId) ?? []).slice(0, quotas.get(member.memberId) ?? 0);
    for (const partition of keeps) kept.add(partition);
    result.set(member.memberId, keeps);
  }
  const free = range(0, count).filter((partition) => !kept.has(partition));
  for (const member of subscribed) {
    const partitions = result.get(member.memberId) ?? [];
    while (partitions.length < (quotas.get(member.memberId) ?? 0) && free.length > 0) partitions.push(free.shift() ?? 0);
    partitions.sort((left, right) => left - right);
  }
  return result;
}

/** "topic/partition" -> the member that owns it now; a claim older than another's on the same partition loses, and equal claims cancel out. */
function validOwners(members: readonly AssignorMember[]): Map<string, string> {
  const claims = new Map<string, { memberId: string; generation: number; contested: boolean }>();
  for (const member of sortedMembers(members)) {
    const generation = member.ownedGeneration ?? 0;
    for (const { topic, partitions } of member.ownedPartitions ?? []) {
      for (const partition of partitions) {
        const key = `${topic}/${partition}`;
        const claim = claims.get(key);
        if (claim === undefined || generation > claim.generation) claims.set(key, { memberId: member.memberId, generation, contested: false });
        else if (generation === claim.generation) claim.contested = true;
      }
    }
  }
  return new Map([...claims].filter(([, claim]) => !claim.contested).map(([key, claim]) => [key, claim.memberId]));
}

const assignors: ReadonlyMap<string, PartitionAssignor> = new Map([rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor].map((assignor) => [assignor.name, assignor]));

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
