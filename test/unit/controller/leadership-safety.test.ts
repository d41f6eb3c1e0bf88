import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMetadataCommand, createMetadataState, type MetadataCommand, type MetadataState } from '../../../src/controller/index.js';
import { actionsArbitrary, commandFor } from './random-metadata-commands.js';

interface Seen {
  leader: number;
  isr: number[];
  unclean: boolean;
}

function leaderships(state: MetadataState): Map<string, Seen> {
  const seen = new Map<string, Seen>();
  for (const topic of state.topics.values()) {
    for (const partition of topic.partitions) {
      seen.set(`${topic.topicId}/${partition.partition}`, { leader: partition.leader, isr: [...partition.isr], unclean: topic.config.uncleanLeaderElection });
    }
  }
  return seen;
}

/** Whether the command may hand leadership or ISR membership to an out-of-sync replica. */
function mayGoUnclean(command: MetadataCommand, before: Seen, after: Seen): boolean {
  if (command.type === 'electLeaders' && command.election === 'unclean') return true;
  return before.unclean || after.unclean;
}

describe('leadership safety under random commands', () => {
  it('moves leadership only to an in-sync replica, and grows an ISR only by the leader\'s AlterPartition, unless unclean election is allowed', () => {
    let leaderChanges = 0;
    fc.assert(fc.property(actionsArbitrary, (actions) => {
      const state = createMetadataState();
      let nowMs = 1_000_000;
      actions.forEach((action, position) => {
        nowMs += action[3];
        const command = commandFor(state, action, nowMs);
        const before = leaderships(state);
        applyMetadataCommand(state, command, position + 1);
        for (const [key, after] of leaderships(state)) {
          const previous = before.get(key);
          if (previous === undefined) continue;
          if (mayGoUnclean(command, previous, after)) continue;
          if (after.leader !== previous.leader && after.leader !== 0) {
            leaderChanges += 1;
            expect(previous.isr).toContain(after.leader);
          }
          const added = after.isr.filter((id) => !previous.isr.includes(id));
          if (added.length > 0) expect(command.type).toBe('alterPartition');
        }
      });
    }), { numRuns: 150 });
    expect(leaderChanges).toBeGreaterThan(10);
  });
});
