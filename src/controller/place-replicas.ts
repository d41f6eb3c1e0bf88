import assert from 'node:assert/strict';

export interface PlacementBroker {
  brokerId: number;
  /** '' when not configured: such a broker is its own failure domain. */
  rack: string;
}

export interface PlacementLoad {
  replicas: number;
  leaders: number;
}

export interface PlaceReplicasInput {
  /** Brokers eligible for new replicas (live, not shutting down); any order, distinct ids. */
  brokers: readonly PlacementBroker[];
  partitions: number;
  replicationFactor: number;
  /** Replicas and leaderships each broker already holds; a missing broker holds none. */
  load: ReadonlyMap<number, PlacementLoad>;
}

interface Candidate {
  brokerId: number;
  rackKey: string;
  replicas: number;
  leaders: number;
}

/**
 * Chooses replicas for a new topic's partitions, greedily and deterministically:
 *
 * * the leader (first replica) of each partition is the broker with the fewest leaderships, then
 *   the fewest leaderships on its rack, then the fewest replicas, then the lowest id; on an empty
 *   cluster this is a round robin, so leader counts differ by at most one;
 * * each follower comes from a rack the partition does not use yet whenever one is available,
 *   then from the broker with the fewest replicas, then the lowest id.
 *
 * Existing load counts, so a new topic fills the brokers an older topic left light.
 */
export function placeReplicas(input: PlaceReplicasInput): number[][] {
  const { partitions, replicationFactor } = input;
  assert.ok(Number.isSafeInteger(partitions) && partitions >= 1, `partitions must be at least 1, got ${partitions}`);
  assert.ok(Number.isSafeInteger(replicationFactor) && replicationFactor >= 1, `replication factor must be at least 1, got ${replicationFactor}`);
  assert.ok(replicationFactor <= input.brokers.length, `replication factor ${replicationFactor} exceeds ${input.brokers.length} brokers`);
  const candidates = toCandidates(input);
  const rackLeaders = new Map<string, number>();
  for (const candidate of candidates) {
    rackLeaders.set(candidate.rackKey, (rackLeaders.get(candidate.rackKey) ?? 0) + candidate.leaders);
  }
  const placement: number[][] = [];
  for (let partition = 0; partition < partitions; partition += 1) {
    const leader = pickLeader(candidates, rackLeaders);
    const chosen = [leader];
    while (chosen.length < replicationFactor) chosen.push(pickFollower(candidates, chosen));
    for (const candidate of chosen) candidate.replicas += 1;
    leader.leaders += 1;
    rackLeaders.set(leader.rackKey, (rackLeaders.get(leader.rackKey) ?? 0) + 1);
    placement.push(chosen.map((candidate) => candidate.brokerId));
  }
  assert.equal(placement.length, partitions);
  return placement;
}

function toCandidates(input: PlaceReplicasInput): Candidate[] {
  const candidates = input.brokers.map((broker) => {
    assert.ok(Number.isSafeInteger(broker.brokerId) && broker.brokerId >= 1, `broker id must be at least 1, got ${broker.brokerId}`);
    const load = input.load.get(broker.brokerId) ?? { replicas: 0, leaders: 0 };
    // A rackless broker gets a key no named rack can have, making it a domain of its own.
    const rackKey = broker.rack === '' ? `\u0000${broker.brokerId}` : broker.rack;
    return { brokerId: broker.brokerId, rackKey, replicas: load.replicas, leaders: load.leaders };
  });
  candidates.sort((left, right) => left.brokerId - right.brokerId);
  for (let position = 1; position < candidates.length; position += 1) {
    assert.notEqual(candidates[position]?.brokerId, candidates[position - 1]?.brokerId, 'placement brokers must be distinct');
  }
  return candidates;
}

function pickLeader(candidates: readonly Candidate[], rackLeaders: ReadonlyMap<string, number>): Candidate {
  let best: Candidate | undefined;
  for (const candidate of candidates) {
    if (best === undefined || compareForLeader(candidate, best, rackLeaders) < 0) best = candidate;
  }
  assert.ok(best !== undefined);
  return best;
}

function compareForLeader(left: Candidate, right: Candidate, rackLeaders: ReadonlyMap<string, number>): number {
  return (
    left.leaders - right.leaders ||
    (rackLeaders.get(left.rackKey) ?? 0) - (rackLeaders.get(right.rackKey) ?? 0) ||
    left.replicas - right.replicas ||
    left.brokerId - right.brokerId
  );
}

function pickFollower(candidates: readonly Candidate[], chosen: readonly Candidate[]): Candidate {
  const usedRacks = new Set(chosen.map((candidate) => candidate.rackKey));
  const remaining = candidates.filter((candidate) => !chosen.includes(candidate));
  const onUnusedRack = remaining.filter((candidate) => !usedRacks.has(candidate.rackKey));
  const pool = onUnusedRack.length > 0 ? onUnusedRack : remaining;
  let best: Candidate | undefined;
  for (const candidate of pool) {
    if (best === undefined || candidate.replicas - best.replicas < 0 || (candidate.replicas === best.replicas && candidate.brokerId < best.brokerId)) {
      best = candidate;
    }
  }
  assert.ok(best !== undefined, 'a follower must be available: the replication factor was checked');
  return best;
}
