import { dueExpiries, type MetadataCommand, type MetadataState } from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import type { Membership, NodeId, RaftStatus } from '../../raft/index.js';
import type { Clock } from '../clock.js';

export interface LeaderDutySettings {
  /** How often the leader looks for expired broker sessions and group members. */
  readonly livenessCheckIntervalMs: number;
  /**
   * A new leader fences no broker before this much time as leader: brokers could not heartbeat
   * while there was no leader, and deadlines were set by the old leader's clock. At least the
   * broker session timeout.
   */
  readonly leaderGraceMs: number;
  /** How long AddController waits for a learner to catch up before giving up. */
  readonly catchUpTimeoutMs: number;
  /** A learner within this many entries of the leader's commit index counts as caught up. */
  readonly catchUpLagEntriesMax: number;
}

export const leaderDutyDefaults: LeaderDutySettings = {
  livenessCheckIntervalMs: 250,
  leaderGraceMs: 10_000,
  catchUpTimeoutMs: 60_000,
  catchUpLagEntriesMax: 100,
};

/** What the duties need of the controller they serve. */
export interface DutyTarget {
  readonly nodeId: NodeId;
  readonly state: MetadataState;
  submit(command: MetadataCommand): Promise<unknown>;
  raftStatus(): RaftStatus;
  membership(): Membership;
  addressOf(nodeId: NodeId): string | undefined;
}

/**
 * What only the controller leader does, from its own clock: fence brokers whose sessions expired,
 * expire group members, and record every quorum member's address in the metadata. Time enters
 * the state machine only here, as `nowMs` in the commands it proposes.
 */
export class ControllerLeaderDuties {
  private cancelTimer: (() => void) | undefined;
  private leaderSinceMs = 0;
  private checking = false;

  constructor(
    private readonly target: DutyTarget,
    private readonly clock: Clock,
    private readonly settings: LeaderDutySettings,
    private readonly logger: Logger,
  ) {}

  start(term: number): void {
    this.stop();
    this.leaderSinceMs = this.clock.nowMs();
    this.logger.info({ term }, 'became controller leader');
    this.schedule();
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** Resolves once `nodeId`'s log is within catchUpLagEntriesMax of the commit index; TIMEOUT otherwise. */
  async waitUntilCaughtUp(nodeId: NodeId): Promise<void> {
    const deadlineMs = this.clock.nowMs() + this.settings.catchUpTimeoutMs;
    for (;;) {
      const status = this.target.raftStatus();
      const progress = status.progress.get(nodeId);
      if (progress !== undefined && status.commitIndex - progress.matchIndex <= this.settings.catchUpLagEntriesMax) return;
      if (status.role !== 'leader') throw new TributaryError('NOT_LEADER', `controller ${this.target.nodeId} lost leadership while controller ${nodeId} was catching up`);
      if (this.clock.nowMs() > deadlineMs) {
        throw new TributaryError('TIMEOUT', `controller ${nodeId} did not catch up within ${this.settings.catchUpTimeoutMs} ms (at ${progress?.matchIndex ?? 0} of ${status.commitIndex}); it stays a learner`);
      }
      await new Promise<void>((resolve) => this.clock.setTimer(this.settings.livenessCheckIntervalMs, resolve));
    }
  }

  private schedule(): void {
    this.cancelTimer = this.clock.setTimer(this.settings.livenessCheckIntervalMs, () => {
      // check() catches its own failures, so this chain never rejects.
      void this.check().then(() => {
        if (this.cancelTimer !== undefined) this.schedule();
      });
    });
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.registerControllers();
      const nowMs = this.clock.nowMs();
      const due = dueExpiries(this.target.state, nowMs);
      if (due.brokers && nowMs - this.leaderSinceMs >= this.settings.leaderGraceMs) await this.target.submit({ type: 'fenceExpiredBrokers', nowMs });
      if (due.groupMembers) await this.target.submit({ type: 'expireGroupMembers', nowMs });
    } catch (error) {
      // The next check retries; losing leadership ends the checks through stop().
      this.logger.warn({ err: error }, 'controller leader duty failed');
    } finally {
      this.checking = false;
    }
  }

  /** Records the address of every quorum member the metadata does not know yet (the bootstrap quorum). */
  private async registerControllers(): Promise<void> {
    const membership = this.target.membership();
    const members = [...membership.voters.map((nodeId) => ({ nodeId, role: 'voter' as const })), ...membership.learners.map((nodeId) => ({ nodeId, role: 'learner' as const }))];
    for (const { nodeId, role } of members) {
      const known = this.target.state.controllers.get(nodeId);
      const address = this.target.addressOf(nodeId);
      if (address === undefined || (known !== undefined && known.role === role)) continue;
      await this.target.submit({ type: 'registerController', nodeId, address, role });
    }
  }
}
