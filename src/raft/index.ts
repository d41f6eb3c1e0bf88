// The public surface of the pure Raft core (docs/RAFT.md): hosts and the simulator need only these.
export type * from './raft-types.js';
export { createRaftNode } from './create-raft-node.js';
export { MemoryRaftStorage } from './memory-raft-storage.js';
export { RaftStorageError, type RaftStorageErrorKind } from './raft-storage-error.js';
export { decodeConfChange, decodeEntries, encodeConfChange, encodeEntries } from './entry-codec.js';
export { allowedRoleTransitions } from './role-transitions.js';
