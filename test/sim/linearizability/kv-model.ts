// The key-value state machine the simulated clients run on top of Raft: string registers with
// put, get and string append. Keys are independent, so a history is checked one key at a time.
import assert from 'node:assert/strict';
import { isPending, unknownOutput, type History, type UnknownOutput } from './history.js';
import type { Model, Partition, StepResult } from './model.js';

export type KvInput =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'append'; readonly key: string; readonly value: string };

/** A get returns the value, or undefined for a key never written; put and append return undefined. */
export type KvOutput = string | undefined;

/** A map rather than one register, so that the model stays correct when checked unpartitioned. */
export type KvState = ReadonlyMap<string, string>;

function withValue(state: KvState, key: string, value: string): KvState {
  return new Map(state).set(key, value);
}

function formatOutput(output: KvOutput | UnknownOutput): string {
  if (output === unknownOutput) return '?';
  return output === undefined ? 'undefined' : JSON.stringify(output);
}

function describeOperation(input: KvInput, output: KvOutput | UnknownOutput): string {
  const key = JSON.stringify(input.key);
  if (input.kind === 'get') return `get(${key}) → ${formatOutput(output)}`;
  return `${input.kind}(${key}, ${JSON.stringify(input.value)})`;
}

function step(state: KvState, input: KvInput, output: KvOutput | UnknownOutput): StepResult<KvState> {
  if (input.kind === 'get') {
    const legal = output === unknownOutput || state.get(input.key) === output;
    return legal ? { ok: true, next: state } : { ok: false };
  }
  // A write that returned a value is a malformed history, not a linearizability violation.
  assert(output === undefined || output === unknownOutput, `${describeOperation(input, output)} returned a value; writes return nothing`);
  const value = input.kind === 'put' ? input.value : (state.get(input.key) ?? '') + input.value;
  return { ok: true, next: withValue(state, input.key, value) };
}

/**
 * One partition per key, in order of first appearance. Pending gets are dropped: they change no
 * state and constrain nothing, but would double the search space each.
 */
function partition(history: History<KvInput, KvOutput>): Array<Partition<KvInput, KvOutput>> {
  const byKey = new Map<string, Array<(typeof history)[number]>>();
  for (const operation of history) {
    if (operation.input.kind === 'get' && isPending(operation)) continue;
    const operations = byKey.get(operation.input.key) ?? [];
    operations.push(operation);
    byKey.set(operation.input.key, operations);
  }
  return [...byKey].map(([key, operations]) => ({ label: `key ${JSON.stringify(key)}`, operations }));
}

function sortedEntries(state: KvState): Array<[string, string]> {
  return [...state].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
}

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => new Map(),
  step,
  partition,
  equal: (left, right) => left.size === right.size && [...left].every(([key, value]) => right.get(key) === value),
  hash: (state) => JSON.stringify(sortedEntries(state)),
  describeOperation,
  describeState: (state) => JSON.stringify(Object.fromEntries(sortedEntries(state))),
};
