import { describe, expect, it } from 'vitest';
import { TestNetwork } from './raft-test-network.js';

describe("test-only bug 'applyBeyondCommit'", () => {
  it('is off by default: a follower applies nothing beyond the leader’s commit index', () => {
    const network = new TestNetwork([1, 2, 3]);
    network.elect(1);
    network.dropRule = (message) => message.type === 'appendResponse';
    network.propose(1, 'uncommitted');
    expect(network.node(1).status().commitIndex).toBe(1);
    expect(network.appliedTexts(2)).toEqual([]);
  });

  it('when on, a follower hands the host entries the leader has not committed', () => {
    const network = new TestNetwork([1, 2, 3], { bug: 'applyBeyondCommit' });
    network.elect(1);
    network.dropRule = (message) => message.type === 'appendResponse';
    network.propose(1, 'uncommitted');
    expect(network.node(1).status().commitIndex).toBe(1);
    expect(network.appliedTexts(2)).toEqual(['uncommitted']);
  });
});
