// Committed entries per second of the pure Raft core: a 3-node cluster in one process, messages
// delivered in memory, MemoryRaftStorage, no I/O. The leader proposes 256-byte entries in batches;
// each host follows the Ready contract (persist, send, apply, advance) and snapshots + compacts
// its storage now and then so memory stays bounded. Prints one JSON line: the median over the
// measured runs, with min and max, and the ratio to a ceiling measured in the same process: the
// same entries appended to three in-memory logs with no consensus at all, which is what any
// 3-replica log must do at the least. Run: npx tsx bench/raft-core.ts
import { performance } from 'node:perf_hooks';
import { TributaryError } from '../src/errors/index.js';
import { createRaftNode } from '../src/raft/create-raft-node.js';
import { MemoryRaftStorage } from '../src/raft/memory-raft-storage.js';
import type { Message, NodeId, RaftNode } from '../src/raft/raft-types.js';
import { median, summary } from './bench-statistics.js';

const entryBytes = 256;
const batchEntries = 256;
const runs = 5;
const warmupRuns = 1;
const runDurationMs = 600;
/** Compact once this many entries are applied beyond the last snapshot. */
const compactEveryEntries = 50_000;

interface BenchHost {
  readonly id: NodeId;
  readonly node: RaftNode;
  readonly storage: MemoryRaftStorage;
  appliedIndex: number;
  appliedNormalEntries: number;
}

function createCluster(): BenchHost[] {
  const membership = { voters: [1, 2, 3], learners: [] };
  return [1, 2, 3].map((id) => {
    const storage = new MemoryRaftStorage(membership);
    let state = id;
    const random = { nextInt: (maxExclusive: number) => (state = (state * 1103515245 + 12345) % 2 ** 31) % maxExclusive };
    const node = createRaftNode({ id, storage, random, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1 });
    return { id, node, storage, appliedIndex: 0, appliedNormalEntries: 0 };
  });
}

/** One pass of the host loop over every node; returns the messages they sent. */
function processReadies(hosts: readonly BenchHost[]): Message[] {
  const outbox: Message[] = [];
  for (const host of hosts) {
    if (!host.node.hasReady()) continue;
    const ready = host.node.ready();
    if (ready.snapshot !== undefined) host.storage.applySnapshot(ready.snapshot);
    host.storage.append(ready.entries);
    if (ready.hardState !== undefined) host.storage.setHardState(ready.hardState);
    for (const message of ready.messages) outbox.push(message);
    for (const entry of ready.committedEntries) {
      host.appliedIndex = entry.index;
      if (entry.type === 'normal' && entry.data.byteLength > 0) host.appliedNormalEntries++;
    }
    host.node.advance(ready);
    maybeCompact(host);
  }
  return outbox;
}

function maybeCompact(host: BenchHost): void {
  const snapshotIndex = host.storage.snapshot().metadata.index;
  if (host.appliedIndex - snapshotIndex < compactEveryEntries) return;
  host.storage.createSnapshot(host.appliedIndex, host.node.status().membership, new Uint8Array(0));
  host.storage.compact(host.appliedIndex);
}

/** Delivers messages and processes Readies until the cluster is quiet. */
function settle(hosts: readonly BenchHost[]): void {
  let messages = processReadies(hosts);
  while (messages.length > 0) {
    for (const message of messages) hosts[message.to - 1]?.node.step(message);
    messages = processReadies(hosts);
  }
}

function electLeader(hosts: readonly BenchHost[]): BenchHost {
  const candidate = hosts[0];
  if (candidate === undefined) throw new Error('empty cluster');
  for (let tick = 0; tick < 100 && candidate.node.status().role !== 'leader'; tick++) {
    candidate.node.tick();
    settle(hosts);
  }
  if (candidate.node.status().role !== 'leader') throw new Error('no leader elected');
  return candidate;
}

/** Proposes batches for about runDurationMs; returns committed entries per second on the leader. */
function runOnce(): number {
  const hosts = createCluster();
  const leader = electLeader(hosts);
  const payload = new Uint8Array(entryBytes).fill(7);
  const started = performance.now();
  let elapsedMs = 0;
  while (elapsedMs < runDurationMs) {
    for (let count = 0; count < batchEntries; count++) {
      try {
        leader.node.propose(payload);
      } catch (error) {
        if (error instanceof TributaryError && error.code === 'RESOURCE_EXHAUSTED') break;
        throw error;
      }
    }
    settle(hosts);
    elapsedMs = performance.now() - started;
  }
  return (leader.appliedNormalEntries * 1000) / elapsedMs;
}

/** The no-consensus ceiling: build each entry and append it to three logs, for runDurationMs. */
function runCeilingOnce(): number {
  const logs: Array<Array<{ index: number; term: number; type: 'normal'; data: Uint8Array }>> = [[], [], []];
  const payload = new Uint8Array(entryBytes).fill(7);
  const started = performance.now();
  let index = 0;
  let elapsedMs = 0;
  while (elapsedMs < runDurationMs) {
    for (let count = 0; count < batchEntries; count++) {
      index++;
      for (const log of logs) log.push({ index, term: 1, type: 'normal', data: payload });
    }
    // Keep memory bounded the way the Raft hosts do, by dropping applied prefixes.
    if (index % compactEveryEntries < batchEntries) for (const log of logs) log.length = 0;
    elapsedMs = performance.now() - started;
  }
  return (index * 1000) / elapsedMs;
}

function main(): void {
  for (let run = 0; run < warmupRuns; run++) runOnce();
  // Alternate the two so machine noise falls on both alike.
  const rates: number[] = [];
  const ceilingRates: number[] = [];
  for (let run = 0; run < runs; run++) {
    rates.push(runOnce());
    ceilingRates.push(runCeilingOnce());
  }
  console.log(JSON.stringify({
    bench: 'raft-core',
    nodes: 3,
    entryBytes,
    batchEntries,
    runs,
    runDurationMs,
    committedEntriesPerSecond: summary(rates, 0),
    noConsensusCeilingEntriesPerSecond: summary(ceilingRates, 0),
    ratioToCeiling: Number((median(rates) / median(ceilingRates)).toFixed(3)),
    node: process.version,
  }));
}

main();
