/**
 * Deliberately broken replication hosts, so tests can prove the replication checkers fire. They
 * live in the simulator's replica host (sim-replica.ts), which drives src/broker the wrong way;
 * nothing in src/broker changes:
 *
 *   truncateToHighWatermark       a follower truncates to its high watermark when it starts
 *                                 following, and the leader never answers a diverging epoch: the
 *                                 pre-KIP-101 rule, which loses acknowledged records or leaves
 *                                 replicas holding different records at one offset
 *   countFetchOffset              the leader counts a follower's fetch offset as its durable end:
 *                                 records acknowledged before the follower synced them
 *   highWatermarkBelowEpochStart  a new leader publishes the high watermark it knew as a
 *                                 follower at once (no KIP-207): the published value goes down
 *   ackBeforeHighWatermark        acks=all is answered once the leader alone has the batch durable
 *   noDeduplication               the leader appends every produce, ignoring the producer-state
 *                                 check's duplicate verdict: a retry of a record it already holds
 *                                 (a delayed original, a retry after a lost answer) is written again
 */
export const replicationBugs = ['truncateToHighWatermark', 'countFetchOffset', 'highWatermarkBelowEpochStart', 'ackBeforeHighWatermark', 'noDeduplication'] as const;
export type ReplicationBug = (typeof replicationBugs)[number];

export function isReplicationBug(bug: string | undefined): bug is ReplicationBug {
  return replicationBugs.some((name) => name === bug);
}
