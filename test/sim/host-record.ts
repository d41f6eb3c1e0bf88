import { Packr } from 'msgpackr';
import { MemoryRaftStorage } from '../../src/raft/memory-raft-storage.js';
import type { Entry, HardState, Membership, Snapshot } from '../../src/raft/raft-types.js';

/**
 * What a simulated host writes to its disk, one record per write:
 *   bootstrap   the membership the node was created with (a joining node's is empty);
 *   ready       what one Ready asked to persist (snapshot, entries, hard state), written as ONE
 *               record so a crash keeps all of a Ready or none of it;
 *   checkpoint  the whole storage after the host took a snapshot and compacted; it replaces
 *               everything before it, which keeps the disk bounded.
 */
export type HostRecord =
  | { readonly kind: 'bootstrap'; readonly membership: Membership }
  | { readonly kind: 'ready'; readonly snapshot?: Snapshot; readonly entries: readonly Entry[]; readonly hardState?: HardState }
  | {
      readonly kind: 'checkpoint';
      readonly bootstrap: Membership;
      readonly snapshot: Snapshot;
      readonly entries: readonly Entry[];
      readonly hardState: HardState;
    };

const packr = new Packr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });

export function encodeHostRecord(record: HostRecord): Uint8Array {
  return packr.pack(record);
}

export function decodeHostRecord(bytes: Uint8Array): HostRecord {
  return packr.unpack(bytes) as HostRecord;
}

/** Rebuilds a node's storage from the records its disk kept, in order, as a host does on restart. */
export function recoverStorage(records: readonly HostRecord[]): { storage: MemoryRaftStorage; bootstrap: Membership } {
  const first = records[0];
  if (first?.kind !== 'bootstrap' && first?.kind !== 'checkpoint') {
    throw new Error(`a disk must start with a bootstrap or checkpoint record, found ${first?.kind ?? 'nothing'}`);
  }
  let bootstrap = first.kind === 'bootstrap' ? first.membership : first.bootstrap;
  let storage = new MemoryRaftStorage(bootstrap);
  for (const record of records) {
    switch (record.kind) {
      case 'bootstrap':
        bootstrap = record.membership;
        storage = new MemoryRaftStorage(bootstrap);
        break;
      case 'ready':
        if (record.snapshot !== undefined) storage.applySnapshot(record.snapshot);
        storage.append(record.entries);
        if (record.hardState !== undefined) storage.setHardState(record.hardState);
        break;
      case 'checkpoint':
        bootstrap = record.bootstrap;
        storage = new MemoryRaftStorage(bootstrap);
        if (record.snapshot.metadata.index > 0) storage.applySnapshot(record.snapshot);
        storage.append(record.entries);
        storage.setHardState(record.hardState);
        break;
    }
  }
  return { storage, bootstrap };
}

/** The record that captures all of `storage`, written after a snapshot and compaction. */
export function checkpointOf(storage: MemoryRaftStorage, bootstrap: Membership): HostRecord {
  const firstIndex = storage.firstIndex();
  const lastIndex = storage.lastIndex();
  const entries = lastIndex >= firstIndex ? storage.entries(firstIndex, lastIndex + 1, Number.MAX_SAFE_INTEGER) : [];
  return { kind: 'checkpoint', bootstrap, snapshot: storage.snapshot(), entries, hardState: storage.initialState().hardState };
}
