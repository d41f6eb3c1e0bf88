import type { LeaderRead, PartitionLeader } from '../../actors/partition-replica/partition-leader.js';

/**
 * The partition's high watermark, log start and log end as a read reports them, without reading a
 * batch: a read at the log end offset returns nothing (the high watermark is never above it), and
 * like every read it is NOT_AVAILABLE before a new leader has published a high watermark.
 */
export function leaderBounds(leader: PartitionLeader): Promise<LeaderRead> {
  return leader.read(leader.logEndOffset(), 1);
}
