/**
 * The in-test cluster the interaction scripts drive: nodes over MemoryRaftStorage, one mailbox per
 * node, an optional partition, and a host loop that follows the Ready contract exactly (persist,
 * THEN send, then apply, then advance). Everything is deterministic: the injected Random always
 * draws 0, so every election timeout is exactly `electionTimeoutTicks`.
 */
import { TributaryError } from '../../src/errors/index.js';
import { createRaftNode } from '../../src/raft/create-raft-node.js';
import { decodeConfChange } from '../../src/raft/entry-codec.js';
import { MemoryRaftStorage } from '../../src/raft/memory-raft-storage.js';
import type { Membership, Message, NodeId, Random, RaftConfig, RaftNode } from '../../src/raft/raft-types.js';
import { describeConfChange, describeMembership, describeMessage, describeReady } from './describe-ready.js';
import { ToyStateMachine } from './toy-state-machine.js';

/** Config a node is created with; kept so `restart` recreates the node exactly. */
export type NodeSettings = Omit<RaftConfig, 'id' | 'storage' | 'random' | 'appliedIndex'>;

export interface InteractionNode {
  readonly id: NodeId;
  readonly settings: NodeSettings;
  readonly storage: MemoryRaftStorage;
  /** Undefined while crashed. */
  raft: RaftNode | undefined;
  stateMachine: ToyStateMachine;
}

/** Rounds of `stabilize` before the cluster is declared unable to settle. */
const stabilizeRoundsMax = 1_000;

const zeroRandom: Random = {
  nextInt(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) throw new Error(`Random.nextInt(${maxExclusive})`);
    return 0;
  },
};

export class InteractionEnv {
  readonly nodes = new Map<NodeId, InteractionNode>();
  private readonly mailboxes = new Map<NodeId, Message[]>();
  /** Node id -> component; messages between different components are dropped on delivery. */
  private partition: Map<NodeId, number> | undefined;
  private output: string[] = [];

  /** Returns what the last command printed and starts a fresh output. */
  takeOutput(): string {
    const text = this.output.join('\n');
    this.output = [];
    return text === '' ? 'ok' : text;
  }

  print(line: string): void {
    this.output.push(line);
  }

  nodeIds(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => a - b);
  }

  node(id: NodeId): InteractionNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`node ${id} does not exist; add it with add-nodes`);
    return node;
  }

  raft(id: NodeId): RaftNode {
    const raft = this.node(id).raft;
    if (raft === undefined) throw new Error(`node ${id} is crashed; restart it first`);
    return raft;
  }

  addNode(id: NodeId, membership: Membership, settings: NodeSettings): void {
    if (this.nodes.has(id)) throw new Error(`node ${id} already exists`);
    const storage = new MemoryRaftStorage(membership);
    const node: InteractionNode = { id, settings, storage, raft: undefined, stateMachine: new ToyStateMachine() };
    this.nodes.set(id, node);
    this.mailboxes.set(id, []);
    this.start(node);
  }

  /** Creates the node's core from what its storage kept, as a host does after a restart. */
  start(node: InteractionNode): void {
    if (node.raft !== undefined) throw new Error(`node ${node.id} is already running`);
    // Messages sent to the node while it was down never reached it.
    this.mailboxes.set(node.id, []);
    const stateMachine = new ToyStateMachine();
    const snapshot = node.storage.snapshot();
    if (snapshot.metadata.index > 0) stateMachine.restore(snapshot);
    node.stateMachine = stateMachine;
    node.raft = createRaftNode({
      ...node.settings,
      id: node.id,
      storage: node.storage,
      random: zeroRandom,
      appliedIndex: stateMachine.appliedIndex,
    });
  }

  /** Loses everything not yet persisted: the core, its state machine and the messages sent to it. */
  crash(id: NodeId): void {
    this.raft(id);
    this.node(id).raft = undefined;
    this.mailboxes.set(id, []);
  }

  setPartition(groups: readonly (readonly NodeId[])[]): void {
    const partition = new Map<NodeId, number>();
    groups.forEach((group, index) => group.forEach((id) => partition.set(id, index)));
    this.partition = partition;
  }

  heal(): void {
    this.partition = undefined;
  }

  /** Nodes left out of every group of a partition form one more group together. */
  private connected(from: NodeId, to: NodeId): boolean {
    if (this.partition === undefined) return true;
    return (this.partition.get(from) ?? -1) === (this.partition.get(to) ?? -1);
  }

  pendingMessages(id: NodeId): number {
    return this.mailboxes.get(id)?.length ?? 0;
  }

  /**
   * Runs `action` against node `id` and prints the role or term change it caused, like etcd's
   * `became leader at term 2` log lines. TributaryErrors (what a caller of the core sees) are
   * printed; anything else is a bug and propagates.
   */
  observe(id: NodeId, indent: string, action: (raft: RaftNode) => void): void {
    const raft = this.raft(id);
    const before = raft.status();
    try {
      action(raft);
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
      this.print(`${indent}${describeError(error)}`);
    }
    const after = this.node(id).raft?.status();
    if (after !== undefined && (after.role !== before.role || after.term !== before.term)) {
      this.print(`${indent}${id} became ${after.role} at term ${after.term}`);
    }
  }

  /** The host loop's body for one Ready, printed in etcd's layout. */
  processReady(id: NodeId, indent: string): void {
    const node = this.node(id);
    const raft = this.raft(id);
    if (!raft.hasReady()) {
      this.print(`${indent}<empty Ready>`);
      return;
    }
    const ready = raft.ready();
    for (const line of describeReady(ready)) this.print(`${indent}${line}`);
    if (ready.snapshot !== undefined) node.storage.applySnapshot(ready.snapshot);
    node.storage.append(ready.entries);
    if (ready.hardState !== undefined) node.storage.setHardState(ready.hardState);
    for (const message of ready.messages) this.mailbox(message.to).push(message);
    if (ready.snapshot !== undefined) node.stateMachine.restore(ready.snapshot);
    for (const entry of ready.committedEntries) {
      node.stateMachine.apply(entry);
      if (entry.type !== 'confChange') continue;
      const change = decodeConfChange(entry.data);
      this.observe(id, indent, (core) => {
        const membership = core.applyConfChange(change);
        this.print(`${indent}${id} applied ${describeConfChange(change)}: ${describeMembership(membership)}`);
      });
    }
    this.observe(id, indent, (core) => core.advance(ready));
  }

  /**
   * Steps every queued message for `recipients` into its node, in the order sent. Messages in
   * `drop`, across the partition, or to a crashed node are printed as dropped instead.
   */
  deliverMessages(recipients: readonly NodeId[], indent: string, drop: ReadonlySet<NodeId> = new Set()): number {
    let delivered = 0;
    for (const to of recipients) {
      const messages = this.mailbox(to).splice(0);
      for (const message of messages) {
        delivered += 1;
        const lost = drop.has(to) || !this.connected(message.from, to) || this.node(to).raft === undefined;
        if (lost) {
          this.print(`${indent}dropped: ${describeMessage(message)}`);
          continue;
        }
        this.print(`${indent}${describeMessage(message)}`);
        this.observe(to, indent, (raft) => raft.step(message));
      }
    }
    return delivered;
  }

  /** Handles Readies and delivers messages until nothing is left to do, printing everything. */
  stabilize(ids: readonly NodeId[]): void {
    for (let round = 0; round < stabilizeRoundsMax; round += 1) {
      let progressed = false;
      for (const id of ids) {
        const raft = this.node(id).raft;
        if (raft === undefined || !raft.hasReady()) continue;
        this.print(`> ${id} handling Ready`);
        this.processReady(id, '  ');
        progressed = true;
      }
      for (const id of ids) {
        if (this.pendingMessages(id) === 0) continue;
        this.print(`> ${id} receiving messages`);
        this.deliverMessages([id], '  ');
        progressed = true;
      }
      if (!progressed) return;
    }
    throw new Error(`stabilize: still busy after ${stabilizeRoundsMax} rounds`);
  }

  private mailbox(id: NodeId): Message[] {
    let mailbox = this.mailboxes.get(id);
    if (mailbox === undefined) {
      mailbox = [];
      this.mailboxes.set(id, mailbox);
    }
    return mailbox;
  }
}

export function describeError(error: TributaryError): string {
  const hint = error.leaderHint === undefined ? '' : ` (leader hint: node ${error.leaderHint.nodeId}, term ${error.leaderHint.epoch})`;
  return `error: ${error.code}${hint}: ${error.message}`;
}
