import { createRaftNode } from '../../src/raft/create-raft-node.js';
import { decodeConfChange } from '../../src/raft/entry-codec.js';
import type { MetadataState } from '../../src/controller/index.js';
import type { MemoryRaftStorage } from '../../src/raft/memory-raft-storage.js';
import type {
  ConfChange,
  Entry,
  Membership,
  Message,
  ProposalTicket,
  RaftConfig,
  RaftNode,
  RaftStatus,
  Ready,
  Snapshot,
} from '../../src/raft/raft-types.js';
import { checkpointOf, decodeHostRecord, encodeHostRecord, recoverStorage, type HostRecord } from './host-record.js';
import { entryDigest, logViewOf } from './log-view.js';
import type { LogView, Observation } from './observation.js';
import type { Prng } from './prng.js';
import { SimStateMachine, type AppliedOutcome, type MetadataSettings } from './sim-state-machine.js';
import type { CrashFaults } from './simulated-disk.js';
import { SimulatedDisk } from './simulated-disk.js';

/** What a host tells the simulator: observations for the checkers, messages, and client outcomes. */
export interface HostListener {
  observe(observation: Observation): void;
  send(message: Message): void;
  /** An entry was applied; `outcome` is undefined for a configuration change. */
  applied(nodeId: number, entry: Entry, outcome: AppliedOutcome | undefined): void;
  snapshotRestored(nodeId: number, index: number, term: number): void;
  /** A ReadIndex request is now safe to serve on `nodeId` (its state machine caught up). */
  readReady(nodeId: number, context: Uint8Array): void;
  confChangeApplied(nodeId: number, change: ConfChange, membership: Membership): void;
}

export type CoreSettings = Omit<RaftConfig, 'id' | 'storage' | 'random' | 'appliedIndex'>;

export interface HostSettings {
  readonly core: CoreSettings;
  readonly snapshotThresholdEntries: number;
  readonly snapshotKeepEntries: number;
  /** The host bug: persist without syncing, then acknowledge as if the write were durable. */
  readonly skipFsync: boolean;
  readonly metadata: MetadataSettings;
}

/** Readies handled for one input before the host declares the core livelocked. */
export const readiesPerInputMax = 1_000;
/** ReadIndex requests waiting for the state machine to catch up. */
export const pendingReadsMax = 10_000;

/**
 * One simulated server: a Raft core over a MemoryRaftStorage that mirrors a simulated disk, and the
 * state machine (the key-value store, and the metadata state machine in metadata runs). It follows the Ready contract to the letter: persist (and sync when
 * mustSync) BEFORE sending, then apply, then advance. A crash drops everything but the disk; a
 * restart rebuilds the storage from the records the disk kept.
 */
export class SimHost {
  readonly disk = new SimulatedDisk();
  private raft: RaftNode | undefined;
  private storage!: MemoryRaftStorage;
  private bootstrap: Membership;
  private machine: SimStateMachine;
  private appliedIndex = 0;
  private membership: Membership;
  private pendingReads: Array<{ index: number; context: Uint8Array }> = [];
  /** Highest index this node told a leader it holds, and still holds. */
  private acknowledgedIndex = 0;
  private writtenCommit = 0;
  private durableCommit = 0;
  private incarnation = 0;
  private lastRole: { term: number; role: string } = { term: -1, role: '' };
  private sentCount = 0;

  constructor(
    readonly id: number,
    bootstrap: Membership,
    private readonly settings: HostSettings,
    private readonly random: Prng,
    private readonly listener: HostListener,
    private readonly now: () => number,
  ) {
    this.bootstrap = bootstrap;
    this.membership = bootstrap;
    this.machine = this.freshStateMachine();
    this.disk.replaceAll([encodeHostRecord({ kind: 'bootstrap', membership: bootstrap })]);
  }

  get running(): boolean {
    return this.raft !== undefined;
  }

  get incarnationCount(): number {
    return this.incarnation;
  }

  /** Starts (or restarts) the node from what its disk kept. */
  start(): void {
    if (this.raft !== undefined) throw new Error(`node ${this.id} is already running`);
    const { payloads } = this.disk.recover();
    const recovered = recoverStorage(payloads.map(decodeHostRecord));
    this.storage = recovered.storage;
    this.bootstrap = recovered.bootstrap;
    const snapshot = this.storage.snapshot();
    // A new state machine: what the crashed process had in memory is gone, watermarks included.
    this.machine = this.freshStateMachine();
    this.machine.restore(snapshot.metadata.index, snapshot.data);
    this.appliedIndex = snapshot.metadata.index;
    this.membership = snapshot.metadata.membership;
    this.pendingReads = [];
    this.acknowledgedIndex = this.storage.lastIndex();
    this.writtenCommit = this.durableCommit = this.storage.initialState().hardState.commit;
    this.incarnation++;
    this.raft = createRaftNode({
      ...this.settings.core,
      id: this.id,
      storage: this.storage,
      random: this.random.fork(`raft-${this.id}-${this.incarnation}`),
      appliedIndex: this.appliedIndex,
    });
    this.lastRole = { term: -1, role: '' };
    const log = logViewOf(this.storage);
    this.listener.observe({ kind: 'restart', atMs: this.now(), nodeId: this.id, log, commit: this.durableCommit, appliedIndex: this.appliedIndex });
    this.drain();
  }

  crash(random: Prng, faults: CrashFaults): void {
    this.core();
    this.listener.observe({
      kind: 'crash',
      atMs: this.now(),
      nodeId: this.id,
      log: logViewOf(this.storage),
      acknowledgedIndex: this.acknowledgedIndex,
      durableCommit: this.durableCommit,
    });
    this.raft = undefined;
    this.disk.crash(random, faults);
  }

  status(): RaftStatus {
    return this.core().status();
  }

  /** Returns how many messages the tick made the node send (heartbeats, campaigns), for the trace. */
  tick(): number {
    const sentBefore = this.sentCount;
    this.core().tick();
    this.drain();
    return this.sentCount - sentBefore;
  }

  step(message: Message): void {
    this.core().step(message);
    this.drain();
  }

  /** Throws the core's TributaryError (NOT_LEADER with a hint, RESOURCE_EXHAUSTED) unchanged. */
  propose(data: Uint8Array): ProposalTicket {
    const ticket = this.core().propose(data);
    this.drain();
    return ticket;
  }

  proposeConfChange(change: ConfChange): ProposalTicket {
    const ticket = this.core().proposeConfChange(change);
    this.drain();
    return ticket;
  }

  readIndex(context: Uint8Array): void {
    this.core().readIndex(context);
    this.drain();
  }

  transferLeadership(target: number): void {
    this.core().transferLeadership(target);
    this.drain();
  }

  /** The node's log right now, for the end-of-run checks. */
  logView(): LogView {
    return logViewOf(this.storage);
  }

  /** Reads the state machine directly: only for serving a ReadIndex that is ready. */
  read(key: string): string | undefined {
    return this.machine.read(key);
  }

  /** This node's metadata as it has applied it, for simulated brokers; undefined in a key-value-only run. */
  metadataView(): MetadataState | undefined {
    return this.running ? this.machine.metadataView : undefined;
  }

  private freshStateMachine(): SimStateMachine {
    return new SimStateMachine(this.id, this.settings.metadata, (observation) => this.listener.observe(observation), this.now);
  }

  private core(): RaftNode {
    if (this.raft === undefined) throw new Error(`node ${this.id} is down`);
    return this.raft;
  }

  private drain(): void {
    for (let handled = 0; this.raft?.hasReady() === true; handled++) {
      if (handled >= readiesPerInputMax) throw new Error(`node ${this.id} produced over ${readiesPerInputMax} Readies for one input`);
      this.handleReady(this.raft, this.raft.ready());
    }
  }

  /** The Ready contract, in its order. */
  private handleReady(raft: RaftNode, ready: Ready): void {
    this.persist(ready);
    this.observeRole(raft);
    for (const message of ready.messages) this.send(message);
    if (ready.snapshot !== undefined) this.restore(ready.snapshot);
    for (const entry of ready.committedEntries) this.apply(raft, entry);
    this.collectReads(ready);
    raft.advance(ready);
    this.maybeSnapshot();
  }

  private persist(ready: Ready): void {
    if (ready.snapshot === undefined && ready.entries.length === 0 && ready.hardState === undefined) return;
    const record: HostRecord = {
      kind: 'ready',
      entries: ready.entries,
      ...(ready.snapshot === undefined ? {} : { snapshot: ready.snapshot }),
      ...(ready.hardState === undefined ? {} : { hardState: ready.hardState }),
    };
    this.disk.write(encodeHostRecord(record));
    if (ready.hardState !== undefined) this.writtenCommit = ready.hardState.commit;
    if (ready.mustSync && !this.settings.skipFsync) {
      this.disk.sync();
      this.durableCommit = this.writtenCommit;
    }
    if (ready.snapshot !== undefined) {
      this.storage.applySnapshot(ready.snapshot);
      this.acknowledgedIndex = Math.min(this.acknowledgedIndex, ready.snapshot.metadata.index);
    }
    this.storage.append(ready.entries);
    if (ready.hardState !== undefined) this.storage.setHardState(ready.hardState);
    this.observePersisted(ready);
  }

  private observePersisted(ready: Ready): void {
    const atMs = this.now();
    const first = ready.entries[0];
    if (first !== undefined) {
      // A leader's new entries overwrite nothing it acknowledged, a follower's may (a new leader's suffix).
      this.acknowledgedIndex = Math.min(this.acknowledgedIndex, first.index - 1);
      // A leader counts its own persisted entries towards commit: they are acknowledged too.
      if (this.core().status().role === 'leader') this.acknowledgedIndex = this.storage.lastIndex();
      // Entries at or below the compaction point were skipped by the storage: nothing to check.
      const compactedIndex = this.storage.firstIndex() - 1;
      const entries = ready.entries
        .filter((entry) => entry.index > compactedIndex)
        .map((entry) => ({ index: entry.index, term: entry.term, prevTerm: this.storage.term(entry.index - 1), digest: entryDigest(entry) }));
      this.listener.observe({ kind: 'append', atMs, nodeId: this.id, entries });
    }
    if (ready.hardState !== undefined) {
      const leader = this.core().status().role === 'leader';
      this.listener.observe({ kind: 'commit', atMs, nodeId: this.id, commit: ready.hardState.commit, leader });
    }
  }

  /** Reports a role or term change; a new leader's log is captured for leader completeness. */
  private observeRole(raft: RaftNode): void {
    const { term, role } = raft.status();
    if (term === this.lastRole.term && role === this.lastRole.role) return;
    this.lastRole = { term, role };
    const log = role === 'leader' ? logViewOf(this.storage) : undefined;
    this.listener.observe({ kind: 'role', atMs: this.now(), nodeId: this.id, term, role, log });
  }

  private send(message: Message): void {
    if (message.type === 'appendResponse' && !message.reject) {
      this.acknowledgedIndex = Math.max(this.acknowledgedIndex, Math.min(message.index, this.storage.lastIndex()));
    }
    if (message.type === 'snapshotResponse' && message.done && !message.reject) {
      this.acknowledgedIndex = Math.max(this.acknowledgedIndex, Math.min(message.snapshotIndex, this.storage.firstIndex() - 1));
    }
    this.sentCount++;
    this.listener.send(message);
  }

  private restore(snapshot: Snapshot): void {
    const { index, term, membership } = snapshot.metadata;
    this.machine.restore(index, snapshot.data);
    this.appliedIndex = index;
    this.membership = membership;
    this.listener.observe({ kind: 'restoreSnapshot', atMs: this.now(), nodeId: this.id, index, term });
    this.listener.snapshotRestored(this.id, index, term);
  }

  private apply(raft: RaftNode, entry: Entry): void {
    this.appliedIndex = entry.index;
    this.listener.observe({ kind: 'apply', atMs: this.now(), nodeId: this.id, index: entry.index, term: entry.term, digest: entryDigest(entry) });
    if (entry.type === 'confChange') {
      const change = decodeConfChange(entry.data);
      this.membership = raft.applyConfChange(change);
      this.machine.applied(entry.index);
      this.listener.applied(this.id, entry, undefined);
      this.listener.confChangeApplied(this.id, change, this.membership);
      return;
    }
    const outcome = this.machine.apply(entry);
    this.machine.applied(entry.index);
    this.listener.applied(this.id, entry, outcome);
  }

  /** Serves ReadIndex requests whose read index the state machine has reached, in order. */
  private collectReads(ready: Ready): void {
    for (const readState of ready.readStates) this.pendingReads.push({ index: readState.index, context: readState.context });
    if (this.pendingReads.length > pendingReadsMax) throw new Error(`node ${this.id} has over ${pendingReadsMax} reads pending`);
    const waiting: typeof this.pendingReads = [];
    for (const read of this.pendingReads) {
      if (read.index <= this.appliedIndex) this.listener.readReady(this.id, read.context);
      else waiting.push(read);
    }
    this.pendingReads = waiting;
  }

  /** Snapshots the state machine and compacts the log past the threshold; checkpoints the disk. */
  private maybeSnapshot(): void {
    const snapshotIndex = this.storage.snapshot().metadata.index;
    if (this.appliedIndex - snapshotIndex < this.settings.snapshotThresholdEntries) return;
    this.storage.createSnapshot(this.appliedIndex, this.membership, this.machine.serialize(this.appliedIndex));
    const compactIndex = this.appliedIndex - this.settings.snapshotKeepEntries;
    if (compactIndex >= this.storage.firstIndex()) this.storage.compact(compactIndex);
    // Everything the storage holds becomes durable here, so the commit it holds is durable too.
    this.disk.replaceAll([encodeHostRecord(checkpointOf(this.storage, this.bootstrap))]);
    this.durableCommit = this.writtenCommit;
  }
}
