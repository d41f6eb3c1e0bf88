import type { NodeConfig } from '../config/index.js';
import type { WriteThread } from '../storage/rocksdb/rocksdb-key-value-store.js';

/**
 * The RocksDB write thread for this node. Measured with bench/metadata (docs/BENCHMARKS.md): on a
 * three-controller quorum the JS thread gave 6.9 ms p50 and 753 writes/s against the worker's
 * 12 ms and 530 writes/s, since every Raft write is small and waits on the hop; partition logs
 * gain from the worker (docs/STORAGE.md).
 */
export function writeThreadFor(config: NodeConfig): WriteThread {
  if (config.storage.writeThread !== 'auto') return config.storage.writeThread;
  return config.roles.includes('broker') ? 'worker' : 'main';
}
