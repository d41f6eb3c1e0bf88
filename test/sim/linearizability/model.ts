// The sequential specification a history is checked against: a pure state machine that says
// whether an operation with a given output is legal in a given state, and what state follows.
import type { History, Operation, UnknownOutput } from './history.js';

export type StepResult<State> = { readonly ok: true; readonly next: State } | { readonly ok: false };

/** A subset of a history that can be checked on its own, with a label for failure reports. */
export interface Partition<Input, Output> {
  readonly label: string;
  readonly operations: ReadonlyArray<Operation<Input, Output>>;
}

export interface Model<State, Input, Output> {
  init(): State;
  /**
   * Whether `input` returning `output` is legal in `state`, and the state after it. Must be pure.
   * For a pending operation `output` is `unknownOutput`, and the model must accept any outcome.
   */
  step(state: State, input: Input, output: Output | UnknownOutput): StepResult<State>;
  /**
   * Splits a history into independent parts (e.g. per key). A history is linearizable exactly when
   * every part is (P-compositionality), and checking parts is exponentially cheaper. Without it the
   * whole history is one part.
   */
  partition?(history: History<Input, Output>): Array<Partition<Input, Output>>;
  /** States must be equal whenever their hashes are; hash collisions are resolved with `equal`. */
  equal(left: State, right: State): boolean;
  hash(state: State): string;
  describeOperation(input: Input, output: Output | UnknownOutput): string;
  describeState(state: State): string;
}
