import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';

/**
 * State-machine safety (Raft §5.4.3): every node applies the same entry at each index, in order,
 * with no gap and no repeat; and only committed entries are applied, that is, never past the
 * highest commit index a leader has reached (a follower only learns commit indices from leaders).
 */
export function createStateMachineSafety(): Checker {
  const appliedByIndex = new Map<number, { nodeId: number; term: number; digest: number }>();
  const appliedIndexByNode = new Map<number, number>();
  let leaderCommitMax = 0;
  return {
    name: 'stateMachineSafety',
    observe(observation: Observation): string | undefined {
      switch (observation.kind) {
        case 'commit':
          if (observation.leader) leaderCommitMax = Math.max(leaderCommitMax, observation.commit);
          return undefined;
        case 'restart':
          appliedIndexByNode.set(observation.nodeId, observation.appliedIndex);
          return undefined;
        case 'restoreSnapshot':
          return restore(observation.nodeId, observation.index);
        case 'apply':
          return apply(observation);
        default:
          return undefined;
      }
    },
  };

  function restore(nodeId: number, index: number): string | undefined {
    const appliedIndex = appliedIndexByNode.get(nodeId) ?? 0;
    appliedIndexByNode.set(nodeId, index);
    if (index < appliedIndex) return `node ${nodeId} restored a snapshot at ${index}, behind its applied index ${appliedIndex}`;
    return undefined;
  }

  function apply(observation: Extract<Observation, { kind: 'apply' }>): string | undefined {
    const { nodeId, index, term, digest } = observation;
    const appliedIndex = appliedIndexByNode.get(nodeId) ?? 0;
    appliedIndexByNode.set(nodeId, index);
    if (index !== appliedIndex + 1) return `node ${nodeId} applied entry ${index} right after entry ${appliedIndex}`;
    if (index > leaderCommitMax) {
      return `node ${nodeId} applied entry ${index}, beyond the highest commit index any leader reached (${leaderCommitMax})`;
    }
    const first = appliedByIndex.get(index);
    if (first === undefined) {
      appliedByIndex.set(index, { nodeId, term, digest });
      return undefined;
    }
    if (first.term === term && first.digest === digest) return undefined;
    return `entry ${index}: node ${first.nodeId} applied term ${first.term} (digest ${first.digest}), node ${nodeId} applied term ${term} (digest ${digest})`;
  }
}
