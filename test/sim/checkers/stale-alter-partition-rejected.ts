import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';

/** What rejects an alterPartition for its epochs; NOT_LEADER too when the proposer did not lead. */
const epochCodes: ReadonlySet<string> = new Set(['STALE_EPOCH', 'FENCED']);

/**
 * ISR changes are fenced by epochs (DESIGN.md §5): an alterPartition whose broker, leader or
 * partition epoch was not current when it was applied is rejected, with STALE_EPOCH or FENCED
 * (or NOT_LEADER from a broker that did not lead the partition). The staleness is judged by the
 * simulator's own oracle from the state before the apply, not by the state machine's checks.
 */
export function createStaleAlterPartitionRejected(): Checker {
  return {
    name: 'staleAlterPartitionRejected',
    observe(observation: Observation): string | undefined {
      if (observation.kind !== 'alterPartitionApplied' || observation.staleness === undefined) return undefined;
      const { nodeId, index, where, staleness } = observation;
      if (observation.accepted) return `node ${nodeId} accepted the alterPartition of ${where} at entry ${index} with ${staleness}`;
      const code = observation.code ?? 'no code';
      if (epochCodes.has(code) || (code === 'NOT_LEADER' && !observation.proposerLeads)) return undefined;
      return `node ${nodeId} rejected the stale alterPartition of ${where} at entry ${index} (${staleness}) with ${code}, not STALE_EPOCH or FENCED`;
    },
  };
}
