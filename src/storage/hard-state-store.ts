import type { HardState } from '../raft/raft-types.js';

/** Raft's stable state (hashicorp/raft's StableStore): term, vote and commit index. */
export interface HardStateStore {
  /** The last saved hard state, or term 0, vote 0, commit 0 on a new node. */
  load(): Promise<HardState>;
  /** Resolves once `hardState` is durable: the host sends no message depending on it before. */
  save(hardState: HardState): Promise<void>;
}
