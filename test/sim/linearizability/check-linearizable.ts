// Linearizability checking of a client history against a sequential model.
//
// The approach is that of Porcupine (github.com/anishathalye/porcupine), written afresh here:
//   * P-compositionality (Horn & Kroening 2015): the model partitions the history, e.g. per key,
//     and each part is checked alone; the history is linearizable exactly when every part is.
//   * Wing & Gong's search (1993) with Lowe's memoization (2017): the calls and returns of a part
//     form one list ordered by time. A depth-first search repeatedly linearizes a minimal operation
//     (one whose call precedes every remaining return), removes its call and return from the list,
//     and backtracks when it reaches a return whose operation it could not place. It skips any
//     (set of linearized operations, model state) pair it has seen before, since the rest of the
//     search from there is the same.
// Times are closed intervals: an operation returning at t and one called at t are concurrent.
// Pending operations (returnTime Infinity) are optional: a part is linearizable as soon as every
// completed operation is placed, so a pending write takes effect at any point after its call or never.
import assert from 'node:assert/strict';
import { assertWellFormed, isPending, type History, type Operation } from './history.js';
import type { Model, Partition } from './model.js';

/** Steps (entries visited by the search, over all partitions) after which the verdict is 'unknown'. */
export const checkStepsMaxDefault = 1_000_000;

export interface CheckOptions {
  readonly budgetSteps?: number;
}

export interface IllegalExplanation<State, Input, Output> {
  /** The label of the partition that is not linearizable, e.g. `key "x"`. */
  readonly partition: string;
  /** The longest sequence of the partition's operations that the search could linearize. */
  readonly linearizedPrefix: ReadonlyArray<Operation<Input, Output>>;
  readonly stateAfterPrefix: State;
  /** The operation that had to come next (its return was reached) but was illegal in that state. */
  readonly unplaceable: Operation<Input, Output>;
}

export type CheckResult<State, Input, Output> =
  | { readonly result: 'ok'; readonly steps: number }
  | {
      readonly result: 'illegal';
      readonly steps: number;
      readonly explanation: IllegalExplanation<State, Input, Output>;
      readonly report: string;
    }
  | { readonly result: 'unknown'; readonly steps: number; readonly report: string };

type PartitionVerdict<State, Input, Output> =
  | { readonly kind: 'ok' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'illegal'; readonly explanation: IllegalExplanation<State, Input, Output> };

interface Budget {
  readonly stepsMax: number;
  steps: number;
}

/** One event of the entry list. A call knows its return so both can be lifted out together. */
interface Entry {
  readonly kind: 'head' | 'call' | 'return';
  readonly operationIndex: number;
  readonly time: number;
  match: Entry | undefined;
  previous: Entry | undefined;
  next: Entry | undefined;
}

function newEntry(kind: Entry['kind'], operationIndex: number, time: number): Entry {
  return { kind, operationIndex, time, match: undefined, previous: undefined, next: undefined };
}

/** Builds the doubly linked entry list behind a head sentinel; at equal times calls come first. */
function buildEntryList(operations: ReadonlyArray<Operation<unknown, unknown>>): Entry {
  const entries = operations.flatMap((operation, index) => {
    const call = newEntry('call', index, operation.callTime);
    call.match = newEntry('return', index, operation.returnTime);
    return [call, call.match];
  });
  const rank = (entry: Entry) => (entry.kind === 'call' ? 0 : 1);
  entries.sort((left, right) => left.time - right.time || rank(left) - rank(right) || left.operationIndex - right.operationIndex);
  const head = newEntry('head', -1, -Infinity);
  let last = head;
  for (const entry of entries) {
    last.next = entry;
    entry.previous = last;
    last = entry;
  }
  return head;
}

function unlink(entry: Entry): void {
  assert(entry.previous !== undefined);
  entry.previous.next = entry.next;
  if (entry.next !== undefined) entry.next.previous = entry.previous;
}

/** Undoes `unlink`; valid only in reverse order of unlinking (dancing links). */
function relink(entry: Entry): void {
  assert(entry.previous !== undefined);
  entry.previous.next = entry;
  if (entry.next !== undefined) entry.next.previous = entry;
}

function lift(call: Entry): void {
  assert(call.kind === 'call' && call.match !== undefined);
  unlink(call);
  unlink(call.match);
}

function unlift(call: Entry): void {
  assert(call.kind === 'call' && call.match !== undefined);
  relink(call.match);
  relink(call);
}

/** The set of linearized operations, as bits, with a string key for the memo. */
class Bitset {
  private readonly words: Uint32Array;

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  set(index: number): void {
    this.words[index >>> 5] = (this.words[index >>> 5] ?? 0) | (1 << (index & 31));
  }

  clear(index: number): void {
    this.words[index >>> 5] = (this.words[index >>> 5] ?? 0) & ~(1 << (index & 31));
  }

  key(): string {
    return this.words.join(',');
  }
}

/** The (linearized set, state) pairs already explored. */
class Visited<State> {
  private readonly statesByKey = new Map<string, State[]>();

  constructor(private readonly model: Model<State, unknown, unknown>) {}

  /** Adds the pair and returns true, or returns false if it was already there. */
  add(linearized: Bitset, state: State): boolean {
    const key = `${linearized.key()}|${this.model.hash(state)}`;
    const states = this.statesByKey.get(key);
    if (states === undefined) {
      this.statesByKey.set(key, [state]);
      return true;
    }
    if (states.some((seen) => this.model.equal(seen, state))) return false;
    states.push(state);
    return true;
  }
}

/** The depth-first search over one partition; `run` is called once. */
class PartitionSearch<State, Input, Output> {
  private readonly head: Entry;
  private readonly linearized: Bitset;
  private readonly visited: Visited<State>;
  /** The calls placed so far, in linearization order, each with the state before it. */
  private readonly placed: Array<{ readonly call: Entry; readonly stateBefore: State }> = [];
  private state: State;
  private completedRemaining: number;
  private deepest: IllegalExplanation<State, Input, Output> | undefined;

  constructor(
    private readonly model: Model<State, Input, Output>,
    private readonly partition: Partition<Input, Output>,
  ) {
    this.head = buildEntryList(partition.operations);
    this.linearized = new Bitset(partition.operations.length);
    this.visited = new Visited(model);
    this.state = model.init();
    this.completedRemaining = partition.operations.filter((operation) => !isPending(operation)).length;
    this.visited.add(this.linearized, this.state);
  }

  run(budget: Budget): PartitionVerdict<State, Input, Output> {
    let entry = this.head.next;
    while (this.completedRemaining > 0) {
      if (budget.steps >= budget.stepsMax) return { kind: 'unknown' };
      budget.steps += 1;
      // A completed operation returns at a finite time, so its return lies before the list's end.
      assert(entry !== undefined && entry.kind !== 'head', 'the search ran past the last return');
      if (entry.kind === 'call') {
        entry = this.tryToPlace(entry) ? this.head.next : entry.next;
        continue;
      }
      // The first return in the list belongs to an operation not yet placed: a dead end.
      this.noteDeadEnd(entry);
      const call = this.backtrack();
      if (call === undefined) {
        assert(this.deepest !== undefined);
        return { kind: 'illegal', explanation: this.deepest };
      }
      entry = call.next;
    }
    return { kind: 'ok' };
  }

  private operationAt(index: number): Operation<Input, Output> {
    const operation = this.partition.operations[index];
    assert(operation !== undefined, `operation ${index} is not in ${this.partition.label}`);
    return operation;
  }

  /** Linearizes the call's operation next, unless that is illegal or leads somewhere already seen. */
  private tryToPlace(call: Entry): boolean {
    const operation = this.operationAt(call.operationIndex);
    const outcome = this.model.step(this.state, operation.input, operation.output);
    if (!outcome.ok) return false;
    this.linearized.set(call.operationIndex);
    if (!this.visited.add(this.linearized, outcome.next)) {
      this.linearized.clear(call.operationIndex);
      return false;
    }
    this.placed.push({ call, stateBefore: this.state });
    this.state = outcome.next;
    lift(call);
    if (!isPending(operation)) this.completedRemaining -= 1;
    return true;
  }

  /** Undoes the last placement and returns its call, or returns undefined when none is left. */
  private backtrack(): Entry | undefined {
    const last = this.placed.pop();
    if (last === undefined) return undefined;
    unlift(last.call);
    this.linearized.clear(last.call.operationIndex);
    this.state = last.stateBefore;
    if (!isPending(this.operationAt(last.call.operationIndex))) this.completedRemaining += 1;
    return last.call;
  }

  /** Keeps the dead end with the longest linearized prefix, to explain an 'illegal' verdict. */
  private noteDeadEnd(blockedReturn: Entry): void {
    if (this.deepest !== undefined && this.placed.length <= this.deepest.linearizedPrefix.length) return;
    this.deepest = {
      partition: this.partition.label,
      linearizedPrefix: this.placed.map(({ call }) => this.operationAt(call.operationIndex)),
      stateAfterPrefix: this.state,
      unplaceable: this.operationAt(blockedReturn.operationIndex),
    };
  }
}

function formatOperation<Input, Output>(model: Model<unknown, Input, Output>, operation: Operation<Input, Output>): string {
  const returned = isPending(operation) ? 'never returned' : `returned at ${operation.returnTime}`;
  const described = model.describeOperation(operation.input, operation.output);
  return `client ${operation.clientId} ${described} (called at ${operation.callTime}, ${returned})`;
}

function formatIllegal<State, Input, Output>(
  model: Model<State, Input, Output>,
  explanation: IllegalExplanation<State, Input, Output>,
): string {
  const prefix = explanation.linearizedPrefix;
  return [
    `${explanation.partition}: the history is not linearizable.`,
    `Longest linearizable prefix (${prefix.length} operations), in linearization order:`,
    ...prefix.map((operation, index) => `  ${index + 1}. ${formatOperation(model, operation)}`),
    `State after the prefix: ${model.describeState(explanation.stateAfterPrefix)}`,
    `Cannot place: ${formatOperation(model, explanation.unplaceable)}; it is illegal after every linearizable order of the operations called before it returned.`,
  ].join('\n');
}

/**
 * Checks `history` against `model`. Returns 'ok' if it is linearizable, 'illegal' with an
 * explanation if it is not, and 'unknown' if the search exceeded `budgetSteps`; it never runs longer.
 * Throws if the history is malformed (see `assertWellFormed`).
 */
export function checkLinearizable<State, Input, Output>(
  model: Model<State, Input, Output>,
  history: History<Input, Output>,
  options: CheckOptions = {},
): CheckResult<State, Input, Output> {
  const stepsMax = options.budgetSteps ?? checkStepsMaxDefault;
  assert(Number.isSafeInteger(stepsMax) && stepsMax > 0, `budgetSteps is ${stepsMax}; it must be a positive integer`);
  assertWellFormed(history);
  const budget: Budget = { stepsMax, steps: 0 };
  const partitions = model.partition?.(history) ?? [{ label: 'the whole history', operations: history }];
  for (const partition of partitions) {
    const verdict = new PartitionSearch(model, partition).run(budget);
    if (verdict.kind === 'illegal') {
      const report = formatIllegal(model, verdict.explanation);
      return { result: 'illegal', steps: budget.steps, explanation: verdict.explanation, report };
    }
    if (verdict.kind === 'unknown') {
      const report = `${partition.label}: gave up after budgetSteps=${stepsMax} steps; raise the budget or shorten the history.`;
      return { result: 'unknown', steps: budget.steps, report };
    }
  }
  assert(budget.steps <= stepsMax);
  return { result: 'ok', steps: budget.steps };
}
