import type { KeyValueOperation } from './key-value-store.js';

/**
 * How stores write: `write` resolves once `operations` are applied atomically AND durable.
 * GroupCommitWriter implements it by gathering concurrent callers into one synced WriteBatch;
 * with `durability: none` it skips the sync. Stores never call the engine's `write` themselves,
 * so every store's writes share the node's group commit.
 */
export interface StorageWriter {
  write(operations: readonly KeyValueOperation[]): Promise<void>;
}
