import { Packr } from 'msgpackr';
import { systemClock } from '../../src/actors/clock.js';
import { RaftHost } from '../../src/actors/raft-host/raft-host.js';
import { raftHostDefaults, type RaftHostSettings } from '../../src/actors/raft-host/raft-host-settings.js';
import type { RaftStores } from '../../src/actors/raft-host/raft-stores.js';
import type { ReplicatedStateMachine } from '../../src/actors/raft-host/replicated-state-machine.js';
import type { Membership, Message, NodeId } from '../../src/raft/raft-types.js';
import {
  GroupCommitWriter,
  KeyValueHardStateStore,
  MemoryKeyValueStore,
  openRaftLogStore,
  openSnapshotStore,
} from '../../src/storage/index.js';
import { captureLogger } from './log-capture.js';

const packr = new Packr({ useRecords: false });

/** A test state machine: an append-only list of strings; apply answers with the list's length. */
export class ListStateMachine implements ReplicatedStateMachine<number> {
  items: string[] = [];
  appliedIndex = 0;

  apply(index: number, data: Uint8Array): number {
    this.appliedIndex = index;
    this.items.push(Buffer.from(data).toString('utf8'));
    return this.items.length;
  }

  snapshot(): Uint8Array {
    return packr.pack(this.items);
  }

  restore(index: number, data: Uint8Array): void {
    this.appliedIndex = index;
    this.items = packr.unpack(data) as string[];
  }
}

interface ClusterNode {
  engine: MemoryKeyValueStore;
  host: RaftHost<number> | undefined;
  stateMachine: ListStateMachine;
}

/**
 * Raft hosts in one process over memory stores, delivering messages on the next turn of the event
 * loop, with real timers. For the host's own tests; multi-process tests use real gRPC.
 */
export class InProcessRaftCluster {
  readonly nodes = new Map<NodeId, ClusterNode>();
  /** Nodes cut off from everyone: messages to and from them are dropped. */
  readonly isolated = new Set<NodeId>();
  readonly settings: RaftHostSettings;

  constructor(
    readonly membership: Membership,
    settings: Partial<RaftHostSettings> = {},
  ) {
    this.settings = { ...raftHostDefaults, tickIntervalMs: 10, ...settings };
    for (const id of [...membership.voters, ...membership.learners]) {
      this.nodes.set(id, { engine: new MemoryKeyValueStore(), host: undefined, stateMachine: new ListStateMachine() });
    }
  }

  async startAll(): Promise<void> {
    for (const id of this.nodes.keys()) await this.start(id);
  }

  async start(id: NodeId, bootstrap: Membership | undefined = this.membership): Promise<RaftHost<number>> {
    const node = this.node(id);
    node.stateMachine = new ListStateMachine();
    node.host = await RaftHost.start({
      nodeId: id,
      stores: await storesOn(node.engine),
      bootstrap,
      stateMachine: node.stateMachine,
      transport: { send: (messages) => this.deliver(messages) },
      clock: systemClock,
      random: { nextInt: (maxExclusive) => Math.floor(Math.random() * maxExclusive) },
      logger: captureLogger().logger,
      settings: this.settings,
    });
    return node.host;
  }

  /** Stops a node and keeps only what its store had synced, as after a power loss. */
  async crash(id: NodeId): Promise<void> {
    const node = this.node(id);
    await node.host?.stop();
    node.host = undefined;
    node.engine = node.engine.crash();
  }

  /** A node wiped clean: a new empty store, as after losing its disk. */
  wipe(id: NodeId): void {
    this.node(id).engine = new MemoryKeyValueStore();
  }

  add(id: NodeId): void {
    this.nodes.set(id, { engine: new MemoryKeyValueStore(), host: undefined, stateMachine: new ListStateMachine() });
  }

  /**
   * Holds node `id`'s storage writes (they wait, unfinished) until the returned function is
   * called: a slow disk on one node.
   */
  holdWrites(id: NodeId): () => void {
    const engine = this.node(id).engine;
    const write = engine.write.bind(engine);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    engine.write = async (operations, options) => {
      await gate;
      return write(operations, options);
    };
    return () => {
      engine.write = write;
      release();
    };
  }

  host(id: NodeId): RaftHost<number> {
    const host = this.node(id).host;
    if (host === undefined) throw new Error(`node ${id} is not running`);
    return host;
  }

  snapshotIndex(id: NodeId): number {
    return this.host(id).snapshotIndex();
  }

  stateMachine(id: NodeId): ListStateMachine {
    return this.node(id).stateMachine;
  }

  /** Waits until one running node leads (and, if given, it is not `excluded`); returns its id. */
  async waitForLeader(excluded?: NodeId, timeoutMs = 5_000): Promise<NodeId> {
    return waitFor(() => {
      for (const [id, node] of this.nodes) {
        if (id === excluded || this.isolated.has(id) || node.host === undefined) continue;
        if (node.host.status().role === 'leader') return id;
      }
      return undefined;
    }, timeoutMs, 'a leader');
  }

  async stopAll(): Promise<void> {
    for (const node of this.nodes.values()) await node.host?.stop();
  }

  private deliver(messages: readonly Message[]): void {
    for (const message of messages) {
      setImmediate(() => {
        if (this.isolated.has(message.from) || this.isolated.has(message.to)) return;
        this.nodes.get(message.to)?.host?.step(message);
      });
    }
  }

  private node(id: NodeId): ClusterNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id} in the cluster`);
    return node;
  }
}

async function storesOn(engine: MemoryKeyValueStore): Promise<RaftStores> {
  const writer = new GroupCommitWriter(engine, { durability: 'fsync' });
  return {
    log: await openRaftLogStore(engine, writer),
    hardState: new KeyValueHardStateStore(engine, writer),
    snapshots: await openSnapshotStore(engine, writer),
  };
}

/** Polls `probe` every few milliseconds until it returns a value; bounded by `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
