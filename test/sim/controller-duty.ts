import { dueExpiries, type FenceExpiredBrokersOutput, type MetadataCommand } from '../../src/controller/index.js';
import type { ActorContext, MetadataActor, MetadataCounters } from './metadata-actor.js';
import type { ProposalOutcome } from './metadata-proposer.js';

/**
 * What only the controller leader does, from its clock (actors/metadata-controller's leader
 * duties): when its metadata shows a broker session or a group member past its deadline, it
 * proposes fenceExpiredBrokers or expireGroupMembers with the virtual time as `nowMs`. Unlike the
 * real leader it does not wait out a grace period after an election: fencing brokers that could
 * not heartbeat while there was no leader moves more leaderships, which is what the checkers want.
 */
export class ControllerDuty implements MetadataActor {
  readonly name = 'controller duty';

  constructor(
    private readonly intervalMs: number,
    private readonly counters: MetadataCounters,
  ) {}

  next(context: ActorContext): MetadataCommand | undefined {
    const view = context.leaderView();
    if (view === undefined) return undefined;
    const due = dueExpiries(view, context.nowMs);
    if (due.brokers) return { type: 'fenceExpiredBrokers', nowMs: context.nowMs };
    return due.groupMembers ? { type: 'expireGroupMembers', nowMs: context.nowMs } : undefined;
  }

  /** A duty that did not get through is proposed again by the next check, if still due. */
  settle(command: MetadataCommand, outcome: ProposalOutcome): void {
    if (command.type !== 'fenceExpiredBrokers' || outcome.kind !== 'applied' || !outcome.result.ok) return;
    this.counters.brokersFenced += (outcome.result.value as FenceExpiredBrokersOutput).fencedBrokerIds.length;
  }

  delayMs(): number {
    return this.intervalMs;
  }

  livenessPending(): undefined {
    return undefined;
  }
}
