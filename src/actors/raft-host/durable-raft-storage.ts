import assert from 'node:assert/strict';
import { MemoryRaftStorage } from '../../raft/memory-raft-storage.js';
import type { Membership, Ready, Snapshot } from '../../raft/raft-types.js';
import type { RaftStores } from './raft-stores.js';

/** Snapshots kept on disk: the newest, plus one in case the newest is being streamed to a follower. */
export const snapshotsRetained = 2;

/** Index and term of a bootstrapped cluster's first snapshot. */
export const bootstrapIndex = 1;

/**
 * The core reads its log synchronously (RaftStorage), the stores are asynchronous. So the host
 * keeps the whole log since the last snapshot in a MemoryRaftStorage mirror, loaded once at
 * start and updated only after each write is durable. Controller logs stay small: the host
 * snapshots and compacts them past `snapshotThresholdEntries`.
 */
export class DurableRaftStorage {
  private constructor(
    readonly mirror: MemoryRaftStorage,
    private readonly stores: RaftStores,
  ) {}

  /**
   * Loads what the stores hold. A node with nothing stored takes `bootstrap` as its membership at
   * index 0 and persists it at once, so a restart finds the same start; with no bootstrap it
   * starts as a member of nothing and waits for a leader to send it a snapshot (docs/CONTROLLER.md).
   */
  static async open(stores: RaftStores, bootstrap: { membership: Membership; data: Uint8Array } | undefined): Promise<DurableRaftStorage> {
    const storage = new DurableRaftStorage(new MemoryRaftStorage(), stores);
    const [latest] = await stores.snapshots.list();
    if (latest === undefined) {
      if (bootstrap !== undefined) await storage.bootstrap(bootstrap.membership, bootstrap.data);
    } else {
      storage.mirror.applySnapshot({ metadata: latest, data: await readSnapshotData(stores, latest.index) });
    }
    await storage.loadLog();
    storage.mirror.setHardState(await stores.hardState.load());
    return storage;
  }

  /** The snapshot the mirror holds: the state machine restarts from it. */
  snapshot(): Snapshot {
    return this.mirror.snapshot();
  }

  /**
   * Persists a Ready's snapshot, entries and hard state, durably, then updates the mirror. The
   * snapshot goes first: the log is compacted behind it, so a crash in between leaves either the
   * old log or the new snapshot, never neither.
   *
   * A hard state whose only change is the commit index (`mustSync` false) is not written: Raft
   * needs term and vote durable, not commit, which a restarted node learns again from its leader
   * (etcd does not sync it either). Such a Ready costs no fsync, which keeps one off the path of
   * every acknowledged write; the commit rides along with the next write that must be synced.
   */
  async persist(ready: Ready): Promise<void> {
    if (ready.hardState !== undefined) this.mirror.setHardState(ready.hardState);
    if (!ready.mustSync && ready.entries.length === 0 && ready.snapshot === undefined) return;
    if (ready.snapshot !== undefined) await this.saveSnapshot(ready.snapshot);
    const writes: Promise<void>[] = [];
    if (ready.entries.length > 0) writes.push(this.stores.log.append(ready.entries));
    writes.push(this.stores.hardState.save(this.mirror.initialState().hardState));
    await Promise.all(writes);
    this.mirror.append(ready.entries);
  }

  /**
   * Records the state machine's state as of `index` (already applied) as a snapshot, then compacts
   * the log up to `index - keepEntries`, keeping a tail so slightly lagging followers catch up from
   * the log instead of a whole snapshot.
   */
  async snapshotAt(index: number, membership: Membership, data: Uint8Array, keepEntries: number): Promise<void> {
    const snapshot = { metadata: { index, term: this.mirror.term(index), membership }, data };
    await this.writeSnapshot(snapshot);
    this.mirror.createSnapshot(index, membership, data);
    const compactIndex = index - keepEntries;
    if (compactIndex >= this.mirror.firstIndex()) {
      await this.stores.log.compactPrefix(compactIndex, this.mirror.term(compactIndex));
      this.mirror.compact(compactIndex);
    }
    await this.stores.snapshots.prune(snapshotsRetained);
  }

  /**
   * Writes a new cluster's first state as a snapshot at index 1, term 1 (etcd bootstraps at term 1
   * too). Not at index 0: a node started without bootstrap holds index 0, term 0 and nothing else,
   * and must not match a leader's log there. Its first append then fails, the leader finds index
   * 1 compacted, and it sends a snapshot that carries the membership the log alone cannot tell.
   */
  private async bootstrap(membership: Membership, data: Uint8Array): Promise<void> {
    await this.saveSnapshot({ metadata: { index: bootstrapIndex, term: bootstrapIndex, membership }, data });
    await this.stores.hardState.save({ term: bootstrapIndex, vote: 0, commit: bootstrapIndex });
  }

  /** A snapshot from the leader replaces the whole log. */
  private async saveSnapshot(snapshot: Snapshot): Promise<void> {
    await this.writeSnapshot(snapshot);
    await this.stores.log.compactPrefix(snapshot.metadata.index, snapshot.metadata.term);
    this.mirror.applySnapshot(snapshot);
    await this.stores.snapshots.prune(snapshotsRetained);
  }

  private async writeSnapshot(snapshot: Snapshot): Promise<void> {
    const sink = await this.stores.snapshots.create(snapshot.metadata);
    try {
      await sink.write(snapshot.data);
      await sink.commit();
    } catch (error) {
      await sink.abort();
      throw error;
    }
  }

  /**
   * Loads the entries after the snapshot. A crash between storing a snapshot and compacting the
   * log behind it leaves older entries, perhaps conflicting ones: that compaction is finished first.
   */
  private async loadLog(): Promise<void> {
    const { log } = this.stores;
    const snapshotIndex = this.mirror.snapshot().metadata.index;
    if (log.firstIndex() <= snapshotIndex) await log.compactPrefix(snapshotIndex, this.mirror.snapshot().metadata.term);
    assert.equal(log.firstIndex(), snapshotIndex + 1, 'the raft log must start right after the snapshot');
    if (log.lastIndex() < log.firstIndex()) return;
    this.mirror.append(await log.entries(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER));
  }
}

async function readSnapshotData(stores: RaftStores, index: number): Promise<Uint8Array> {
  const stored = await stores.snapshots.open(index);
  const chunks: Uint8Array[] = [];
  for await (const chunk of stored.chunks()) chunks.push(chunk);
  return Buffer.concat(chunks);
}

