import type { HardStateStore } from '../../storage/hard-state-store.js';
import type { RaftLogStore } from '../../storage/raft-log-store.js';
import type { SnapshotStore } from '../../storage/snapshot-store.js';

/** The three stable stores a Raft host persists through (hashicorp/raft's LogStore, StableStore, SnapshotStore). */
export interface RaftStores {
  readonly log: RaftLogStore;
  readonly hardState: HardStateStore;
  readonly snapshots: SnapshotStore;
}
