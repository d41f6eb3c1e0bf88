import type { Message } from '../../src/raft/raft-types.js';
import type { MetadataEvent } from './metadata-workload.js';
import type { ReplicationEvent } from './replication-workload.js';
import type { ClientEvent } from './sim-clients.js';

/** Everything that can happen in a run, as queued in the event queue. */
export type SimEvent =
  | ClientEvent
  | MetadataEvent
  | ReplicationEvent
  | { readonly type: 'tick'; readonly nodeId: number }
  | { readonly type: 'deliver'; readonly message: Message }
  | { readonly type: 'partition' }
  | { readonly type: 'heal' }
  | { readonly type: 'crash' }
  | { readonly type: 'restart'; readonly nodeId: number }
  | { readonly type: 'membership' }
  | { readonly type: 'transfer' }
  | { readonly type: 'livenessStart' }
  | { readonly type: 'livenessCheck' };
