/**
 * The contract of the pure Raft core (docs/RAFT.md). Everything here is data: the core takes
 * ticks, messages and requests in, and hands the host a Ready of things to persist, send and
 * apply. Indices, terms and node ids are JS numbers, asserted to be safe integers; index and term
 * 0 mean "none", node id 0 means "no node".
 */

export type NodeId = number;

/** Injected randomness: the only source of nondeterminism the core has. */
export interface Random {
  /** A uniformly drawn integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number;
}

export type EntryType = 'normal' | 'confChange';

/** One log entry. `data` of a confChange entry is an encoded ConfChange (entry-codec.ts). */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be on stable storage before any message that depends on it is sent. */
export interface HardState {
  readonly term: number;
  /** The candidate voted for in `term`; 0 when none. */
  readonly vote: NodeId;
  readonly commit: number;
}

/**
 * The cluster configuration. Changes are one server at a time: a new server joins as a learner,
 * is promoted to voter once caught up, and voters are removed one at a time. At most one change
 * is uncommitted at once, and a leader proposes one only after committing an entry of its term.
 */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export type ConfChange =
  | { readonly type: 'addLearner'; readonly nodeId: NodeId }
  | { readonly type: 'promoteLearner'; readonly nodeId: NodeId }
  | { readonly type: 'removeNode'; readonly nodeId: NodeId };

export interface SnapshotMetadata {
  /** Last log index the snapshot covers. */
  readonly index: number;
  /** Term of the entry at `index`. */
  readonly term: number;
  /** Membership as of `index`. */
  readonly membership: Membership;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** The state machine's serialized state; opaque to the core. */
  readonly data: Uint8Array;
}

export type MessageType =
  | 'preVote'
  | 'preVoteResponse'
  | 'vote'
  | 'voteResponse'
  | 'append'
  | 'appendResponse'
  | 'heartbeat'
  | 'heartbeatResponse'
  | 'snapshot'
  | 'snapshotResponse'
  | 'timeoutNow'
  | 'readIndex'
  | 'readIndexResponse';

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  /** Sender's term; for preVote, the term the sender would campaign in. */
  readonly term: number;
}

export type Message =
  | (MessageBase & {
      readonly type: 'preVote' | 'vote';
      readonly lastLogIndex: number;
      readonly lastLogTerm: number;
      /** Set when a TimeoutNow started the election: voters ignore leader stickiness. */
      readonly transfer: boolean;
    })
  | (MessageBase & { readonly type: 'preVoteResponse' | 'voteResponse'; readonly reject: boolean })
  | (MessageBase & {
      readonly type: 'append';
      readonly prevLogIndex: number;
      readonly prevLogTerm: number;
      readonly entries: readonly Entry[];
      readonly commit: number;
    })
  | (MessageBase & {
      readonly type: 'appendResponse';
      readonly reject: boolean;
      /** On success, the highest index now matching the leader's log. On reject, the prevLogIndex rejected. */
      readonly index: number;
      /** On reject: the follower's term at conflictIndex (0 if its log is shorter) for fast backtracking. */
      readonly conflictTerm: number;
      /** On reject: first index of conflictTerm in the follower's log, or its last index + 1 if shorter. */
      readonly conflictIndex: number;
    })
  | (MessageBase & {
      readonly type: 'heartbeat';
      readonly commit: number;
      /** ReadIndex round being confirmed; empty for a plain heartbeat. */
      readonly context: Uint8Array;
    })
  | (MessageBase & { readonly type: 'heartbeatResponse'; readonly context: Uint8Array })
  | (MessageBase & {
      readonly type: 'snapshot';
      readonly metadata: SnapshotMetadata;
      /** Byte offset of `data` within the snapshot. */
      readonly offset: number;
      /** At most `snapshotChunkBytesMax` bytes. */
      readonly data: Uint8Array;
      readonly done: boolean;
    })
  | (MessageBase & {
      readonly type: 'snapshotResponse';
      readonly reject: boolean;
      /** Index of the snapshot the response is about. */
      readonly snapshotIndex: number;
      /** Bytes received so far (the next offset expected); equals the size once done. */
      readonly nextOffset: number;
      readonly done: boolean;
    })
  | (MessageBase & { readonly type: 'timeoutNow' })
  | (MessageBase & { readonly type: 'readIndex'; readonly context: Uint8Array })
  | (MessageBase & {
      readonly type: 'readIndexResponse';
      readonly context: Uint8Array;
      /** The read index; 0 with reject when the receiver could not serve it. */
      readonly index: number;
      readonly reject: boolean;
    });

/** A linearizable read is safe once the host has applied up to `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

export type RaftRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state a host reports on and reacts to (leader changes). */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: RaftRole;
}

/**
 * The core's output. The host MUST, in this order:
 *   1. persist `snapshot` (if any), `entries` and `hardState` (if any) to stable storage, and
 *      fsync when `mustSync` — BEFORE sending any of `messages`. One exception: `append` and
 *      `heartbeat` messages (only a leader sends them) may go first when `hardState` keeps the
 *      persisted term and vote, PROVIDED the host surfaces no commit before this persist
 *      completes: the core counts the leader's own entries as soon as they are proposed;
 *   2. send `messages`;
 *   3. apply `committedEntries` (and restore `snapshot`) to the state machine, calling
 *      `applyConfChange` for each confChange entry, and serve `readStates` once applied;
 *   4. call `advance(ready)`.
 */
export interface Ready {
  readonly softState: SoftState | undefined;
  readonly hardState: HardState | undefined;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | undefined;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  readonly mustSync: boolean;
}

/** Where a proposal landed; it is committed once an entry with this index AND term is applied. */
export interface ProposalTicket {
  readonly index: number;
  readonly term: number;
}

/**
 * The core's read-only view of stable storage (etcd's Storage): the host appends to it after
 * persisting each Ready and compacts it after snapshots. MemoryRaftStorage implements it.
 */
export interface RaftStorage {
  initialState(): { hardState: HardState; membership: Membership };
  /** Entries in [low, high), stopping early after `maxBytes` (at least one entry is returned). */
  entries(low: number, high: number, maxBytes: number): Entry[];
  /** Term of the entry at `index`; for index = firstIndex - 1 the snapshot's term. */
  term(index: number): number;
  /** Index of the first entry still stored (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/** Deliberately broken variants for proving the simulator's checkers can fail. Never in production. */
export type RaftBug = 'doubleVote' | 'commitPreviousTermByCount' | 'applyBeyondCommit';

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: RaftStorage;
  readonly random: Random;
  /** Election timeout is drawn from [electionTimeoutTicks, 2 * electionTimeoutTicks). */
  readonly electionTimeoutTicks: number;
  readonly heartbeatTimeoutTicks: number;
  /** Index the host's state machine has already applied (after a restart). */
  readonly appliedIndex?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /** Append messages in flight per follower before the leader waits for acknowledgements. */
  readonly inflightMessagesMax?: number;
  readonly entriesPerMessageMax?: number;
  readonly messageBytesMax?: number;
  /** Proposals appended but not yet committed; more are refused with RESOURCE_EXHAUSTED. */
  readonly uncommittedEntriesMax?: number;
  readonly snapshotChunkBytesMax?: number;
  readonly bug?: RaftBug | undefined;
}

/** Per-peer replication progress, as the leader sees it. */
export interface PeerProgress {
  readonly matchIndex: number;
  readonly nextIndex: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly inflightMessages: number;
  readonly recentActive: boolean;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly role: RaftRole;
  readonly leader: NodeId;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly membership: Membership;
  /** Only on the leader: progress of every other member. */
  readonly progress: ReadonlyMap<NodeId, PeerProgress>;
  readonly leadTransferee: NodeId;
}

/** The core, as hosts and the simulator drive it. */
export interface RaftNode {
  /** Advances logical time by one tick: elections and heartbeats are counted in ticks. */
  tick(): void;
  /** Delivers one message from a peer. Messages for other nodes or from stale terms are handled per Raft. */
  step(message: Message): void;
  /** Appends `data` as a normal entry on the leader; throws TributaryError NOT_LEADER (with hint) elsewhere. */
  propose(data: Uint8Array): ProposalTicket;
  /** Proposes a membership change; throws INVALID_REQUEST when one is already pending or it is not allowed. */
  proposeConfChange(change: ConfChange): ProposalTicket;
  /** Starts a linearizable read; its ReadState appears in a later Ready. */
  readIndex(context: Uint8Array): void;
  /** Asks the leader to hand leadership to `target` once it is caught up (TimeoutNow). */
  transferLeadership(target: NodeId): void;
  /** Applies a committed confChange entry's change; returns the new membership. */
  applyConfChange(change: ConfChange): Membership;
  hasReady(): boolean;
  ready(): Ready;
  advance(ready: Ready): void;
  status(): RaftStatus;
}
