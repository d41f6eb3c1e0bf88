import assert from 'node:assert/strict';
import { decodeConfChange } from './entry-codec.js';
import { ProgressTracker } from './progress-tracker.js';
import { RaftLog } from './raft-log.js';
import type { Message, NodeId, RaftBug, RaftConfig, RaftRole, Random, ReadState } from './raft-types.js';
import { ReadIndexQueue, type ReadRequest } from './read-index-queue.js';
import { SnapshotAssembly } from './snapshot-assembly.js';

/** RaftConfig with every default filled in; the limits named as in the contract. */
export interface ResolvedRaftConfig {
  readonly id: NodeId;
  readonly random: Random;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTimeoutTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly inflightMessagesMax: number;
  readonly entriesPerMessageMax: number;
  readonly messageBytesMax: number;
  readonly uncommittedEntriesMax: number;
  readonly snapshotChunkBytesMax: number;
  /** Pending ReadIndex requests on a leader; more are refused. */
  readonly readRequestsMax: number;
  /** Committed entries handed to the host in one Ready. */
  readonly committedEntriesBytesMaxPerReady: number;
  readonly bug: RaftBug | undefined;
}

const mebibyte = 1024 * 1024;

export function resolveRaftConfig(config: RaftConfig): ResolvedRaftConfig {
  const resolved: ResolvedRaftConfig = {
    id: config.id,
    random: config.random,
    electionTimeoutTicks: config.electionTimeoutTicks,
    heartbeatTimeoutTicks: config.heartbeatTimeoutTicks,
    preVote: config.preVote ?? true,
    checkQuorum: config.checkQuorum ?? true,
    inflightMessagesMax: config.inflightMessagesMax ?? 256,
    entriesPerMessageMax: config.entriesPerMessageMax ?? 1024,
    messageBytesMax: config.messageBytesMax ?? mebibyte,
    uncommittedEntriesMax: config.uncommittedEntriesMax ?? 16_384,
    snapshotChunkBytesMax: config.snapshotChunkBytesMax ?? mebibyte,
    readRequestsMax: 4096,
    committedEntriesBytesMaxPerReady: 16 * mebibyte,
    bug: config.bug,
  };
  for (const key of ['id', 'electionTimeoutTicks', 'heartbeatTimeoutTicks', 'inflightMessagesMax', 'entriesPerMessageMax',
    'messageBytesMax', 'uncommittedEntriesMax', 'snapshotChunkBytesMax'] as const) {
    const value = resolved[key];
    assert.ok(Number.isSafeInteger(value) && value > 0, `RaftConfig.${key} must be a positive integer, got ${value}`);
  }
  assert.ok(resolved.heartbeatTimeoutTicks < resolved.electionTimeoutTicks,
    `heartbeatTimeoutTicks (${resolved.heartbeatTimeoutTicks}) must be below electionTimeoutTicks (${resolved.electionTimeoutTicks})`);
  return resolved;
}

/** A message before the core stamps it with its id and current term. */
export type MessageDraft = Message extends infer M ? (M extends Message ? Omit<M, 'from' | 'term'> & { readonly term?: number } : never) : never;

export type RoleStep = (raft: Raft, message: Message) => void;
export type RoleTick = (raft: Raft) => void;

/**
 * The state every role shares (etcd's `raft` struct). Role behaviour lives in the role files and is
 * swapped in as `roleStep`/`roleTick` by role-transitions.ts; this class holds data and the few
 * helpers all roles use.
 */
export class Raft {
  readonly id: NodeId;
  readonly config: ResolvedRaftConfig;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  term = 0;
  vote: NodeId = 0;
  leader: NodeId = 0;
  role: RaftRole = 'follower';
  roleStep: RoleStep;
  roleTick: RoleTick;
  electionElapsedTicks = 0;
  heartbeatElapsedTicks = 0;
  randomizedElectionTimeoutTicks = 0;
  leadTransferee: NodeId = 0;
  /** Index of the latest membership change appended; a new one waits until it is applied. */
  pendingConfIndex = 0;
  /**
   * On a leader: index of an unapplied entry removing this node (0 if none). No proposal is
   * accepted after it, so when the leader steps down on applying it every entry it holds is
   * committed, and a remaining voter is as up to date as it is and can win the next election.
   */
  selfRemovalIndex = 0;
  /** TimeoutNow arrived while a committed membership change was unapplied: campaign once applied. */
  transferCampaignPending = false;
  readonly readIndexQueue: ReadIndexQueue;
  /** Reads that arrived before this leader committed an entry of its term (it cannot know the commit index yet). */
  pendingReadRequests: ReadRequest[] = [];
  readonly snapshotAssembly = new SnapshotAssembly();
  messages: Message[] = [];
  readStates: ReadState[] = [];

  constructor(config: RaftConfig, roleStep: RoleStep, roleTick: RoleTick) {
    this.config = resolveRaftConfig(config);
    this.id = config.id;
    this.roleStep = roleStep;
    this.roleTick = roleTick;
    const { hardState, membership } = config.storage.initialState();
    this.log = new RaftLog(config.storage);
    this.tracker = new ProgressTracker(membership, this.config.inflightMessagesMax);
    this.readIndexQueue = new ReadIndexQueue(this.config.readRequestsMax);
    this.restoreHardState(hardState.term, hardState.vote, hardState.commit);
    this.restoreApplied(config.appliedIndex ?? 0);
    this.resetRandomizedElectionTimeout();
  }

  private restoreHardState(term: number, vote: NodeId, commit: number): void {
    const firstIndex = this.log.firstIndex();
    const lastIndex = this.log.lastIndex();
    assert.ok(commit >= firstIndex - 1 && commit <= lastIndex,
      `stored commit ${commit} is outside the stored log [${firstIndex - 1}, ${lastIndex}]`);
    this.term = term;
    this.vote = vote;
    this.log.commitTo(commit);
  }

  /**
   * The host applied up to `appliedIndex` before it restarted. Membership changes between the
   * storage snapshot and that index were applied then too, so they are replayed here: the host
   * never sees them again and the storage's membership is that of its snapshot.
   */
  private restoreApplied(appliedIndex: number): void {
    assert.ok(appliedIndex <= this.log.committed, `appliedIndex ${appliedIndex} is beyond the stored commit ${this.log.committed}`);
    const firstIndex = this.log.firstIndex();
    if (appliedIndex < firstIndex) return;
    this.log.scan(firstIndex, appliedIndex + 1, (entry) => {
      if (entry.type === 'confChange') this.tracker.applyChange(decodeConfChange(entry.data), this.log.lastIndex());
      return false;
    });
    this.log.appliedTo(appliedIndex);
  }

  /** Queues a message for the next Ready, stamped with our id and (unless given) our term. */
  send(draft: MessageDraft): void {
    assert.ok(draft.to !== this.id, `a node never sends to itself (${draft.type})`);
    this.messages.push({ ...draft, from: this.id, term: draft.term ?? this.term });
  }

  /** What every role change resets; the term changes only forward, clearing the vote. */
  reset(term: number): void {
    assert.ok(term >= this.term, `term must not go back (${this.term} -> ${term})`);
    if (term !== this.term) {
      this.term = term;
      this.vote = 0;
    }
    this.leader = 0;
    this.electionElapsedTicks = 0;
    this.heartbeatElapsedTicks = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = 0;
    this.selfRemovalIndex = 0;
    this.transferCampaignPending = false;
    this.tracker.votes.clear();
    this.readIndexQueue.clear();
    this.pendingReadRequests = [];
  }

  /** A fresh election timeout in [e, 2e) ticks, so that nodes rarely time out together. */
  resetRandomizedElectionTimeout(): void {
    const base = this.config.electionTimeoutTicks;
    const extra = this.config.random.nextInt(base);
    assert.ok(Number.isSafeInteger(extra) && extra >= 0 && extra < base, `Random.nextInt(${base}) returned ${extra}`);
    this.randomizedElectionTimeoutTicks = base + extra;
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsedTicks >= this.randomizedElectionTimeoutTicks;
  }

  /** Only voters campaign, and not while a received snapshot awaits persisting. */
  isPromotable(): boolean {
    return this.tracker.isVoter(this.id) && this.log.unstable.snapshot === undefined;
  }

  /** A leader knows the cluster's commit index only once an entry of its own term is committed. */
  committedInCurrentTerm(): boolean {
    return this.log.termOrUndefined(this.log.committed) === this.term;
  }

  /** The index of an entry in (applied, lastIndex] that removes this node, or 0. */
  findUnappliedSelfRemoval(): number {
    let removalIndex = 0;
    this.log.scan(Math.max(this.log.applied + 1, this.log.firstIndex()), this.log.lastIndex() + 1, (entry) => {
      if (entry.type !== 'confChange') return false;
      const change = decodeConfChange(entry.data);
      if (change.type === 'removeNode' && change.nodeId === this.id) removalIndex = entry.index;
      return false;
    });
    return removalIndex;
  }

  /** Committed but unapplied membership changes: campaigning now could use a stale membership. */
  hasUnappliedConfChanges(): boolean {
    const { applied, committed } = this.log;
    return this.log.scan(Math.max(applied + 1, this.log.firstIndex()), committed + 1, (entry) => entry.type === 'confChange');
  }
}
