import type { SupervisedChild } from './supervised-child.js';

/**
 * When a child that ended is started again, with the meanings of Erlang/OTP: `permanent` always,
 * `transient` only after a crash (a normal exit is final), `temporary` never.
 */
export type RestartPolicy = 'permanent' | 'transient' | 'temporary';

/** How to start one child, and again after it ends; the supervisor calls `start` once per (re)start. */
export interface ChildSpec {
  /** Unique among the supervisor's children; names the child in logs, errors and `children()`. */
  readonly id: string;
  readonly restart: RestartPolicy;
  /** Starts the child; a rejected start counts as a crash. */
  start(): Promise<SupervisedChild>;
}
