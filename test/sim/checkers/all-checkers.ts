import type { Checker } from './checker.js';
import { createConsistentConsumerVisibleOffsets } from './consistent-consumer-visible-offsets.js';
import { createElectionSafety } from './election-safety.js';
import { createLeaderCompleteness } from './leader-completeness.js';
import { createLeadershipWithinIsr } from './leadership-within-isr.js';
import { createLinearizability, type LinearizabilityCounters } from './linearizability-checker.js';
import { createLogMatching } from './log-matching.js';
import { createMetadataAgreement } from './metadata-agreement.js';
import { createMetadataInvariants } from './metadata-invariants.js';
import { createMonotonicCommit } from './monotonic-commit.js';
import { createMonotonicHighWatermark } from './monotonic-high-watermark.js';
import { createNoAcknowledgedRecordLost } from './no-acknowledged-record-lost.js';
import { createNoCommittedEntryLost } from './no-committed-entry-lost.js';
import { createNoRecordWrittenTwice } from './no-record-written-twice.js';
import { createOneLeaderPerEpoch } from './one-leader-per-epoch.js';
import { createStaleAlterPartitionRejected } from './stale-alter-partition-rejected.js';
import { createStateMachineSafety } from './state-machine-safety.js';

/** Every checker, fresh for one run, in the order their verdicts are reported. */
export function createAllCheckers(linearizability: LinearizabilityCounters): Checker[] {
  return [
    createElectionSafety(),
    createLogMatching(),
    createLeaderCompleteness(),
    createStateMachineSafety(),
    createNoCommittedEntryLost(),
    createMonotonicCommit(),
    createLinearizability(linearizability),
    createMetadataInvariants(),
    createLeadershipWithinIsr(),
    createOneLeaderPerEpoch(),
    createMetadataAgreement(),
    createStaleAlterPartitionRejected(),
    createNoAcknowledgedRecordLost(),
    createMonotonicHighWatermark(),
    createConsistentConsumerVisibleOffsets(),
    createNoRecordWrittenTwice(),
  ];
}
