import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';

/** Election safety (Raft §5.2): at most one node is ever leader in a given term. */
export function createElectionSafety(): Checker {
  const leaderByTerm = new Map<number, number>();
  return {
    name: 'electionSafety',
    observe(observation: Observation): string | undefined {
      if (observation.kind !== 'role' || observation.role !== 'leader') return undefined;
      const leader = leaderByTerm.get(observation.term);
      if (leader === undefined) {
        leaderByTerm.set(observation.term, observation.nodeId);
        return undefined;
      }
      if (leader === observation.nodeId) return undefined;
      return `term ${observation.term} has two leaders: node ${leader} and node ${observation.nodeId}`;
    },
  };
}
