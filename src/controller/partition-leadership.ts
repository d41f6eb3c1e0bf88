import assert from 'node:assert/strict';
import type { ApplyContext } from './apply-context.js';
import { partitionChangedDelta } from './metadata-delta.js';
import { noLeader, sortedValues, type MetadataState, type PartitionRecord, type TopicRecord } from './metadata-state.js';

/**
 * Leadership rules shared by fencing, unfencing, controlled shutdown and elections:
 *
 * * The ISR holds only unfenced brokers, except that an offline partition keeps its last leader
 *   as its sole ISR member: that broker has every acknowledged record, so it is the one clean
 *   choice when it comes back.
 * * A leader is an unfenced ISR member, preferably not shutting down (a shutting-down broker keeps
 *   a leadership only when no other in-sync replica can take it).
 * * With no unfenced ISR member the partition is offline (leader `noLeader`), unless its topic
 *   allows unclean election: then the first live replica leads and is the whole ISR.
 */
export interface Leadership {
  leader: number;
  isr: number[];
}

function isLive(state: MetadataState, brokerId: number): boolean {
  const broker = state.brokers.get(brokerId);
  return broker !== undefined && !broker.fenced;
}

function isEligibleLeader(state: MetadataState, brokerId: number): boolean {
  const broker = state.brokers.get(brokerId);
  return broker !== undefined && !broker.fenced && !broker.shuttingDown;
}

/** First eligible broker of `candidates`, else the first live one, else undefined. */
export function pickLeader(state: MetadataState, candidates: readonly number[]): number | undefined {
  return candidates.find((id) => isEligibleLeader(state, id)) ?? candidates.find((id) => isLive(state, id));
}

/** The leadership a partition should have given who is live now; `allowUnclean` from the topic. */
export function desiredLeadership(state: MetadataState, partition: PartitionRecord, allowUnclean: boolean): Leadership {
  const liveIsr = partition.isr.filter((id) => isLive(state, id));
  if (liveIsr.length > 0) {
    const current = liveIsr.includes(partition.leader) ? partition.leader : undefined;
    const eligible = current !== undefined && isEligibleLeader(state, current) ? current : liveIsr.find((id) => isEligibleLeader(state, id));
    // A shutting-down leader keeps its leadership when no other in-sync replica can take it.
    const leader = eligible ?? current ?? liveIsr[0];
    assert.ok(leader !== undefined);
    return { leader, isr: liveIsr };
  }
  const lastIsr = partition.leader !== noLeader ? [partition.leader] : [...partition.isr];
  if (allowUnclean) {
    const leader = pickLeader(state, partition.replicas);
    if (leader !== undefined) return { leader, isr: [leader] };
  }
  return { leader: noLeader, isr: lastIsr };
}

/** Applies a leadership, bumping epochs and emitting a delta only when something changed. */
export function setLeadership(context: ApplyContext, topic: TopicRecord, partition: PartitionRecord, next: Leadership): boolean {
  const leaderChanged = next.leader !== partition.leader;
  const isrChanged = !sameMembers(next.isr, partition.isr);
  if (!leaderChanged && !isrChanged) return false;
  assert.ok(next.isr.length > 0, `partition ${topic.name}/${partition.partition} must keep a non-empty ISR`);
  assert.ok(next.leader === noLeader || next.isr.includes(next.leader), 'a leader must be in the ISR');
  assert.ok(next.leader === noLeader || context.state.brokers.get(next.leader)?.fenced === false, `leader ${next.leader} must be a live broker`);
  // Keep the ISR in replica order so equal sets always encode the same way.
  partition.isr = partition.replicas.filter((id) => next.isr.includes(id));
  assert.equal(partition.isr.length, next.isr.length, 'the ISR must be a subset of the replicas');
  if (leaderChanged) {
    partition.leader = next.leader;
    partition.leaderEpoch += 1;
  }
  partition.partitionEpoch += 1;
  context.deltas.push(partitionChangedDelta(context.index, topic, partition));
  return true;
}

function sameMembers(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && left.every((id) => right.includes(id));
}

/**
 * Re-evaluates every partition with a replica on one of `brokerIds` after their standing changed
 * (fenced, unfenced, shutting down). One pass over all partitions, in topic-name order.
 */
export function reassessPartitionsOf(context: ApplyContext, brokerIds: ReadonlySet<number>): void {
  if (brokerIds.size === 0) return;
  for (const topic of sortedValues(context.state.topics)) {
    for (const partition of topic.partitions) {
      if (!partition.replicas.some((id) => brokerIds.has(id))) continue;
      setLeadership(context, topic, partition, desiredLeadership(context.state, partition, topic.config.uncleanLeaderElection));
    }
  }
}

/** How many partitions the broker leads. */
export function countLeaderships(state: MetadataState, brokerId: number): number {
  let count = 0;
  for (const topic of state.topics.values()) {
    for (const partition of topic.partitions) if (partition.leader === brokerId) count += 1;
  }
  return count;
}

/**
 * How many of the broker's leaderships another in-sync replica could take: what a controlled
 * shutdown still waits for. A leadership no other live, eligible ISR member can take stays until
 * the broker is gone (fencing then takes the partition offline); waiting would not move it.
 */
export function countMovableLeaderships(state: MetadataState, brokerId: number): number {
  let count = 0;
  for (const topic of state.topics.values()) {
    for (const partition of topic.partitions) {
      if (partition.leader === brokerId && partition.isr.some((id) => id !== brokerId && isEligibleLeader(state, id))) count += 1;
    }
  }
  return count;
}
