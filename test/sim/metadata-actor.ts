import type { MetadataCommand, MetadataState } from '../../src/controller/index.js';
import type { ProposalOutcome } from './metadata-proposer.js';
import type { Prng } from './prng.js';

/** What an actor of the metadata workload sees when it acts. */
export interface ActorContext {
  readonly random: Prng;
  readonly nowMs: number;
  /** After healing: actors only do what the liveness phase needs of them. */
  readonly liveness: boolean;
  /** Metadata as some controller has applied it, possibly behind the leader's; undefined when none is up. */
  view(): MetadataState | undefined;
  /** The controller leader's metadata; undefined while there is no leader. */
  leaderView(): MetadataState | undefined;
}

/**
 * One client of the controller in the metadata workload (a broker, the operator, a consumer, the
 * leader's clock duty). It proposes one command at a time: `next` decides it from what the actor
 * knows and sees, `settle` learns how it ended, and the actor acts again after `delayMs`. Views
 * are the live state of a controller: actors copy what they need into the command at once.
 */
export interface MetadataActor {
  readonly name: string;
  /** The command to propose now, or undefined to do nothing this time. */
  next(context: ActorContext): MetadataCommand | undefined;
  /** How the command returned by the last `next` ended; it must not propose (the workload schedules). */
  settle(command: MetadataCommand, outcome: ProposalOutcome, context: ActorContext): void;
  delayMs(random: Prng): number;
  /** What the actor still needs to do after healing, or undefined when it is done. */
  livenessPending(): string | undefined;
}

/** Counts over a run, reported in the simulation's stats. */
export interface MetadataCounters {
  /** Commands whose entry was applied (accepted or rejected by the state machine). */
  commands: number;
  rejected: number;
  /** Brokers fenced by the leader's duty for missed heartbeats. */
  brokersFenced: number;
  staleAlterPartitionsProposed: number;
  staleAlterPartitionsRejected: number;
}
