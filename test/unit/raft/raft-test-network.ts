// A tiny in-process network for unit tests: every node runs the real core over MemoryRaftStorage;
// the network delivers every message unless a partition or a drop rule says otherwise. Hosts
// follow the Ready contract exactly: persist, send, apply, advance.
import { TributaryError } from '../../../src/errors/index.js';
import { createRaftNode } from '../../../src/raft/create-raft-node.js';
import { decodeConfChange } from '../../../src/raft/entry-codec.js';
import { MemoryRaftStorage } from '../../../src/raft/memory-raft-storage.js';
import type { Entry, Membership, Message, NodeId, RaftConfig, RaftNode, ReadState, Random } from '../../../src/raft/raft-types.js';

/** A seeded xorshift generator: tests are deterministic. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0 || 1;
  return {
    nextInt(maxExclusive: number): number {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      return state % maxExclusive;
    },
  };
}

export interface TestPeer {
  id: NodeId;
  node: RaftNode;
  storage: MemoryRaftStorage;
  applied: Entry[];
  readStates: ReadState[];
  snapshotsRestored: number;
}

export type NetworkOptions = Partial<Omit<RaftConfig, 'id' | 'storage' | 'random'>>;

export const defaultTiming = { electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1 };

export class TestNetwork {
  readonly peers = new Map<NodeId, TestPeer>();
  /** Messages sent but not yet delivered, in order. */
  inFlight: Message[] = [];
  private readonly cut = new Set<string>();
  dropRule: ((message: Message) => boolean) | undefined = undefined;
  delivered: Message[] = [];

  constructor(ids: readonly NodeId[], options: NetworkOptions = {}, membership?: Membership) {
    const initial = membership ?? { voters: [...ids], learners: [] };
    for (const id of ids) this.addPeer(id, new MemoryRaftStorage(initial), options);
  }

  addPeer(id: NodeId, storage: MemoryRaftStorage, options: NetworkOptions = {}, appliedIndex = 0): TestPeer {
    const node = createRaftNode({ ...defaultTiming, ...options, id, storage, random: seededRandom(id * 7919), appliedIndex });
    const peer: TestPeer = { id, node, storage, applied: [], readStates: [], snapshotsRestored: 0 };
    this.peers.set(id, peer);
    return peer;
  }

  peer(id: NodeId): TestPeer {
    const peer = this.peers.get(id);
    if (peer === undefined) throw new Error(`no peer ${id}`);
    return peer;
  }

  node(id: NodeId): RaftNode {
    return this.peer(id).node;
  }

  /** Processes one Ready of every node that has one; returns whether any had. */
  processReadies(): boolean {
    let any = false;
    for (const peer of this.peers.values()) {
      if (!peer.node.hasReady()) continue;
      any = true;
      const ready = peer.node.ready();
      if (ready.snapshot !== undefined) {
        peer.storage.applySnapshot(ready.snapshot);
        peer.snapshotsRestored++;
      }
      peer.storage.append(ready.entries);
      if (ready.hardState !== undefined) peer.storage.setHardState(ready.hardState);
      this.inFlight.push(...ready.messages);
      for (const entry of ready.committedEntries) {
        if (entry.type === 'confChange') peer.node.applyConfChange(decodeConfChange(entry.data));
        peer.applied.push(entry);
      }
      peer.readStates.push(...ready.readStates);
      peer.node.advance(ready);
    }
    return any;
  }

  /** Delivers every message now in flight (not those they cause); returns how many were delivered. */
  deliverAll(): number {
    const batch = this.inFlight;
    this.inFlight = [];
    let count = 0;
    for (const message of batch) {
      if (this.isCut(message.from, message.to) || this.dropRule?.(message) === true) continue;
      const target = this.peers.get(message.to);
      if (target === undefined) continue;
      this.delivered.push(message);
      target.node.step(message);
      count++;
    }
    return count;
  }

  /** Runs Readies and deliveries until nothing moves (bounded). */
  stabilize(roundsMax = 1000): void {
    for (let round = 0; round < roundsMax; round++) {
      const busy = this.processReadies();
      const delivered = this.deliverAll();
      if (!busy && delivered === 0 && this.inFlight.length === 0) return;
    }
    throw new Error(`network did not stabilize within ${roundsMax} rounds`);
  }

  tick(ids: readonly NodeId[] = [...this.peers.keys()], times = 1): void {
    for (let count = 0; count < times; count++) {
      for (const id of ids) this.node(id).tick();
      this.stabilize();
    }
  }

  /** Ticks everyone until `id` is leader (it must campaign first: the others have longer timeouts). */
  elect(id: NodeId): void {
    for (let count = 0; count < 100 && this.node(id).status().role !== 'leader'; count++) this.tick([id]);
    if (this.node(id).status().role !== 'leader') throw new Error(`node ${id} did not become leader`);
  }

  isolate(id: NodeId): void {
    for (const other of this.peers.keys()) {
      if (other !== id) this.partitionLink(id, other);
    }
  }

  partitionLink(left: NodeId, right: NodeId): void {
    this.cut.add(`${left}-${right}`);
    this.cut.add(`${right}-${left}`);
  }

  heal(): void {
    this.cut.clear();
    this.dropRule = undefined;
  }

  private isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.has(`${from}-${to}`);
  }

  leaders(): NodeId[] {
    return [...this.peers.values()].filter((peer) => peer.node.status().role === 'leader').map((peer) => peer.id);
  }

  propose(id: NodeId, text: string): void {
    this.node(id).propose(new TextEncoder().encode(text));
    this.stabilize();
  }

  /** The data of applied normal entries with data, as text. */
  appliedTexts(id: NodeId): string[] {
    return this.peer(id).applied.filter((entry) => entry.type === 'normal' && entry.data.byteLength > 0).map((entry) => new TextDecoder().decode(entry.data));
  }
}

/** Storage holding a log whose entry i + 1 has term terms[i] (data names index and term). */
export function storageWithLog(membership: Membership, terms: readonly number[], term: number, commit = 0): MemoryRaftStorage {
  const storage = new MemoryRaftStorage(membership);
  storage.append(terms.map((entryTerm, position) => ({
    index: position + 1,
    term: entryTerm,
    type: 'normal' as const,
    data: new TextEncoder().encode(`${position + 1}@${entryTerm}`),
  })));
  storage.setHardState({ term, vote: 0, commit });
  return storage;
}

/** A network of nodes restarted from the given storages (keyed by node id). */
export function networkFromStorages(storages: ReadonlyMap<NodeId, MemoryRaftStorage>, options: NetworkOptions = {}): TestNetwork {
  const network = new TestNetwork([], options);
  for (const [id, storage] of storages) network.addPeer(id, storage, options);
  return network;
}

/** Terms of the whole stored log of a peer. */
export function storedTerms(peer: TestPeer): number[] {
  const { storage } = peer;
  const terms: number[] = [];
  for (let index = storage.firstIndex(); index <= storage.lastIndex(); index++) terms.push(storage.term(index));
  return terms;
}

/** The TributaryError `action` throws; fails the test when it throws nothing or something else. */
export function errorOf(action: () => unknown): TributaryError {
  try {
    action();
  } catch (error) {
    if (error instanceof TributaryError) return error;
    throw error;
  }
  throw new Error('expected a TributaryError');
}
