import { lastIndexOf, termAt, type LogView, type Observation } from '../observation.js';
import type { Checker } from './checker.js';

/**
 * No committed entry is lost across crashes. Three views of it:
 *   1. a node that restarts still holds every entry it acknowledged to a leader before it crashed
 *      (acknowledgements are what make entries committed; one that is forgotten can un-commit);
 *   2. every write a client was told succeeded is an entry that was committed (applied);
 *   3. at the end, the last leader still holds every committed entry (or a snapshot past it).
 */
export function createNoCommittedEntryLost(): Checker {
  const committedTermByIndex = new Map<number, number>();
  const acknowledgedWrites: Array<{ index: number; term: number; nodeId: number }> = [];
  const crashByNode = new Map<number, Extract<Observation, { kind: 'crash' }>>();
  return {
    name: 'noCommittedEntryLost',
    observe(observation: Observation): string | undefined {
      switch (observation.kind) {
        case 'apply':
          if (!committedTermByIndex.has(observation.index)) committedTermByIndex.set(observation.index, observation.term);
          return undefined;
        case 'acknowledged':
          acknowledgedWrites.push(observation);
          return undefined;
        case 'crash':
          crashByNode.set(observation.nodeId, observation);
          return undefined;
        case 'restart': {
          const crash = crashByNode.get(observation.nodeId);
          crashByNode.delete(observation.nodeId);
          return crash === undefined ? undefined : lostAcknowledged(crash, observation.log);
        }
        case 'final':
          return unknownAcknowledged() ?? (observation.log === undefined ? undefined : lostByLeader(observation.leaderId, observation.log));
        default:
          return undefined;
      }
    },
  };

  function unknownAcknowledged(): string | undefined {
    for (const write of acknowledgedWrites) {
      const term = committedTermByIndex.get(write.index);
      if (term !== write.term) {
        return `node ${write.nodeId} acknowledged a client write at entry ${write.index} (term ${write.term}), but the committed entry there has term ${term ?? 'none'}`;
      }
    }
    return undefined;
  }

  function lostByLeader(leaderId: number, log: LogView): string | undefined {
    for (const [index, term] of committedTermByIndex) {
      if (index <= log.snapshotIndex || termAt(log, index) === term) continue;
      return `the final leader ${leaderId} lacks committed entry ${index} (term ${term}); its log ends at ${lastIndexOf(log)}`;
    }
    return undefined;
  }
}

function lostAcknowledged(crash: Extract<Observation, { kind: 'crash' }>, recovered: LogView): string | undefined {
  for (let index = recovered.snapshotIndex + 1; index <= crash.acknowledgedIndex; index++) {
    const before = termAt(crash.log, index);
    const after = termAt(recovered, index);
    // Before the crash the entry may already have been compacted into a snapshot (term unknown).
    if (after !== undefined && (before === undefined || before === after)) continue;
    return `node ${crash.nodeId} acknowledged entry ${index} (term ${before ?? 'in its snapshot'}) before crashing, and restarted ${
      after === undefined ? `with its log ending at ${lastIndexOf(recovered)}` : `holding term ${after} there`
    }`;
  }
  return undefined;
}
