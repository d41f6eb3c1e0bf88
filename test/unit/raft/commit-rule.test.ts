import { describe, expect, it } from 'vitest';
import type { RaftBug } from '../../../src/raft/raft-types.js';
import { networkFromStorages, storageWithLog, storedTerms } from './raft-test-network.js';

const fiveVoters = { voters: [1, 2, 3, 4, 5], learners: [] };

/**
 * Raft Figure 8: 1 led term 2 and got 2@2 to node 2; 5 led term 3 and wrote 2@3 only to itself.
 * Now 1 leads term 4 and replicates 2@2 to 3 and 4, but its own 3@4 reaches nobody. Then 1 is cut
 * off and 5 wins term 5 with the votes of 2, 3 and 4, overwriting index 2 with 2@3. (Under the
 * bug there is no 3@4: the bug also skips a new leader's empty entry, as the paper's figure does.)
 */
function figureEight(bug: RaftBug | undefined) {
  const network = networkFromStorages(new Map([
    [1, storageWithLog(fiveVoters, [1, 2], 3, 1)],
    [2, storageWithLog(fiveVoters, [1, 2], 3, 1)],
    [3, storageWithLog(fiveVoters, [1], 3, 1)],
    [4, storageWithLog(fiveVoters, [1], 3, 1)],
    [5, storageWithLog(fiveVoters, [1, 3], 3, 1)],
  ]), { entriesPerMessageMax: 1, checkQuorum: false, bug });
  // 3@4 reaches nobody: an append carrying it is lost once its target holds index 2 (before that,
  // it makes 3 and 4 reject and so receive 2@2 alone). 5 is out of 1's reach while 1 leads.
  network.dropRule = (message) => message.type === 'append' && message.entries.some((entry) => entry.index === 3) &&
    network.node(message.to).status().lastIndex >= 2;
  network.partitionLink(1, 5);
  network.elect(1);
  network.tick([1], 3);
  const leaderCommitAfterReplication = network.node(1).status().commitIndex;
  network.heal();
  network.isolate(1);
  network.elect(5);
  return { network, leaderCommitAfterReplication };
}

describe('commit rule (Raft §5.4.2)', () => {
  it('never commits an entry of an earlier term by counting replicas, so Figure 8 loses nothing', () => {
    const { network, leaderCommitAfterReplication } = figureEight(undefined);
    expect(network.node(1).status().term).toBe(4);
    expect(leaderCommitAfterReplication).toBe(1);
    network.propose(5, 'five');
    const appliedAtTwo = [1, 2, 3, 4, 5].map((id) => network.peer(id).applied.find((entry) => entry.index === 2)?.term);
    expect(appliedAtTwo).toEqual([undefined, 3, 3, 3, 3]);
  });

  it("test-only bug 'commitPreviousTermByCount' commits 2@2, yet node 5 leads term 5 without it", () => {
    const { network, leaderCommitAfterReplication } = figureEight('commitPreviousTermByCount');
    expect(leaderCommitAfterReplication).toBe(2);
    expect(network.peer(1).applied.find((entry) => entry.index === 2)?.term).toBe(2);
    // Leader completeness is broken: node 5 leads term 5 with 2@3 where 2@2 was committed.
    expect(network.node(5).status()).toMatchObject({ role: 'leader', term: 5 });
    expect(storedTerms(network.peer(5)).slice(0, 2)).toEqual([1, 3]);
  });
});
