import assert from 'node:assert/strict';
import { TributaryError } from '../../errors/index.js';
import { type Logger, runOutsideRequestContext } from '../../observability/index.js';
import { createRaftNode } from '../../raft/create-raft-node.js';
import { decodeConfChange } from '../../raft/entry-codec.js';
import type { ConfChange, Entry, HardState, Membership, Message, NodeId, ProposalTicket, Random, RaftNode, RaftStatus, Ready, SoftState } from '../../raft/raft-types.js';
import type { Clock } from '../clock.js';
import { DurableRaftStorage } from './durable-raft-storage.js';
import { PendingProposals } from './pending-proposals.js';
import { PendingReads } from './pending-reads.js';
import type { RaftHostSettings } from './raft-host-settings.js';
import type { RaftStores } from './raft-stores.js';
import type { ReplicatedStateMachine } from './replicated-state-machine.js';

/** Where the host sends the core's messages: the gRPC transport in production. Never blocks. */
export interface RaftMessageSender {
  send(messages: readonly Message[]): void;
}

export interface RaftHostOptions<Result> {
  readonly nodeId: NodeId;
  readonly stores: RaftStores;
  /** Membership of a new cluster, used only when the stores are empty (see DurableRaftStorage.open). */
  readonly bootstrap: Membership | undefined;
  readonly stateMachine: ReplicatedStateMachine<Result>;
  readonly transport: RaftMessageSender;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly settings: RaftHostSettings;
  /** Called after each leader or role change, once the Ready carrying it is persisted. */
  readonly onSoftState?: (softState: SoftState, term: number) => void;
  /** Called after committed entries are applied, with the new applied index. */
  readonly onApplied?: (appliedIndex: number) => void;
  /** Called once when the host stops for good because persisting or applying failed. */
  readonly onFailure?: (error: Error) => void;
}

/** Readies handled in one run of the loop before it yields to I/O, so a busy core cannot starve gRPC. */
export const readiesPerTurnMax = 64;

/**
 * Drives the pure Raft core with real time and I/O (docs/CONTROLLER.md): ticks from the clock,
 * each Ready persisted through the stores (fsynced) BEFORE its messages are sent, committed
 * entries applied to the state machine, snapshots taken past a threshold. Proposals that arrive
 * while a Ready is being persisted go into the next one: they share its fsync, which is how
 * concurrent proposals are batched.
 */
export class RaftHost<Result> {
  private readonly proposals: PendingProposals<Result>;
  private readonly reads: PendingReads;
  private appliedIndex: number;
  private membership: Membership;
  private looping = false;
  private stopped = false;
  private failure: Error | undefined;
  private cancelTick: () => void = () => undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private leaderContactMs: number | undefined;
  /** Bytes of entries applied since the last snapshot, for snapshotThresholdBytes. */
  private appliedBytesSinceSnapshot = 0;

  private constructor(
    private readonly options: RaftHostOptions<Result>,
    private readonly storage: DurableRaftStorage,
    private readonly core: RaftNode,
  ) {
    const snapshot = storage.snapshot();
    this.appliedIndex = snapshot.metadata.index;
    this.membership = snapshot.metadata.membership;
    const { clock, settings } = options;
    this.proposals = new PendingProposals(clock, settings.proposalTimeoutMs, settings.pendingProposalsMax);
    this.reads = new PendingReads(clock, settings.readTimeoutMs, settings.pendingReadsMax);
  }

  /** Loads the stores, restores the state machine from the last snapshot and starts ticking. */
  static async start<Result>(options: RaftHostOptions<Result>): Promise<RaftHost<Result>> {
    const bootstrap = options.bootstrap === undefined ? undefined : { membership: options.bootstrap, data: options.stateMachine.snapshot() };
    const storage = await DurableRaftStorage.open(options.stores, bootstrap);
    const snapshot = storage.snapshot();
    options.stateMachine.restore(snapshot.metadata.index, snapshot.data);
    const { settings } = options;
    const core = createRaftNode({
      id: options.nodeId,
      storage: storage.mirror,
      random: options.random,
      electionTimeoutTicks: settings.electionTimeoutTicks,
      heartbeatTimeoutTicks: settings.heartbeatTimeoutTicks,
      appliedIndex: snapshot.metadata.index,
      preVote: true,
      checkQuorum: true,
    });
    const host = new RaftHost(options, storage, core);
    host.scheduleTick();
    host.kick();
    return host;
  }

  /** Proposes `data` as one entry and resolves with the state machine's result once it is applied here. */
  propose(data: Uint8Array): Promise<Result> {
    this.assertRunning();
    this.proposals.assertRoom();
    const ticket: ProposalTicket = this.core.propose(data);
    const applied = this.proposals.wait(ticket);
    this.kick();
    return applied;
  }

  /** Proposes a membership change; resolves once it is applied here. */
  async proposeConfChange(change: ConfChange): Promise<Membership> {
    this.assertRunning();
    this.proposals.assertRoom();
    const ticket = this.core.proposeConfChange(change);
    const applied = this.proposals.wait(ticket);
    this.kick();
    await applied;
    return this.membership;
  }

  /**
   * Resolves once this node's state machine reflects every write committed before the call
   * (ReadIndex): reads made after it are linearizable. Works on followers, through the leader.
   */
  async linearizableBarrier(): Promise<void> {
    this.assertRunning();
    const { context, done } = this.reads.start();
    try {
      this.core.readIndex(context);
    } catch (error) {
      this.reads.abandon(context, error as Error);
    }
    this.kick();
    await done;
  }

  transferLeadership(target: NodeId): void {
    this.assertRunning();
    this.core.transferLeadership(target);
    this.kick();
  }

  /** Delivers a message from a peer. Invalid ones are logged and dropped: a peer's bug must not stop us. */
  step(message: Message): void {
    if (this.stopped || this.refusedWhileJoining(message)) return;
    // Only a leader sends these: they date what a follower knows, for bounded-stale reads.
    if (message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot') this.leaderContactMs = this.options.clock.nowMs();
    try {
      this.core.step(message);
    } catch (error) {
      this.options.logger.warn({ err: error, from: message.from, type: message.type }, 'dropped a raft message the core refused');
      return;
    }
    this.kick();
  }

  /**
   * A node started with nothing stored and no bootstrap is joining: it may have voted before it
   * lost its disk, so it grants no vote, and it takes only a snapshot that lists it as a learner,
   * one an AddController made. A snapshot listing it as a voter means the quorum still counts its
   * old self: an operator must remove it and add it again (docs/CONTROLLER.md).
   */
  private refusedWhileJoining(message: Message): boolean {
    const snapshot = this.storage.snapshot().metadata;
    if (snapshot.index > 0) return false;
    if (message.type === 'vote' || message.type === 'preVote') return true;
    if (message.type !== 'snapshot' || !message.metadata.membership.voters.includes(this.options.nodeId)) return false;
    if (message.offset === 0) {
      this.options.logger.error(
        { leader: message.from, voters: message.metadata.membership.voters },
        `controller ${this.options.nodeId} has no data but the quorum lists it as a voter; remove it (RemoveController) and add it again (AddController)`,
      );
    }
    return true;
  }

  status(): RaftStatus {
    return this.core.status();
  }

  /**
   * How old this node's knowledge of the committed log may be: 0 on the leader, the time since the
   * last message from a leader on a follower (infinite before any).
   */
  stalenessMs(): number {
    if (this.core.status().role === 'leader') return 0;
    return this.leaderContactMs === undefined ? Number.POSITIVE_INFINITY : this.options.clock.nowMs() - this.leaderContactMs;
  }

  /** Index of the newest snapshot this node holds: the log before it is compacted away. */
  snapshotIndex(): number {
    return this.storage.snapshot().metadata.index;
  }

  /** The membership as of the last applied entry. */
  currentMembership(): Membership {
    return this.membership;
  }

  /** Stops ticking, lets the Ready being handled finish, and fails what still waits with SHUTTING_DOWN. */
  async stop(): Promise<void> {
    if (this.stopped) return this.loopDone;
    this.stopped = true;
    this.cancelTick();
    await this.loopDone;
    const error = new TributaryError('SHUTTING_DOWN', `controller ${this.options.nodeId} is shutting down`);
    this.proposals.failAll(error);
    this.reads.failAll(error);
  }

  private assertRunning(): void {
    if (this.failure !== undefined) throw new TributaryError('NOT_AVAILABLE', `controller ${this.options.nodeId} stopped after a storage failure: ${this.failure.message}`);
    if (this.stopped) throw new TributaryError('SHUTTING_DOWN', `controller ${this.options.nodeId} is shutting down`);
  }

  private scheduleTick(): void {
    this.cancelTick = this.options.clock.setTimer(this.options.settings.tickIntervalMs, () => {
      if (this.stopped) return;
      this.core.tick();
      this.kick();
      this.scheduleTick();
    });
  }

  /** Starts the Ready loop unless it runs already; it drains every Ready, then ends. */
  private kick(): void {
    if (this.looping || this.stopped || !this.core.hasReady()) return;
    this.looping = true;
    // The loop outlives whichever request woke it: what it logs belongs to no request.
    this.loopDone = runOutsideRequestContext(() => this.runLoop()).finally(() => {
      this.looping = false;
    });
  }

  private async runLoop(): Promise<void> {
    try {
      for (let handled = 0; !this.stopped && this.core.hasReady(); handled++) {
        // Yield to I/O now and then: a core that always has a Ready must not starve gRPC and timers.
        if (handled > 0 && handled % readiesPerTurnMax === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        await this.handleReady(this.core.ready());
      }
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /**
   * The Ready contract, in its order (raft-types.ts): persist, send, apply, advance. A leader's
   * appends and heartbeats go out before its own write, so the followers' fsyncs overlap it
   * (sendableBeforePersist).
   */
  private async handleReady(ready: Ready): Promise<void> {
    const { early, late } = sendableBeforePersist(ready, this.storage.mirror.initialState().hardState);
    if (early.length > 0) this.options.transport.send(early);
    await this.storage.persist(ready);
    if (late.length > 0) this.options.transport.send(late);
    if (ready.snapshot !== undefined) this.restore(ready);
    for (const entry of ready.committedEntries) this.apply(entry);
    this.reads.confirmed(ready.readStates);
    this.core.advance(ready);
    this.reads.appliedTo(this.appliedIndex);
    if (ready.committedEntries.length > 0 || ready.snapshot !== undefined) this.options.onApplied?.(this.appliedIndex);
    if (ready.softState !== undefined) this.reportSoftState(ready.softState);
    await this.maybeSnapshot();
  }

  private restore(ready: Ready): void {
    const snapshot = ready.snapshot;
    assert.ok(snapshot !== undefined);
    this.options.stateMachine.restore(snapshot.metadata.index, snapshot.data);
    this.appliedIndex = snapshot.metadata.index;
    this.appliedBytesSinceSnapshot = 0;
    this.membership = snapshot.metadata.membership;
    this.options.logger.info({ index: snapshot.metadata.index, term: snapshot.metadata.term }, 'restored a snapshot from the leader');
  }

  private apply(entry: Entry): void {
    assert.equal(entry.index, this.appliedIndex + 1, `entries must be applied in order: expected ${this.appliedIndex + 1}, got ${entry.index}`);
    this.appliedIndex = entry.index;
    this.appliedBytesSinceSnapshot += entry.data.length;
    if (entry.type === 'confChange') {
      this.membership = this.core.applyConfChange(decodeConfChange(entry.data));
      this.options.logger.info({ index: entry.index, membership: this.membership }, 'membership changed');
      this.proposals.applied(entry.index, entry.term, () => undefined as Result);
      return;
    }
    // An empty entry is a new leader's no-op: nothing to apply, but it settles proposals at its index.
    if (entry.data.length === 0) {
      this.proposals.applied(entry.index, entry.term, () => undefined as Result);
      return;
    }
    const result = this.options.stateMachine.apply(entry.index, entry.data);
    this.proposals.applied(entry.index, entry.term, () => result);
  }

  private reportSoftState(softState: SoftState): void {
    const { term } = this.core.status();
    this.options.logger.info({ leader: softState.leader, role: softState.role, term }, 'raft role changed');
    this.options.onSoftState?.(softState, term);
  }

  private async maybeSnapshot(): Promise<void> {
    const { snapshotThresholdEntries, snapshotThresholdBytes, snapshotKeepEntries } = this.options.settings;
    const snapshotIndex = this.storage.snapshot().metadata.index;
    if (this.appliedIndex === snapshotIndex) return;
    if (this.appliedIndex - snapshotIndex < snapshotThresholdEntries && this.appliedBytesSinceSnapshot < snapshotThresholdBytes) return;
    this.appliedBytesSinceSnapshot = 0;
    const data = this.options.stateMachine.snapshot();
    await this.storage.snapshotAt(this.appliedIndex, this.membership, data, snapshotKeepEntries);
    this.options.logger.info({ index: this.appliedIndex, bytes: data.length }, 'took a snapshot and compacted the log');
  }

  /** A storage or state machine failure: stop for good; continuing could ack what is not durable. */
  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.stopped = true;
    this.cancelTick();
    this.options.logger.error({ err: error }, 'raft host stopped: persisting or applying failed');
    const unavailable = new TributaryError('NOT_AVAILABLE', `controller ${this.options.nodeId} failed: ${error.message}`, { cause: error });
    this.proposals.failAll(unavailable);
    this.reads.failAll(unavailable);
    this.options.onFailure?.(error);
  }
}

/**
 * Splits a Ready's messages into those a leader may send before persisting the Ready and the rest.
 * Raft lets a leader write its log in parallel with replicating it (Ongaro's thesis, 10.2.1; etcd
 * does the same) provided its own entries count towards commit only once durable. The core counts
 * them at once, but this host makes that harmless: it handles Readies one at a time, so a commit
 * reached during this write surfaces in a later Ready, after the write, and only then is anything
 * applied, acknowledged or sent with the new commit index. Appends and heartbeats carry nothing the
 * write could lose that the followers rely on; votes and responses promise durability and wait.
 * If the Ready changes term or vote the node is leaving leadership: everything waits.
 */
export function sendableBeforePersist(ready: Ready, persisted: HardState): { early: readonly Message[]; late: readonly Message[] } {
  const { hardState } = ready;
  const termOrVoteChanges = hardState !== undefined && (hardState.term !== persisted.term || hardState.vote !== persisted.vote);
  if (ready.messages.length === 0 || termOrVoteChanges) return { early: [], late: ready.messages };
  const early: Message[] = [];
  const late: Message[] = [];
  for (const message of ready.messages) (message.type === 'append' || message.type === 'heartbeat' ? early : late).push(message);
  return { early, late };
}
