import type { AppendedEntry, Observation } from '../observation.js';
import type { Checker } from './checker.js';

/**
 * Log matching (Raft §5.3): if two logs hold an entry with the same index and term, the logs are
 * identical up to it. Checked incrementally: an (index, term) pair, wherever and whenever it is
 * persisted, must always carry the same data and follow an entry of the same term. By induction
 * on the index that is exactly the property, without comparing whole logs.
 */
export function createLogMatching(): Checker {
  const firstSeen = new Map<string, { nodeId: number; entry: AppendedEntry }>();
  return {
    name: 'logMatching',
    observe(observation: Observation): string | undefined {
      if (observation.kind !== 'append') return undefined;
      for (const entry of observation.entries) {
        const key = `${entry.index}:${entry.term}`;
        const seen = firstSeen.get(key);
        if (seen === undefined) {
          firstSeen.set(key, { nodeId: observation.nodeId, entry });
          continue;
        }
        const problem = mismatch(seen.entry, entry);
        if (problem !== undefined) {
          return `entry ${entry.index} of term ${entry.term} differs between node ${seen.nodeId} and node ${observation.nodeId}: ${problem}`;
        }
      }
      return undefined;
    },
  };
}

function mismatch(first: AppendedEntry, later: AppendedEntry): string | undefined {
  if (first.digest !== later.digest) return `data digest ${first.digest} vs ${later.digest}`;
  if (first.prevTerm !== later.prevTerm) return `previous entry's term ${first.prevTerm} vs ${later.prevTerm}`;
  return undefined;
}
