/**
 * A worker thread of `npm run sim`: runs every `stride`-th seed of a range and posts one message
 * per seed (the failure report, if any), so seeds run in parallel yet each run stays deterministic.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { formatFailure } from './sim-failure.js';
import { runSimulation, type SimulationStats } from './simulation.js';
import type { SimBug, SwarmOverrides } from './swarm-options.js';

export interface WorkerTask {
  readonly from: number;
  readonly count: number;
  readonly offset: number;
  readonly stride: number;
  readonly bug: SimBug | undefined;
  readonly overrides: SwarmOverrides;
}

export interface WorkerResult {
  readonly seed: number;
  readonly report: string | undefined;
  readonly stats: SimulationStats;
}

const task = workerData as WorkerTask;
for (let seed = task.from + task.offset; seed < task.from + task.count; seed += task.stride) {
  const result = runSimulation(seed, { bug: task.bug, overrides: task.overrides });
  const report = result.failure === undefined ? undefined : formatFailure(seed, task.bug, result.options, result.failure, task.overrides);
  parentPort?.postMessage({ seed, report, stats: result.stats } satisfies WorkerResult);
}
