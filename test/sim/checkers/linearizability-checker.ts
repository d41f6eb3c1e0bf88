import { checkLinearizable } from '../linearizability/check-linearizable.js';
import { kvModel } from '../linearizability/kv-model.js';
import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';

/** Search steps for one run's history; past it the verdict is 'unknown', which passes but is counted. */
export const linearizabilityBudgetSteps = 200_000;

export interface LinearizabilityCounters {
  checked: number;
  unknown: number;
}

/** The client history of the key-value store is linearizable (Porcupine-style search). */
export function createLinearizability(counters: LinearizabilityCounters, budgetSteps = linearizabilityBudgetSteps): Checker {
  return {
    name: 'linearizability',
    observe(observation: Observation): string | undefined {
      if (observation.kind !== 'history') return undefined;
      const verdict = checkLinearizable(kvModel, observation.history, { budgetSteps });
      counters.checked++;
      if (verdict.result === 'unknown') counters.unknown++;
      return verdict.result === 'illegal' ? verdict.report : undefined;
    },
  };
}
