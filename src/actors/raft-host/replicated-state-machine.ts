/**
 * What the Raft host applies committed entries to (hashicorp/raft's FSM). It must be
 * deterministic: the same entries in the same order give the same results and the same snapshot
 * bytes on every replica. Time and randomness reach it only inside the entries.
 */
export interface ReplicatedStateMachine<Result> {
  /** Applies the committed normal entry at `index`; the result goes back to its proposer. */
  apply(index: number, data: Uint8Array): Result;
  /** The whole state, as of the last applied index. */
  snapshot(): Uint8Array;
  /** Replaces the whole state with a snapshot taken at `index`. */
  restore(index: number, data: Uint8Array): void;
}
