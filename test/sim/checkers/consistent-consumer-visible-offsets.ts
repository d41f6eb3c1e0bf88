import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';
import { entryOf, type ReplicaMirror, ReplicaMirrors } from './replica-mirrors.js';

/**
 * Every consumer-visible offset holds the same record on every replica that has it. An offset
 * becomes visible when a leader publishes a high watermark above it, with the record that leader
 * holds there; a replica "has" an offset once its own high watermark (a leader's published one, a
 * follower's FollowerHighWatermark) passes it, which is when it would serve it or could be elected
 * holding it. Records above a replica's high watermark may still be a divergent suffix that log
 * reconciliation will truncate, so they are judged only once it vouches for them. The checker
 * mirrors each replica's log from the append and truncation reports and checks each offset when it
 * becomes visible, when a replica's high watermark passes it, and when a replica rewrites it below
 * its high watermark.
 */
export function createConsistentConsumerVisibleOffsets(): Checker {
  const mirrors = new ReplicaMirrors();
  /** partition → the records below the highest high watermark published. */
  const visible = new Map<number, string[]>();
  const visibleOf = (partition: number): string[] => entryOf(visible, partition, () => []);
  return {
    name: 'consistentConsumerVisibleOffsets',
    observe(observation: Observation): string | undefined {
      mirrors.follow(observation);
      switch (observation.kind) {
        case 'replicaAppended': {
          const { brokerId, partition, offset } = observation;
          const replica = mirrors.of(brokerId, partition);
          return offset < replica.highWatermark ? disagreement(visibleOf(partition), replica, partition, offset, offset + 1) : undefined;
        }
        case 'replicaHighWatermark':
          return vouch(observation.brokerId, observation.partition, observation.highWatermark);
        case 'highWatermarkPublished':
          return publish(observation.brokerId, observation.partition, observation.highWatermark);
        default:
          return undefined;
      }
    },
  };

  function publish(brokerId: number, partition: number, highWatermark: number): string | undefined {
    const seen = visibleOf(partition);
    const leader = mirrors.of(brokerId, partition);
    if (highWatermark > leader.records.length) return `partition ${partition}: broker ${brokerId} published high watermark ${highWatermark} beyond its log end ${leader.records.length}`;
    for (let offset = seen.length; offset < highWatermark; offset++) seen.push(leader.records[offset] as string);
    return vouch(brokerId, partition, highWatermark);
  }

  /** The replica now vouches for its records below `highWatermark`: those not checked yet must be the visible ones. */
  function vouch(brokerId: number, partition: number, highWatermark: number): string | undefined {
    const replica = mirrors.of(brokerId, partition);
    const from = replica.highWatermark;
    replica.highWatermark = highWatermark;
    if (highWatermark > replica.records.length) return `partition ${partition}: broker ${brokerId}'s high watermark ${highWatermark} is beyond its log end ${replica.records.length}`;
    return disagreement(visibleOf(partition), replica, partition, from, highWatermark);
  }
}

function disagreement(seen: readonly string[], replica: ReplicaMirror, partition: number, from: number, to: number): string | undefined {
  for (let offset = from; offset < to; offset++) {
    const expected = seen[offset];
    const held = replica.records[offset];
    // A replica that no longer holds the offset (retention) has nothing to disagree with.
    if (expected === undefined || held === undefined || expected === held) continue;
    return `partition ${partition} offset ${offset} is visible to consumers holding ${expected}, but broker ${replica.brokerId} holds ${held} there below its high watermark ${replica.highWatermark}`;
  }
  return undefined;
}
