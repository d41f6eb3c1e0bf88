import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';

/**
 * No two leaders in one leader epoch: across all nodes and the whole run, a partition (of one
 * topic id, so a re-created topic is another partition) has one leader per leader epoch. A leader
 * that changes without a new epoch would let two brokers accept writes as the same leader.
 */
export function createOneLeaderPerEpoch(): Checker {
  const leaders = new Map<string, { leader: number; nodeId: number }>();
  return {
    name: 'oneLeaderPerEpoch',
    observe(observation: Observation): string | undefined {
      if (observation.kind !== 'metadataApplied') return undefined;
      for (const { topicId, partition, leaderEpoch, leader } of observation.leaderships) {
        const key = `${topicId}/${partition}@${leaderEpoch}`;
        const first = leaders.get(key);
        if (first === undefined) leaders.set(key, { leader, nodeId: observation.nodeId });
        else if (first.leader !== leader) {
          return `topic ${topicId} partition ${partition} leader epoch ${leaderEpoch} has two leaders: broker ${first.leader} (node ${first.nodeId}) and broker ${leader} (node ${observation.nodeId} at entry ${observation.index})`;
        }
      }
      return undefined;
    },
  };
}
