import { noLeader } from '../../../src/controller/index.js';
import type { LeadershipChange, Observation } from '../observation.js';
import type { Checker } from './checker.js';

/**
 * Partition leadership moves only within the ISR (DESIGN.md §5): a new leader was in sync before
 * the command that elected it, unless the election was unclean (the topic opted in, or the
 * operator asked for one); and an ISR grows only through the leader's alterPartition, or as the
 * sole member of an unclean election. A leader from outside the ISR may lack acknowledged records.
 */
export function createLeadershipWithinIsr(): Checker {
  return {
    name: 'leadershipWithinIsr',
    observe(observation: Observation): string | undefined {
      if (observation.kind !== 'metadataApplied') return undefined;
      for (const change of observation.changes) {
        const problem = leaderOutsideIsr(change) ?? isrGrowth(change, observation.command);
        if (problem !== undefined) return `node ${observation.nodeId} at entry ${observation.index} (${observation.command}): ${problem}`;
      }
      return undefined;
    },
  };
}

function leaderOutsideIsr(change: LeadershipChange): string | undefined {
  const { leader, previousLeader, previousIsr, uncleanAllowed, where } = change;
  if (leader === noLeader || leader === previousLeader || previousIsr.includes(leader) || uncleanAllowed) return undefined;
  return `broker ${leader} became leader of ${where} from outside its ISR [${previousIsr.join(', ')}] without an unclean election`;
}

function isrGrowth(change: LeadershipChange, command: string): string | undefined {
  const { leader, isr, previousIsr, uncleanAllowed, where } = change;
  const grown = isr.some((id) => !previousIsr.includes(id));
  const uncleanSoleMember = uncleanAllowed && isr.length === 1 && isr[0] === leader;
  if (!grown || command === 'alterPartition' || uncleanSoleMember) return undefined;
  return `the ISR of ${where} grew from [${previousIsr.join(', ')}] to [${isr.join(', ')}] without an alterPartition`;
}
