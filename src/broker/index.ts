// The broker's pure replication core (docs/REPLICATION.md, "Replication core"): offsets, ISR and
// high watermark decisions; the actors do the I/O and pass the time in.
export { divergingEpoch, noEpoch, truncationOffset, validateLeaderEpoch, type EpochEndOffset, type FetchPosition } from './fetch-divergence.js';
export { FollowerHighWatermark } from './follower-high-watermark.js';
export type { FollowerProgress } from './follower-replica.js';
export {
  LeaderPartitionState,
  type FollowerFetch,
  type HighWatermarkChange,
  type IsrChangeProposal,
  type LeaderPartitionStateOptions,
} from './leader-partition-state.js';
export { PendingAcks, type PendingAcksOptions } from './pending-acks.js';
export {
  producerBatchesCachedMax, producerSequenceMax, ProducerStateTable, type ProducerBatch, type ProducerBatchEntry, type ProducerCheck, type ProducerEntry,
  type ProducerStateTableOptions,
} from './producer-state-table.js';
export { producerEpochMax, type ProducerIdBlock, type ProducerIdBlockSource, ProducerIds, type ProducerIdentity, type ProducerIdsOptions } from './producer-ids.js';
