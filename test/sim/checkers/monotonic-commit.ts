import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';

/**
 * A node's commit index never goes back: within one run of the process it only grows, and a
 * restarted node starts at least at the last commit index it synced (unsynced ones may be lost).
 */
export function createMonotonicCommit(): Checker {
  const commitByNode = new Map<number, number>();
  const durableCommitByNode = new Map<number, number>();
  return {
    name: 'monotonicCommit',
    observe(observation: Observation): string | undefined {
      switch (observation.kind) {
        case 'commit': {
          const previous = commitByNode.get(observation.nodeId) ?? 0;
          commitByNode.set(observation.nodeId, observation.commit);
          if (observation.commit >= previous) return undefined;
          return `node ${observation.nodeId}'s commit index went back from ${previous} to ${observation.commit}`;
        }
        case 'crash':
          durableCommitByNode.set(observation.nodeId, observation.durableCommit);
          return undefined;
        case 'restart': {
          const durable = durableCommitByNode.get(observation.nodeId) ?? 0;
          commitByNode.set(observation.nodeId, observation.commit);
          if (observation.commit >= durable) return undefined;
          return `node ${observation.nodeId} synced commit index ${durable}, then restarted at ${observation.commit}`;
        }
        default:
          return undefined;
      }
    },
  };
}
