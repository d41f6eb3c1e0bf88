import { lastIndexOf, termAt, type Observation } from '../observation.js';
import type { Checker } from './checker.js';

/**
 * Leader completeness (Raft §5.4): an entry committed before a leader is elected is in that
 * leader's log. "Committed" is what some node applied; an entry the leader has compacted into its
 * snapshot counts as present (the snapshot was itself taken from applied, so committed, state).
 */
export function createLeaderCompleteness(): Checker {
  const committedTermByIndex = new Map<number, number>();
  return {
    name: 'leaderCompleteness',
    observe(observation: Observation): string | undefined {
      if (observation.kind === 'apply') {
        if (!committedTermByIndex.has(observation.index)) committedTermByIndex.set(observation.index, observation.term);
        return undefined;
      }
      if (observation.kind !== 'role' || observation.role !== 'leader') return undefined;
      const { log } = observation;
      if (log === undefined) return `node ${observation.nodeId} became leader of term ${observation.term} but its log was not captured`;
      for (const [index, term] of committedTermByIndex) {
        if (index <= log.snapshotIndex) continue;
        const leaderTerm = termAt(log, index);
        if (leaderTerm === term) continue;
        const found = leaderTerm === undefined ? `its log ends at ${lastIndexOf(log)}` : `it holds term ${leaderTerm} there`;
        return `node ${observation.nodeId} became leader of term ${observation.term} without committed entry ${index} (term ${term}): ${found}`;
      }
      return undefined;
    },
  };
}
