import type { Logger } from '../../observability/index.js';
import type { Clock } from '../clock.js';

/** How a supervisor restarts its children and when it gives up (docs/SUPERVISION.md). */
export interface SupervisorOptions {
  /** Names the supervisor in logs and errors. */
  readonly name: string;
  /** Every delay (backoff, stop timeout, the healthy-run reset) goes through it. */
  readonly clock: Clock;
  /** Jitter of the backoff; same shape as the Raft core's Random, so the simulator can seed it. */
  readonly random: { nextInt(maxExclusive: number): number };
  readonly logger: Logger;
  /** R: restarts allowed within restartWindowMs; the next one escalates. 0 escalates on the first crash. */
  readonly restartsMax: number;
  /** T: the sliding window, over the whole supervisor, in which restarts are counted. */
  readonly restartWindowMs: number;
  /** Delay before the first restart; it doubles per consecutive crash of that child, with jitter. */
  readonly backoffMsMin: number;
  /** The backoff stops doubling here. */
  readonly backoffMsMax: number;
  /** A child that does not stop in time is abandoned and logged, so one stuck child cannot hold up a shutdown. */
  readonly stopTimeoutMs: number;
  /** Children at once; startChild beyond it fails with RESOURCE_EXHAUSTED. */
  readonly childrenMax: number;
  /**
   * Called once when more than restartsMax restarts happen within restartWindowMs: by then the
   * supervisor has stopped all its children and itself.
   */
  readonly onEscalate: (error: Error) => void;
}

/**
 * The numbers we recommend (docs/SUPERVISION.md says why). Five restarts in 30 s tolerates a short
 * burst of failures (a disk hiccup, a controller election) yet gives up on a child that cannot run;
 * backoff from 100 ms to 10 s keeps a crash loop from burning CPU while still restarting a child
 * that failed once almost at once.
 */
export const supervisorDefaults = {
  restartsMax: 5,
  restartWindowMs: 30_000,
  backoffMsMin: 100,
  backoffMsMax: 10_000,
  stopTimeoutMs: 5_000,
  childrenMax: 100_000,
} as const satisfies Partial<SupervisorOptions>;
