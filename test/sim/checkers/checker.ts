import type { Observation } from '../observation.js';

export type CheckerName =
  | 'electionSafety'
  | 'logMatching'
  | 'leaderCompleteness'
  | 'stateMachineSafety'
  | 'noCommittedEntryLost'
  | 'monotonicCommit'
  | 'linearizability'
  | 'metadataInvariants'
  | 'leadershipWithinIsr'
  | 'oneLeaderPerEpoch'
  | 'metadataAgreement'
  | 'staleAlterPartitionRejected'
  | 'noAcknowledgedRecordLost'
  | 'monotonicHighWatermark'
  | 'consistentConsumerVisibleOffsets'
  | 'noRecordWrittenTwice';

/**
 * A named invariant over a run's observations. `observe` returns a description of the violation,
 * or undefined while the invariant holds. Checkers keep their own state and never touch nodes.
 */
export interface Checker {
  readonly name: CheckerName;
  observe(observation: Observation): string | undefined;
}
