import { Packr } from 'msgpackr';
import type { MetadataCommandResult, MetadataState } from '../../src/controller/index.js';
import type { Entry } from '../../src/raft/raft-types.js';
import { decodeKvProposal, KvStateMachine, type KvProposal } from './kv-state-machine.js';
import type { KvOutput } from './linearizability/kv-model.js';
import type { MetadataBug } from './metadata-bugs.js';
import { decodeMetadataEntry, isMetadataEntry } from './metadata-entry.js';
import { MetadataReplica } from './metadata-replica.js';
import type { Observation } from './observation.js';

export interface MetadataSettings {
  /** Whether the run has a metadata workload; without one the hosts run the key-value store alone. */
  readonly enabled: boolean;
  readonly bug: MetadataBug | undefined;
}

/** What applying one normal entry did, for the proposer waiting on it. */
export type AppliedOutcome =
  /** An empty entry: a new leader's, or a proposal without data. */
  | { readonly kind: 'none' }
  | { readonly kind: 'kv'; readonly proposal: KvProposal }
  | { readonly kind: 'metadata'; readonly proposalId: number; readonly result: MetadataCommandResult<unknown> };

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/**
 * A simulated host's state machine: the key-value store the clients check for linearizability,
 * and beside it, in runs with a metadata workload, the controller's real metadata state machine.
 * Entries say which one they are for (metadata-entry.ts). A run without the metadata workload
 * snapshots the key-value store alone, byte for byte as before the metadata part existed.
 */
export class SimStateMachine {
  private kv = new KvStateMachine();
  private readonly metadata: MetadataReplica | undefined;

  constructor(nodeId: number, settings: MetadataSettings, observe: (observation: Observation) => void, now: () => number) {
    this.metadata = settings.enabled ? new MetadataReplica(nodeId, settings.bug, observe, now) : undefined;
  }

  /** This node's metadata, read by simulated brokers; undefined in a key-value-only run. */
  get metadataView(): MetadataState | undefined {
    return this.metadata?.view;
  }

  /** Applies the normal (not configuration) entry at `entry.index`. */
  apply(entry: Entry): AppliedOutcome {
    if (entry.data.length === 0) return { kind: 'none' };
    if (!isMetadataEntry(entry.data)) {
      const proposal = decodeKvProposal(entry.data);
      this.kv.apply(proposal.input);
      return { kind: 'kv', proposal };
    }
    const { proposalId, command } = decodeMetadataEntry(entry.data);
    if (this.metadata === undefined) throw new Error(`entry ${entry.index} holds a metadata command in a run without the metadata workload`);
    return { kind: 'metadata', proposalId, result: this.metadata.apply(entry.index, command) };
  }

  /** Called after every applied entry, configuration changes included. */
  applied(index: number): void {
    this.metadata?.sample(index);
  }

  read(key: string): KvOutput {
    return this.kv.get(key);
  }

  /** The whole state with entries up to `index` applied. */
  serialize(index: number): Uint8Array {
    if (this.metadata === undefined) return this.kv.serialize();
    return packr.pack([this.kv.serialize(), this.metadata.serialize(index)]);
  }

  restore(index: number, data: Uint8Array): void {
    if (this.metadata === undefined) {
      this.kv = KvStateMachine.restore(data);
      return;
    }
    const [kvBytes, metadataBytes] = data.length === 0 ? [data, data] : (packr.unpack(data) as [Uint8Array, Uint8Array]);
    this.kv = KvStateMachine.restore(kvBytes);
    this.metadata.restore(index, metadataBytes);
  }
}
