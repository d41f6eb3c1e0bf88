import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeReplicas, type PlacementBroker, type PlacementLoad } from '../../../src/controller/index.js';

// Sparse, unsorted ids and uneven racks, so nothing relies on ids being 1..n in order.
const clusterArbitrary = fc
  .record({
    brokerIds: fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 12 }),
    rackCount: fc.integer({ min: 0, max: 5 }),
    rackSeeds: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    partitions: fc.integer({ min: 1, max: 60 }),
    replicationFactor: fc.integer({ min: 1, max: 5 }),
  })
  .filter(({ brokerIds, replicationFactor }) => replicationFactor <= brokerIds.length)
  .map(({ brokerIds, rackCount, rackSeeds, partitions, replicationFactor }) => {
    const brokers: PlacementBroker[] = brokerIds.map((brokerId, position) => ({
      brokerId,
      rack: rackCount === 0 ? '' : `rack-${(rackSeeds[position] ?? 0) % rackCount}`,
    }));
    return { brokers, partitions, replicationFactor };
  });

const noLoad = new Map<number, PlacementLoad>();

describe('placeReplicas', () => {
  it('gives every partition replication-factor distinct eligible brokers', () => {
    fc.assert(fc.property(clusterArbitrary, ({ brokers, partitions, replicationFactor }) => {
      const placement = placeReplicas({ brokers, partitions, replicationFactor, load: noLoad });
      const ids = new Set(brokers.map((broker) => broker.brokerId));
      expect(placement).toHaveLength(partitions);
      for (const replicas of placement) {
        expect(replicas).toHaveLength(replicationFactor);
        expect(new Set(replicas).size).toBe(replicationFactor);
        for (const id of replicas) expect(ids.has(id)).toBe(true);
      }
    }));
  });

  it('never puts two replicas on one rack while a rack the partition does not use has a broker', () => {
    fc.assert(fc.property(clusterArbitrary, ({ brokers, partitions, replicationFactor }) => {
      const rackOf = new Map(brokers.map((broker) => [broker.brokerId, broker.rack === '' ? `own-${broker.brokerId}` : broker.rack]));
      const racks = new Set(rackOf.values());
      for (const replicas of placeReplicas({ brokers, partitions, replicationFactor, load: noLoad })) {
        const used = new Set(replicas.map((id) => rackOf.get(id)));
        // Racks are spread iff the replicas use min(RF, number of racks) distinct racks.
        expect(used.size).toBe(Math.min(replicationFactor, racks.size));
      }
    }));
  });

  it('balances leaders within one across the brokers of an empty cluster', () => {
    fc.assert(fc.property(clusterArbitrary, ({ brokers, partitions, replicationFactor }) => {
      const leaders = new Map(brokers.map((broker) => [broker.brokerId, 0]));
      for (const replicas of placeReplicas({ brokers, partitions, replicationFactor, load: noLoad })) {
        const leader = replicas[0] as number;
        leaders.set(leader, (leaders.get(leader) ?? 0) + 1);
      }
      const counts = [...leaders.values()];
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }));
  });

  it('is deterministic and independent of the order brokers are listed in', () => {
    fc.assert(fc.property(clusterArbitrary, ({ brokers, partitions, replicationFactor }) => {
      const forward = placeReplicas({ brokers, partitions, replicationFactor, load: noLoad });
      const reversed = placeReplicas({ brokers: [...brokers].reverse(), partitions, replicationFactor, load: noLoad });
      expect(reversed).toEqual(forward);
    }));
  });

  it('spreads replicas within one per broker when there are no racks and partitions × RF divides evenly', () => {
    const brokers = [1, 2, 3, 4, 5, 6].map((brokerId) => ({ brokerId, rack: '' }));
    const counts = new Map<number, number>();
    for (const replicas of placeReplicas({ brokers, partitions: 12, replicationFactor: 3, load: noLoad })) {
      for (const id of replicas) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual([6, 6, 6, 6, 6, 6]);
  });

  it('places a new topic on the brokers existing topics left light', () => {
    const brokers = [1, 2, 3, 4].map((brokerId) => ({ brokerId, rack: '' }));
    const load = new Map<number, PlacementLoad>([[1, { replicas: 10, leaders: 5 }], [2, { replicas: 10, leaders: 5 }]]);
    const placement = placeReplicas({ brokers, partitions: 2, replicationFactor: 2, load });
    expect(placement.map((replicas) => [...replicas].sort())).toEqual([[3, 4], [3, 4]]);
    expect(new Set(placement.map((replicas) => replicas[0]))).toEqual(new Set([3, 4]));
  });

  it('asserts its preconditions: a replication factor above the broker count is a caller bug', () => {
    expect(() => placeReplicas({ brokers: [{ brokerId: 1, rack: '' }], partitions: 1, replicationFactor: 2, load: noLoad }))
      .toThrow('replication factor 2 exceeds 1 brokers');
  });
});
