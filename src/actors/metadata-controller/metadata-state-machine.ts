import {
  type AppliedMetadataCommand,
  applyEncodedMetadataCommand,
  createMetadataState,
  decodeMetadataSnapshot,
  encodeMetadataSnapshot,
  type MetadataDelta,
  type MetadataState,
} from '../../controller/index.js';
import type { ReplicatedStateMachine } from '../raft-host/replicated-state-machine.js';

/** Told of every change: the deltas of an applied command, or that a snapshot replaced everything. */
export interface MetadataChangeListener {
  applied(deltas: readonly MetadataDelta[], version: number): void;
  restored(state: MetadataState): void;
}

/**
 * The metadata state machine (src/controller) as the Raft host's ReplicatedStateMachine: entries
 * are msgpack-encoded MetadataCommands, results go back to proposers, deltas to the listener.
 */
export class MetadataStateMachine implements ReplicatedStateMachine<AppliedMetadataCommand<unknown>> {
  private current: MetadataState = createMetadataState();
  /** The Raft index applied last, which differs from `state.version` after a rejected command. */
  private appliedIndex = 0;

  constructor(private readonly listener: MetadataChangeListener) {}

  /** The live state: read it, never change it; it changes under the reader at the next apply. */
  get state(): MetadataState {
    return this.current;
  }

  get lastAppliedIndex(): number {
    return this.appliedIndex;
  }

  apply(index: number, data: Uint8Array): AppliedMetadataCommand<unknown> {
    // An entry that does not decode is rejected like an invalid command: a proposer's bug must not stop every replica.
    const applied = applyEncodedMetadataCommand(this.current, data, index);
    this.appliedIndex = index;
    if (applied.deltas.length > 0) this.listener.applied(applied.deltas, index);
    return applied;
  }

  snapshot(): Uint8Array {
    return encodeMetadataSnapshot(this.current);
  }

  restore(index: number, data: Uint8Array): void {
    // A controller that joins with nothing stored starts from the raft host's empty snapshot at
    // index 0, which holds no bytes: it is the empty state, not a corrupt one.
    this.current = index === 0 && data.length === 0 ? createMetadataState() : decodeMetadataSnapshot(data);
    this.appliedIndex = index;
    this.listener.restored(this.current);
  }
}
