import { describe, expect, it } from 'vitest';
import { createAllCheckers } from './checkers/all-checkers.js';
import type { Checker, CheckerName } from './checkers/checker.js';
import { unknownOutput } from './linearizability/history.js';
import type { LeadershipChange, LogView, Observation, PartitionLeadership } from './observation.js';

/** Feeds a hand-built trace to every checker; returns the first violation per checker name. */
function verdicts(trace: readonly Observation[]): Partial<Record<CheckerName, string>> {
  const checkers: Checker[] = createAllCheckers({ checked: 0, unknown: 0 });
  const found: Partial<Record<CheckerName, string>> = {};
  for (const observation of trace) {
    for (const checker of checkers) {
      const violation = checker.observe(observation);
      if (violation !== undefined && found[checker.name] === undefined) found[checker.name] = violation;
    }
  }
  return found;
}

const log = (terms: number[], snapshotIndex = 0, snapshotTerm = 0): LogView => ({ snapshotIndex, snapshotTerm, terms });
const leader = (atMs: number, nodeId: number, term: number, terms: number[] = []): Observation =>
  ({ kind: 'role', atMs, nodeId, term, role: 'leader', log: log(terms) });
const commit = (atMs: number, nodeId: number, value: number, isLeader = true): Observation =>
  ({ kind: 'commit', atMs, nodeId, commit: value, leader: isLeader });
const apply = (atMs: number, nodeId: number, index: number, term: number, digest = index * 100 + term): Observation =>
  ({ kind: 'apply', atMs, nodeId, index, term, digest });
const metadataApplied = (nodeId: number, index: number, leaderships: PartitionLeadership[], violations: string[] = []): Observation =>
  ({ kind: 'metadataApplied', atMs: index, nodeId, index, command: 'brokerHeartbeat', violations, leaderships, changes: [] });
const leadershipChange = (command: string, change: Omit<LeadershipChange, 'where'>): Observation =>
  ({ kind: 'metadataApplied', atMs: 1, nodeId: 1, index: 30, command, violations: [], leaderships: [], changes: [{ where: 't/0', ...change }] });
const leadership = (leaderEpoch: number, leader: number, partition = 0): PartitionLeadership => ({ topicId: '000000000000000a', partition, leaderEpoch, leader });
const metadataDigest = (nodeId: number, index: number, digest: number): Observation => ({ kind: 'metadataDigest', atMs: index, nodeId, index, digest });
const alterPartitionApplied = (staleness: string | undefined, accepted: boolean, code?: string, proposerLeads = true): Observation =>
  ({ kind: 'alterPartitionApplied', atMs: 1, nodeId: 2, index: 12, where: 't/0 by broker 1', staleness, proposerLeads, accepted, code });

/** A healthy three-node run: one leader, two entries replicated, committed and applied everywhere. */
const healthyTrace: Observation[] = [
  leader(1, 1, 1),
  { kind: 'append', atMs: 2, nodeId: 1, entries: [{ index: 1, term: 1, prevTerm: 0, digest: 101 }, { index: 2, term: 1, prevTerm: 1, digest: 201 }] },
  { kind: 'append', atMs: 3, nodeId: 2, entries: [{ index: 1, term: 1, prevTerm: 0, digest: 101 }, { index: 2, term: 1, prevTerm: 1, digest: 201 }] },
  commit(4, 1, 2),
  apply(4, 1, 1, 1),
  apply(4, 1, 2, 1),
  { kind: 'acknowledged', atMs: 4, nodeId: 1, index: 2, term: 1 },
  commit(5, 2, 2, false),
  apply(5, 2, 1, 1),
  apply(5, 2, 2, 1),
  { kind: 'crash', atMs: 6, nodeId: 2, log: log([1, 1]), acknowledgedIndex: 2, durableCommit: 2 },
  { kind: 'restart', atMs: 7, nodeId: 2, log: log([1, 1]), commit: 2, appliedIndex: 0 },
  apply(8, 2, 1, 1),
  apply(8, 2, 2, 1),
  leader(9, 2, 2, [1, 1]),
  {
    kind: 'history',
    atMs: 10,
    history: [
      { clientId: 1, input: { kind: 'put', key: 'x', value: 'a' }, output: undefined, callTime: 1, returnTime: 4 },
      { clientId: 2, input: { kind: 'get', key: 'x' }, output: 'a', callTime: 5, returnTime: 6 },
      { clientId: 3, input: { kind: 'append', key: 'x', value: 'b' }, output: unknownOutput, callTime: 6, returnTime: Infinity },
    ],
  },
  { kind: 'final', atMs: 10, leaderId: 2, log: log([1, 1, 2]) },
  // Two nodes agree on the metadata: the same leaders per epoch, the same digests, stale ISR changes rejected.
  metadataApplied(1, 10, [leadership(1, 1), leadership(1, 2, 1)]),
  metadataApplied(2, 10, [leadership(1, 1), leadership(1, 2, 1)]),
  metadataApplied(1, 11, [leadership(2, 3), leadership(3, 0, 1)]),
  metadataDigest(1, 16, 77),
  metadataDigest(2, 16, 77),
  alterPartitionApplied('partition epoch 1 (current 2)', false, 'STALE_EPOCH'),
  alterPartitionApplied('broker epoch 3 (current 9)', false, 'FENCED'),
  alterPartitionApplied('partition epoch 1 (current 2)', false, 'NOT_LEADER', false),
  alterPartitionApplied(undefined, true),
  // A fenced leader's partition moves to an in-sync follower; an unclean election takes any live replica; an ISR grows by alterPartition.
  leadershipChange('fenceExpiredBrokers', { previousLeader: 1, leader: 2, previousIsr: [1, 2], isr: [2], uncleanAllowed: false }),
  leadershipChange('electLeaders', { previousLeader: 0, leader: 3, previousIsr: [1], isr: [3], uncleanAllowed: true }),
  leadershipChange('alterPartition', { previousLeader: 2, leader: 2, previousIsr: [2], isr: [2, 3], uncleanAllowed: false }),
];

describe('checkers', () => {
  it('accept a healthy trace', () => {
    expect(verdicts(healthyTrace)).toEqual({});
  });

  it('electionSafety flags two leaders in one term', () => {
    expect(verdicts([leader(1, 1, 3), leader(2, 2, 3)]).electionSafety).toBe('term 3 has two leaders: node 1 and node 2');
  });

  it('logMatching flags the same index and term with different data or a different predecessor', () => {
    const entry = { index: 4, term: 2, prevTerm: 1, digest: 7 };
    const differentData: Observation[] = [
      { kind: 'append', atMs: 1, nodeId: 1, entries: [entry] },
      { kind: 'append', atMs: 2, nodeId: 2, entries: [{ ...entry, digest: 8 }] },
    ];
    expect(verdicts(differentData).logMatching).toBe('entry 4 of term 2 differs between node 1 and node 2: data digest 7 vs 8');
    const differentHistory: Observation[] = [differentData[0] as Observation, { kind: 'append', atMs: 2, nodeId: 3, entries: [{ ...entry, prevTerm: 2 }] }];
    expect(verdicts(differentHistory).logMatching).toMatch(/previous entry's term 1 vs 2/);
  });

  it('leaderCompleteness flags a leader elected without a committed entry', () => {
    const trace = [leader(1, 1, 1), commit(2, 1, 2), apply(2, 1, 1, 1), apply(2, 1, 2, 1), leader(3, 2, 2, [1])];
    expect(verdicts(trace).leaderCompleteness).toBe(
      'node 2 became leader of term 2 without committed entry 2 (term 1): its log ends at 1',
    );
  });

  it('stateMachineSafety flags different entries applied at one index, gaps, and applying past commit', () => {
    const divergent = [commit(1, 1, 1), apply(1, 1, 1, 1), commit(2, 2, 1), apply(2, 2, 1, 2)];
    expect(verdicts(divergent).stateMachineSafety).toMatch(/^entry 1: node 1 applied term 1 .* node 2 applied term 2/);
    expect(verdicts([commit(1, 1, 3), apply(1, 1, 2, 1)]).stateMachineSafety).toBe('node 1 applied entry 2 right after entry 0');
    expect(verdicts([commit(1, 1, 1), apply(1, 1, 1, 1), commit(2, 2, 5, false), apply(2, 1, 2, 1)]).stateMachineSafety).toBe(
      'node 1 applied entry 2, beyond the highest commit index any leader reached (1)',
    );
  });

  it('noCommittedEntryLost flags a restart without acknowledged entries, an unknown ack, and a forgetful final leader', () => {
    const forgotten: Observation[] = [
      { kind: 'crash', atMs: 1, nodeId: 2, log: log([1, 1, 1]), acknowledgedIndex: 3, durableCommit: 0 },
      { kind: 'restart', atMs: 2, nodeId: 2, log: log([1]), commit: 0, appliedIndex: 0 },
    ];
    expect(verdicts(forgotten).noCommittedEntryLost).toBe(
      'node 2 acknowledged entry 2 (term 1) before crashing, and restarted with its log ending at 1',
    );
    const phantomAck: Observation[] = [{ kind: 'acknowledged', atMs: 1, nodeId: 1, index: 1, term: 1 }, { kind: 'final', atMs: 2, leaderId: 1, log: undefined }];
    expect(verdicts(phantomAck).noCommittedEntryLost).toMatch(/committed entry there has term none/);
    const lost = [commit(1, 1, 1), apply(1, 1, 1, 1), { kind: 'final', atMs: 2, leaderId: 3, log: log([2]) } as Observation];
    expect(verdicts(lost).noCommittedEntryLost).toBe('the final leader 3 lacks committed entry 1 (term 1); its log ends at 1');
  });

  it('monotonicCommit flags a commit index going back, and a restart behind the synced commit', () => {
    expect(verdicts([commit(1, 1, 5, false), commit(2, 1, 4, false)]).monotonicCommit).toBe("node 1's commit index went back from 5 to 4");
    const restart: Observation[] = [
      { kind: 'crash', atMs: 1, nodeId: 1, log: log([1, 1]), acknowledgedIndex: 0, durableCommit: 2 },
      { kind: 'restart', atMs: 2, nodeId: 1, log: log([1, 1]), commit: 1, appliedIndex: 0 },
    ];
    expect(verdicts(restart).monotonicCommit).toBe('node 1 synced commit index 2, then restarted at 1');
  });

  it('linearizability flags a stale read', () => {
    const trace: Observation[] = [
      {
        kind: 'history',
        atMs: 1,
        history: [
          { clientId: 1, input: { kind: 'put', key: 'x', value: 'a' }, output: undefined, callTime: 1, returnTime: 2 },
          { clientId: 2, input: { kind: 'get', key: 'x' }, output: undefined, callTime: 3, returnTime: 4 },
        ],
      },
    ];
    expect(verdicts(trace).linearizability).toMatch(/get\("x"\) → undefined/);
  });

  it('metadataInvariants flags a node whose metadata breaks an invariant after an apply', () => {
    const trace = [metadataApplied(3, 40, [], ['t/0 leader 4 is outside its ISR [2]', 'broker 1 epoch went back from 9 to 5'])];
    expect(verdicts(trace).metadataInvariants).toBe('node 3 at entry 40: t/0 leader 4 is outside its ISR [2]; broker 1 epoch went back from 9 to 5');
  });

  it('leadershipWithinIsr flags a clean election of an out-of-sync replica, and an ISR grown without alterPartition', () => {
    const outside = leadershipChange('electLeaders', { previousLeader: 1, leader: 3, previousIsr: [1, 2], isr: [1, 2, 3], uncleanAllowed: false });
    expect(verdicts([outside]).leadershipWithinIsr).toBe(
      'node 1 at entry 30 (electLeaders): broker 3 became leader of t/0 from outside its ISR [1, 2] without an unclean election',
    );
    const grown = leadershipChange('brokerHeartbeat', { previousLeader: 1, leader: 1, previousIsr: [1], isr: [1, 2], uncleanAllowed: true });
    expect(verdicts([grown]).leadershipWithinIsr).toBe('node 1 at entry 30 (brokerHeartbeat): the ISR of t/0 grew from [1] to [1, 2] without an alterPartition');
  });

  it('oneLeaderPerEpoch flags two leaders of one partition in one leader epoch, on one node or across nodes', () => {
    const acrossNodes = [metadataApplied(1, 10, [leadership(2, 1)]), metadataApplied(2, 10, [leadership(2, 3)])];
    expect(verdicts(acrossNodes).oneLeaderPerEpoch).toBe(
      'topic 000000000000000a partition 0 leader epoch 2 has two leaders: broker 1 (node 1) and broker 3 (node 2 at entry 10)',
    );
    const overTime = [metadataApplied(1, 10, [leadership(2, 1)]), metadataApplied(1, 14, [leadership(2, 0)])];
    expect(verdicts(overTime).oneLeaderPerEpoch).toMatch(/leader epoch 2 has two leaders: broker 1 \(node 1\) and broker 0/);
  });

  it('metadataAgreement flags two nodes with different metadata at the same applied index', () => {
    expect(verdicts([metadataDigest(1, 24, 5), metadataDigest(3, 24, 6)]).metadataAgreement).toBe(
      'metadata at entry 24 differs: node 1 has snapshot digest 5, node 3 has 6',
    );
  });

  it('staleAlterPartitionRejected flags a stale ISR change accepted, or rejected for another reason', () => {
    expect(verdicts([alterPartitionApplied('leader epoch 2 (current 3)', true)]).staleAlterPartitionRejected).toBe(
      'node 2 accepted the alterPartition of t/0 by broker 1 at entry 12 with leader epoch 2 (current 3)',
    );
    expect(verdicts([alterPartitionApplied('partition epoch 1 (current 2)', false, 'NOT_LEADER')]).staleAlterPartitionRejected).toBe(
      'node 2 rejected the stale alterPartition of t/0 by broker 1 at entry 12 (partition epoch 1 (current 2)) with NOT_LEADER, not STALE_EPOCH or FENCED',
    );
  });
});
