import { TributaryError } from '../../src/errors/index.js';
import type { ConfChange, RaftStatus } from '../../src/raft/raft-types.js';
import type { Prng } from './prng.js';
import type { SimHost } from './sim-host.js';
import type { Trace } from './trace.js';

/** The cluster is kept at this many voters or more, except for the occasional dip below. */
export const votersPreferredMin = 3;
/** Chance that a step removes a voter even though that leaves fewer than votersPreferredMin. */
const belowPreferredRemovalRate = 0.1;
/** Chance that a step gives up on a learner that has not caught up, removing it instead. */
const learnerRemovalRate = 0.1;

export interface MembershipContext {
  readonly random: Prng;
  readonly trace: Trace;
  readonly now: () => number;
  /** The running node that leads in the highest term, if any. */
  readonly leader: () => SimHost | undefined;
  /** Creates and starts a host for a new node id (empty membership: it joins through the leader). */
  readonly spawn: (nodeId: number) => SimHost;
  readonly host: (nodeId: number) => SimHost | undefined;
}

/**
 * The operator: changes membership one server at a time through the leader. A new node (a fresh id,
 * never reused) joins as a learner, is promoted once it has caught up with the commit index, and
 * voters are removed now and then, the leader included. The core refuses a change while another
 * is pending; that refusal is expected and only traced.
 */
export class MembershipDriver {
  private spareIndex = 0;

  constructor(
    private readonly spareIds: readonly number[],
    private readonly context: MembershipContext,
  ) {}

  /** A node id was added somewhere: the next join uses the next spare id. */
  noteAdded(nodeId: number): void {
    if (this.spareIds[this.spareIndex] === nodeId) this.spareIndex++;
  }

  step(): void {
    const leader = this.context.leader();
    if (leader === undefined) return;
    const change = this.chooseChange(leader.status());
    if (change === undefined) return;
    if (change.type === 'addLearner' && this.context.host(change.nodeId) === undefined) this.context.spawn(change.nodeId);
    try {
      const ticket = leader.proposeConfChange(change);
      this.context.trace.log(this.context.now(), () => `membership: node ${leader.id} proposed ${change.type} ${change.nodeId} at ${ticket.term}/${ticket.index}`);
    } catch (error) {
      if (!(error instanceof TributaryError)) throw error;
      this.context.trace.log(this.context.now(), () => `membership: ${change.type} ${change.nodeId} refused: ${error.code} ${error.message}`);
    }
  }

  private chooseChange(status: RaftStatus): ConfChange | undefined {
    const { voters, learners } = status.membership;
    const random = this.context.random;
    const learner = learners[0];
    if (learner !== undefined) {
      const matchIndex = status.progress.get(learner)?.matchIndex ?? 0;
      if (matchIndex >= status.commitIndex) return { type: 'promoteLearner', nodeId: learner };
      return random.chance(learnerRemovalRate) ? { type: 'removeNode', nodeId: learner } : undefined;
    }
    const spare = this.spareIds[this.spareIndex];
    if (spare !== undefined && (voters.length < votersPreferredMin || random.chance(0.3))) return { type: 'addLearner', nodeId: spare };
    const removable = voters.length > votersPreferredMin || (voters.length > 1 && random.chance(belowPreferredRemovalRate));
    return removable ? { type: 'removeNode', nodeId: random.pick(voters) } : undefined;
  }
}
