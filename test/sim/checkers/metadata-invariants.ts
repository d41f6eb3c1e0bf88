import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';

/**
 * The metadata state machine's own invariants hold on every node after every apply and every
 * snapshot restore (checkMetadataInvariants, reported by each node's MetadataReplica): above all no
 * partition has a leader outside its ISR, and no epoch, version or generation goes backwards.
 */
export function createMetadataInvariants(): Checker {
  return {
    name: 'metadataInvariants',
    observe(observation: Observation): string | undefined {
      if (observation.kind !== 'metadataApplied' || observation.violations.length === 0) return undefined;
      return `node ${observation.nodeId} at entry ${observation.index}: ${observation.violations.join('; ')}`;
    },
  };
}
