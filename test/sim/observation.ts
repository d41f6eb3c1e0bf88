import type { KvInput, KvOutput } from './linearizability/kv-model.js';
import type { History } from './linearizability/history.js';
import type { RaftRole } from '../../src/raft/raft-types.js';
import type { ReplicationObservation } from './replication-observation.js';

/**
 * What the simulator saw, as plain data: the checkers judge a run from these alone, so a test can
 * hand-build a violating trace without running a cluster.
 */

/** A node's log at one moment: the snapshot it starts after, and the term of each later entry. */
export interface LogView {
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  /** terms[k] is the term of the entry at index snapshotIndex + 1 + k. */
  readonly terms: readonly number[];
}

/** One entry as persisted: `prevTerm` is the term of the entry before it in the same log. */
export interface AppendedEntry {
  readonly index: number;
  readonly term: number;
  readonly prevTerm: number;
  /** Checksum of the entry's type and data: equal entries have equal digests. */
  readonly digest: number;
}

/** A partition's leader in one leader epoch, as one node's metadata held it (`noLeader` while offline). */
export interface PartitionLeadership {
  readonly topicId: string;
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly leader: number;
}

/**
 * A partition whose leader moved or whose ISR gained a member in one metadata apply, with what it
 * was before. `uncleanAllowed`: the topic allows unclean election, or the command was an unclean
 * election, so a leader from outside the ISR is legitimate.
 */
export interface LeadershipChange {
  readonly where: string;
  readonly previousLeader: number;
  readonly leader: number;
  readonly previousIsr: readonly number[];
  readonly isr: readonly number[];
  readonly uncleanAllowed: boolean;
}

export type Observation =
  /** The replication workload's reports (replication-observation.ts). */
  | ReplicationObservation
  /** A node's role or term changed; a new leader's `log` is its log right then (undefined for other roles). */
  | {
      readonly kind: 'role';
      readonly atMs: number;
      readonly nodeId: number;
      readonly term: number;
      readonly role: RaftRole;
      readonly log: LogView | undefined;
    }
  | { readonly kind: 'append'; readonly atMs: number; readonly nodeId: number; readonly entries: readonly AppendedEntry[] }
  | { readonly kind: 'apply'; readonly atMs: number; readonly nodeId: number; readonly index: number; readonly term: number; readonly digest: number }
  | { readonly kind: 'restoreSnapshot'; readonly atMs: number; readonly nodeId: number; readonly index: number; readonly term: number }
  /** A commit index a node persisted in a HardState; `leader` when the node led at the time. */
  | { readonly kind: 'commit'; readonly atMs: number; readonly nodeId: number; readonly commit: number; readonly leader: boolean }
  /**
   * A node lost power. `log` is what it believed it had persisted, `acknowledgedIndex` the highest
   * index it told a leader it held (still in its log), `durableCommit` the last commit it synced.
   */
  | {
      readonly kind: 'crash';
      readonly atMs: number;
      readonly nodeId: number;
      readonly log: LogView;
      readonly acknowledgedIndex: number;
      readonly durableCommit: number;
    }
  /** A node came back from its disk with this log, commit and applied index. */
  | {
      readonly kind: 'restart';
      readonly atMs: number;
      readonly nodeId: number;
      readonly log: LogView;
      readonly commit: number;
      readonly appliedIndex: number;
    }
  /** A client was told its write succeeded: the entry (index, term) was applied on its node. */
  | { readonly kind: 'acknowledged'; readonly atMs: number; readonly nodeId: number; readonly index: number; readonly term: number }
  /** The end of the run: the last leader's log. */
  | { readonly kind: 'final'; readonly atMs: number; readonly leaderId: number; readonly log: LogView | undefined }
  | { readonly kind: 'history'; readonly atMs: number; readonly history: History<KvInput, KvOutput> }
  /**
   * A node's metadata changed: it applied the metadata command at `index`, or restored a snapshot
   * taken there (`command` 'restore'). `violations` is checkMetadataInvariants against the node's
   * state before; `leaderships` the partitions whose leader or leader epoch the node had not
   * reported yet; `changes` the leader moves and ISR growths of this command.
   */
  | {
      readonly kind: 'metadataApplied';
      readonly atMs: number;
      readonly nodeId: number;
      readonly index: number;
      readonly command: string;
      readonly violations: readonly string[];
      readonly leaderships: readonly PartitionLeadership[];
      readonly changes: readonly LeadershipChange[];
    }
  /** A checksum of a node's metadata snapshot bytes with entries up to `index` applied. */
  | { readonly kind: 'metadataDigest'; readonly atMs: number; readonly nodeId: number; readonly index: number; readonly digest: number }
  /**
   * A node applied an alterPartition of `where`. `staleness` names the epochs (broker, leader,
   * partition) that were not current just before the apply, undefined when all were;
   * `proposerLeads` whether the proposing broker led the partition then.
   */
  | {
      readonly kind: 'alterPartitionApplied';
      readonly atMs: number;
      readonly nodeId: number;
      readonly index: number;
      readonly where: string;
      readonly staleness: string | undefined;
      readonly proposerLeads: boolean;
      readonly accepted: boolean;
      readonly code: string | undefined;
    };

/** The term of `index` in `log`, or undefined when the log does not reach it or compacted it. */
export function termAt(log: LogView, index: number): number | undefined {
  if (index === log.snapshotIndex) return log.snapshotTerm;
  return log.terms[index - log.snapshotIndex - 1];
}

export function lastIndexOf(log: LogView): number {
  return log.snapshotIndex + log.terms.length;
}
