// A small swarm run over the real core: random delivery order, drops, duplicates, partitions,
// crashes and restarts, snapshots with compaction, leader transfers and membership changes,
// checked for election safety, state-machine safety and monotonic commit; then, after healing,
// liveness. The full simulator lives in test/sim/; this one keeps the core's own tests honest.
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import { createRaftNode } from '../../../src/raft/create-raft-node.js';
import { decodeConfChange } from '../../../src/raft/entry-codec.js';
import { MemoryRaftStorage } from '../../../src/raft/memory-raft-storage.js';
import type { ConfChange, Message, NodeId, RaftNode, Random } from '../../../src/raft/raft-types.js';
import { seededRandom } from './raft-test-network.js';

interface Host {
  id: NodeId;
  storage: MemoryRaftStorage;
  node: RaftNode | undefined;
  /** Term of each applied entry, by index - 1 (the state machine: a log of what it applied). */
  appliedTerms: number[];
  commitSeen: number;
}

const voters = [1, 2, 3];
const allIds = [1, 2, 3, 4];

class Swarm {
  readonly hosts = new Map<NodeId, Host>();
  messages: Message[] = [];
  readonly leaderOfTerm = new Map<number, NodeId>();
  readonly committedTerm = new Map<number, number>();
  readonly cut = new Set<NodeId>();
  readonly random: Random;
  dropPercent: number;
  /** Swarm knobs, drawn from the seed. */
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly crashPerMille: number;

  constructor(readonly seed: number) {
    this.random = seededRandom(seed);
    this.dropPercent = this.random.nextInt(20);
    this.preVote = this.random.nextInt(4) !== 0;
    this.checkQuorum = this.random.nextInt(4) !== 0;
    this.crashPerMille = 1 + this.random.nextInt(20);
    for (const id of allIds) {
      const storage = new MemoryRaftStorage({ voters, learners: [4] });
      const host: Host = { id, storage, node: undefined, appliedTerms: [], commitSeen: 0 };
      this.hosts.set(id, host);
      this.start(host);
    }
  }

  start(host: Host): void {
    const appliedIndex = host.appliedTerms.length;
    host.node = createRaftNode({
      id: host.id, storage: host.storage, random: seededRandom(this.seed * 31 + host.id + this.random.nextInt(1000)),
      electionTimeoutTicks: 10, heartbeatTimeoutTicks: 2, appliedIndex, entriesPerMessageMax: 4, inflightMessagesMax: 4,
      snapshotChunkBytesMax: 64, uncommittedEntriesMax: 50, preVote: this.preVote, checkQuorum: this.checkQuorum,
    });
  }

  process(host: Host): void {
    const node = host.node;
    if (node === undefined || !node.hasReady()) return;
    const ready = node.ready();
    if (ready.snapshot !== undefined) {
      host.storage.applySnapshot(ready.snapshot);
      host.appliedTerms = JSON.parse(new TextDecoder().decode(ready.snapshot.data)) as number[];
      expect(host.appliedTerms.length).toBe(ready.snapshot.metadata.index);
    }
    host.storage.append(ready.entries);
    if (ready.hardState !== undefined) {
      expect(ready.hardState.commit).toBeGreaterThanOrEqual(host.commitSeen);
      host.commitSeen = ready.hardState.commit;
      host.storage.setHardState(ready.hardState);
    }
    this.messages.push(...ready.messages);
    for (const entry of ready.committedEntries) {
      expect(entry.index).toBe(host.appliedTerms.length + 1);
      const known = this.committedTerm.get(entry.index);
      if (known !== undefined && known !== entry.term) throw new Error(`seed ${this.seed}: node ${host.id} applied ${entry.index}@${entry.term}, another ${entry.index}@${known}`);
      this.committedTerm.set(entry.index, entry.term);
      host.appliedTerms.push(entry.term);
      if (entry.type === 'confChange') node.applyConfChange(decodeConfChange(entry.data));
    }
    node.advance(ready);
    const status = node.status();
    if (status.role === 'leader') {
      const other = this.leaderOfTerm.get(status.term);
      if (other !== undefined && other !== host.id) throw new Error(`seed ${this.seed}: nodes ${other} and ${host.id} both lead term ${status.term}`);
      this.leaderOfTerm.set(status.term, host.id);
    }
  }

  deliverOne(): void {
    if (this.messages.length === 0) return;
    const [message] = this.messages.splice(this.random.nextInt(this.messages.length), 1);
    if (message === undefined) return;
    if (this.random.nextInt(100) < 5) this.messages.push(message);
    if (this.random.nextInt(100) < this.dropPercent || this.cut.has(message.from) || this.cut.has(message.to)) return;
    this.hosts.get(message.to)?.node?.step(message);
  }

  /** One random action of the safety phase. */
  act(): void {
    const host = this.pick();
    const node = host.node;
    const roll = this.random.nextInt(100);
    if (node === undefined) {
      if (roll < 10) this.start(host);
    } else if (roll < 40) {
      this.deliverOne();
    } else if (roll < 65) {
      node.tick();
    } else if (roll < 75) {
      ignoreRefusal(() => node.propose(new Uint8Array([roll])));
    } else if (roll < 77) {
      ignoreRefusal(() => node.proposeConfChange(this.randomConfChange()));
    } else if (roll < 78) {
      ignoreRefusal(() => node.transferLeadership(this.pick().id));
    } else if (roll < 80) {
      ignoreRefusal(() => node.readIndex(new Uint8Array([roll])));
    } else if (roll < 82) {
      this.snapshot(host);
    } else if (roll < 83 && this.random.nextInt(1000) < this.crashPerMille * 50) {
      host.node = undefined;
      if (this.random.nextInt(2) === 0) host.appliedTerms = host.appliedTerms.slice(0, host.storage.snapshot().metadata.index);
    } else if (roll < 85) {
      if (this.cut.has(host.id)) this.cut.delete(host.id);
      else this.cut.add(host.id);
    }
    for (const each of this.hosts.values()) this.process(each);
  }

  snapshot(host: Host): void {
    const applied = host.appliedTerms.length;
    if (host.node === undefined || applied <= host.storage.snapshot().metadata.index) return;
    const data = new TextEncoder().encode(JSON.stringify(host.appliedTerms));
    host.storage.createSnapshot(applied, host.node.status().membership, data);
    host.storage.compact(Math.max(host.storage.firstIndex(), applied - this.random.nextInt(3)));
  }

  randomConfChange(): ConfChange {
    const nodeId = this.pick().id;
    const types = ['addLearner', 'promoteLearner', 'removeNode'] as const;
    return { type: types[this.random.nextInt(3)] ?? 'addLearner', nodeId };
  }

  pick(): Host {
    const host = this.hosts.get(allIds[this.random.nextInt(allIds.length)] ?? 1);
    if (host === undefined) throw new Error('no host');
    return host;
  }

  /** Heal everything and run until a leader commits a final proposal, or give up. */
  heal(): boolean {
    this.cut.clear();
    this.dropPercent = 0;
    for (const host of this.hosts.values()) if (host.node === undefined) this.start(host);
    for (let round = 0; round < 3000; round++) {
      for (const host of this.hosts.values()) host.node?.tick();
      for (let pass = 0; pass < 50 && this.messages.length > 0; pass++) {
        while (this.messages.length > 0) this.deliverOne();
        for (const host of this.hosts.values()) this.process(host);
      }
      for (const host of this.hosts.values()) this.process(host);
      const ticket = this.liveTicket;
      if (ticket !== undefined && this.committedTerm.get(ticket.index) === ticket.term) return true;
      const leader = [...this.hosts.values()].find((host) => host.node?.status().role === 'leader');
      // A proposal of an earlier leader may be gone; propose again under each new leader.
      if (leader !== undefined && (ticket === undefined || leader.node?.status().term !== ticket.term)) {
        this.liveTicket = tryPropose(leader.node);
      }
    }
    return false;
  }

  liveTicket: { index: number; term: number } | undefined = undefined;
}

function tryPropose(node: RaftNode | undefined): { index: number; term: number } | undefined {
  try {
    return node?.propose(new Uint8Array([255]));
  } catch (error) {
    if (error instanceof TributaryError) return undefined;
    throw error;
  }
}

function ignoreRefusal(action: () => unknown): void {
  try {
    action();
  } catch (error) {
    if (!(error instanceof TributaryError)) throw error;
  }
}

describe('random faults', () => {
  it('keeps election safety, state-machine safety and monotonic commit, and recovers after healing', () => {
    const seedsMax = 200;
    for (let seed = 1; seed <= seedsMax; seed++) {
      const swarm = new Swarm(seed);
      let live: boolean;
      try {
        for (let step = 0; step < 3000; step++) swarm.act();
        live = swarm.heal();
      } catch (error) {
        throw new Error(`seed ${seed}: ${String(error)}`, { cause: error });
      }
      expect({ seed, live }).toEqual({ seed, live: true });
      const voterTerms = [...swarm.hosts.values()].filter((host) => host.node?.status().membership.voters.includes(host.id) === true);
      expect(voterTerms.length).toBeGreaterThan(0);
    }
  });
});
