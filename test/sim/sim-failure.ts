import type { CheckerName } from './checkers/checker.js';
import { describeSwarmOptions, type SimBug, type SwarmOptions, type SwarmOverrides } from './swarm-options.js';

export type FailureClass = 'safety' | 'liveness' | 'crash';

export interface SimFailure {
  readonly failureClass: FailureClass;
  /**
   * The checker that fired; 'liveness' for the liveness bound, 'livelock' for virtual time that
   * stopped advancing, 'exception' for a throw from the core or the host.
   */
  readonly checker: CheckerName | 'liveness' | 'livelock' | 'exception';
  readonly message: string;
  readonly atMs: number;
}

/** Thrown from deep inside a run when a checker fires, to stop it at once. */
export class CheckerViolation extends Error {
  constructor(
    readonly checker: CheckerName,
    message: string,
  ) {
    super(message);
  }
}

/** The command that replays a run: the seed, the bug, and the knobs a test pinned (`--swarm`). */
export function reproduceCommand(seed: number, bug: SimBug | undefined, overrides: SwarmOverrides = {}): string {
  const pinned = Object.entries(overrides).map(([name, value]) => `${name}=${String(value)}`).join(',');
  return `npm run sim -- --seed ${seed} --trace${bug === undefined ? '' : ` --bug ${bug}`}${pinned === '' ? '' : ` --swarm ${pinned}`}`;
}

/** The report of a failed run: class, checker, seed and bug on the first line, then how to replay. */
export function formatFailure(seed: number, bug: SimBug | undefined, options: SwarmOptions, failure: SimFailure, overrides: SwarmOverrides = {}): string {
  return [
    `FAIL ${failure.failureClass} ${failure.checker} seed=${seed} bug=${bug ?? 'none'} at ${failure.atMs}ms: ${failure.message}`,
    `  swarm: ${describeSwarmOptions(options)}`,
    `  reproduce with: ${reproduceCommand(seed, bug, overrides)}`,
  ].join('\n');
}
