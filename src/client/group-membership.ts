import { TributaryError } from '../errors/index.js';
import { backoffDelayMs, type GroupCoordinatorClient, type GroupMemberIdentity, type JoinGroupResult, type TopicPartitions } from '../rpc/clients/index.js';
import type { PartitionAssignor } from './assignors.js';
import { OffsetTracker, type PartitionOffset } from './offset-tracker.js';

/** What a member talks to: the controllers' GroupCoordinatorService (the wire client by default). */
export type GroupCoordinatorLink = Pick<GroupCoordinatorClient, 'joinGroup' | 'syncGroup' | 'heartbeat' | 'leaveGroup' | 'commitOffsets' | 'fetchOffsets' | 'close'>;

/**
 * A member's states. `rejoinRequired` still owns its partitions (it may commit them) until it
 * joins again; `lost` owns nothing: the coordinator removed it or moved on without it, so
 * nothing it processed since its last commit can be committed.
 */
export type MembershipState = 'unjoined' | 'joining' | 'syncing' | 'stable' | 'rejoinRequired' | 'lost' | 'leaving' | 'left';

/** The allowed transitions; any other is a bug and throws. */
const transitions: Readonly<Record<MembershipState, readonly MembershipState[]>> = {
  unjoined: ['joining', 'leaving'],
  joining: ['syncing', 'rejoinRequired', 'lost', 'leaving'],
  syncing: ['stable', 'rejoinRequired', 'lost', 'leaving'],
  stable: ['rejoinRequired', 'lost', 'leaving'],
  rejoinRequired: ['joining', 'lost', 'leaving'],
  lost: ['joining', 'leaving'],
  leaving: ['left'],
  left: [],
};

/** Join and sync rounds one `join()` makes before giving up: rebalances that keep restarting, or a coordinator that keeps failing. */
export const joinAttemptsMax = 20;

export interface MembershipSettings {
  groupId: string;
  topics: readonly string[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** In order of preference; the coordinator picks the first every member supports. */
  assignors: readonly PartitionAssignor[];
  backoffMsMin: number;
  backoffMsMax: number;
  random: () => number;
}

/** One completed generation as this member sees it. */
export interface JoinedGeneration {
  generation: number;
  memberId: string;
  leaderMemberId: string;
  partitions: Array<{ topic: string; partition: number }>;
  /** The chosen assignor's protocol: how the member gives partitions up in the next rebalance. */
  protocol: PartitionAssignor['protocol'];
}

/** Partition counts of the subscribed topics that exist, for the leader's assignor. */
export type PartitionCounts = (topics: readonly string[]) => Promise<Map<string, number>>;

/**
 * One consumer's membership in a group, Kafka's classic (eager) protocol: join, the leader assigns
 * with the assignor the coordinator chose, sync, heartbeat, rejoin when told, leave. The states and
 * their transitions are explicit (`transitions`); the host (GroupRun) drives the calls and owns
 * the timers, so a test drives every step against a scripted coordinator.
 */
export class GroupMembership {
  private current: MembershipState = 'unjoined';
  private memberId = '';
  private generation = 0;
  /** The generation of the last assignment this member received: what its owned partitions are from. */
  private assignedGeneration = 0;
  /** When the coordinator last confirmed this member's session (a heartbeat or a sync answered). */
  private sessionConfirmedAtMs = 0;
  private leaveSent = false;

  constructor(
    private readonly settings: MembershipSettings,
    private readonly coordinator: GroupCoordinatorLink,
    private readonly partitionCounts: PartitionCounts,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly nowMs: () => number = Date.now,
  ) {
    if (settings.assignors.length === 0) throw new TributaryError('INVALID_REQUEST', `group "${settings.groupId}": at least one partition assignor is needed`);
  }

  get state(): MembershipState {
    return this.current;
  }

  /** Whether the member must (re)join before it may consume. */
  get needsJoin(): boolean {
    return this.current === 'unjoined' || this.current === 'rejoinRequired' || this.current === 'lost';
  }

  get identity(): GroupMemberIdentity {
    return { groupId: this.settings.groupId, generation: this.generation, memberId: this.memberId };
  }

  /**
   * Joins (again) until a generation is stable, and answers this member's partitions; undefined
   * when `leave()` was called meanwhile. REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION and
   * UNKNOWN_MEMBER (with a new member id) rejoin at once; unavailability backs off; anything else
   * (FENCED, INVALID_REQUEST, …) is thrown.
   */
  async join(owned: ReadonlyArray<{ topic: string; partition: number }> = []): Promise<JoinedGeneration | undefined> {
    let lastError: TributaryError | undefined;
    for (let attempt = 1; attempt <= joinAttemptsMax; attempt++) {
      if (this.isLeaving()) return undefined;
      this.moveTo('joining');
      try {
        const joined = await this.joinAndSync(owned);
        if (joined !== undefined || this.isLeaving()) return joined;
      } catch (error) {
        lastError = TributaryError.from(error);
        if (this.isLeaving()) return undefined;
        this.afterFailedJoin(lastError);
        if (lastError.retriable && lastError.code !== 'REBALANCE_IN_PROGRESS') await this.sleep(backoffDelayMs(attempt, this.settings, this.settings.random));
      }
    }
    throw new TributaryError('NOT_AVAILABLE', `group "${this.settings.groupId}": no stable generation after ${joinAttemptsMax} join attempts: ${lastError?.message ?? 'none failed'}`, { cause: lastError });
  }

  private async joinAndSync(owned: ReadonlyArray<{ topic: string; partition: number }>): Promise<JoinedGeneration | undefined> {
    const { groupId, topics, sessionTimeoutMs, rebalanceTimeoutMs, assignors } = this.settings;
    // What it owns is offered only under the member id it was owned by, with the generation it was
    // assigned in. An eager member owns nothing when it joins: its metadata stays the same from one join to the next.
    const offered = this.memberId === '' ? [] : owned;
    const subscription = { topics: [...topics], ownedPartitions: groupedByTopic(offered), ownedGeneration: offered.length === 0 ? 0 : this.assignedGeneration };
    const joined = await this.coordinator.joinGroup({
      groupId, memberId: this.memberId, sessionTimeoutMs, rebalanceTimeoutMs, protocolType: 'consumer', protocols: assignors.map((assignor) => ({ name: assignor.name })), subscription,
    });
    this.memberId = joined.memberId;
    this.generation = joined.generation;
    if (this.isLeaving()) {
      await this.sendLeave();
      return undefined;
    }
    this.moveTo('syncing');
    const assignments = joined.leaderMemberId === joined.memberId ? await this.assign(joined) : undefined;
    const synced = await this.coordinator.syncGroup({
      groupId, generation: joined.generation, memberId: joined.memberId, protocolType: 'consumer', protocolName: joined.protocolName, assignments, rebalanceTimeoutMs,
    });
    if (this.isLeaving()) return undefined;
    this.moveTo('stable');
    this.assignedGeneration = joined.generation;
    this.sessionConfirmedAtMs = this.nowMs();
    const partitions = synced.partitions.flatMap((entry) => entry.partitions.map((partition) => ({ topic: entry.topic, partition })));
    return { generation: joined.generation, memberId: joined.memberId, leaderMemberId: joined.leaderMemberId, partitions, protocol: this.assignorOf(joined).protocol };
  }

  private assignorOf(joined: JoinGroupResult): PartitionAssignor {
    const assignor = this.settings.assignors.find((candidate) => candidate.name === joined.protocolName);
    if (assignor === undefined) throw new TributaryError('INVALID_REQUEST', `group "${this.settings.groupId}" chose assignor "${joined.protocolName}", which this member does not offer`);
    return assignor;
  }

  /** The leader's part: every member's partitions from the chosen assignor. */
  private async assign(joined: JoinGroupResult): Promise<Array<{ memberId: string; partitions: TopicPartitions[] }>> {
    const members = joined.members.map(({ memberId, subscription }) => ({ memberId, topics: subscription.topics, ownedPartitions: subscription.ownedPartitions, ownedGeneration: subscription.ownedGeneration }));
    const counts = await this.partitionCounts([...new Set(members.flatMap((member) => member.topics))]);
    return [...this.assignorOf(joined).assign(members, counts)].map(([memberId, partitions]) => ({ memberId, partitions }));
  }

  private afterFailedJoin(error: TributaryError): void {
    if (error.code === 'UNKNOWN_MEMBER') this.memberId = '';
    if (!error.retriable && !['UNKNOWN_MEMBER', 'ILLEGAL_GENERATION'].includes(error.code)) throw error;
    this.moveTo('lost');
  }

  /** A cooperative member that gave partitions up rejoins at once, so the partitions reach their new owners. */
  requestRejoin(): void {
    if (this.current === 'stable') this.moveTo('rejoinRequired');
  }

  /** One heartbeat while the member owns partitions; a rebalance or fencing it learns of marks the member to rejoin. */
  async heartbeat(): Promise<void> {
    if (!this.ownsPartitions()) return;
    const identity = this.identity;
    try {
      const answer = await this.coordinator.heartbeat(identity);
      if (this.generation === identity.generation) this.sessionConfirmedAtMs = this.nowMs();
      if (answer.rebalanceInProgress && this.current === 'stable' && this.generation === identity.generation) this.moveTo('rejoinRequired');
    } catch (error) {
      this.noteFencing(identity, TributaryError.from(error));
      this.noteSilence(identity);
    }
  }

  /**
   * A member whose heartbeats have all failed for a session timeout must assume the coordinator
   * removed it and gave its partitions to others (it cannot hear that it did): it stops owning them
   * at once, so two members do not read one partition, and rejoins once the coordinator answers.
   */
  private noteSilence(identity: GroupMemberIdentity): void {
    if (!this.ownsPartitions() || identity.generation !== this.generation) return;
    if (this.nowMs() - this.sessionConfirmedAtMs >= this.settings.sessionTimeoutMs) this.moveTo('lost');
  }

  /**
   * Commits as this member and generation. A commit the coordinator fences (ILLEGAL_GENERATION,
   * UNKNOWN_MEMBER, REBALANCE_IN_PROGRESS) is thrown with that code and the member rejoins; a
   * partition's own failure is thrown naming it.
   */
  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const identity = this.identity;
    let outcomes;
    try {
      outcomes = await this.coordinator.commitOffsets(identity, OffsetTracker.toCommits(offsets));
    } catch (error) {
      const failure = TributaryError.from(error);
      this.noteFencing(identity, failure);
      throw new TributaryError(failure.code, `group "${identity.groupId}": the commit of member "${identity.memberId}" at generation ${identity.generation} was refused: ${failure.message}`, {
        retriable: failure.retriable, cause: failure,
      });
    }
    const failed = outcomes.find((outcome) => outcome.error !== undefined);
    if (failed?.error !== undefined) {
      throw new TributaryError(failed.error.code, `group "${identity.groupId}": partition ${failed.topic}-${failed.partition} was not committed: ${failed.error.message}`, { retriable: failed.error.retriable });
    }
  }

  /**
   * What the coordinator's membership errors mean for this member. An answer about an identity the
   * member has moved on from (it joined again meanwhile) is stale and changes nothing; so do
   * FENCED and other errors.
   */
  private noteFencing(identity: GroupMemberIdentity, error: TributaryError): void {
    if (!this.ownsPartitions() || identity.generation !== this.generation || identity.memberId !== this.memberId) return;
    if (error.code === 'UNKNOWN_MEMBER') {
      this.memberId = '';
      this.moveTo('lost');
    } else if (error.code === 'ILLEGAL_GENERATION') {
      this.moveTo('lost');
    } else if (error.code === 'REBALANCE_IN_PROGRESS' && this.current === 'stable') {
      this.moveTo('rejoinRequired');
    }
  }

  /** Stable, or told to rejoin but not yet joining: the member still owns its partitions. */
  ownsPartitions(): boolean {
    return this.current === 'stable' || this.current === 'rejoinRequired';
  }

  /** Leaves the group (once); a member still waiting for its first member id leaves when its join answers. */
  async leave(): Promise<void> {
    if (this.current === 'left') return;
    if (this.current !== 'leaving') this.moveTo('leaving');
    if (this.memberId !== '') await this.sendLeave();
  }

  /** After the last call: no more transitions. */
  finishLeaving(): void {
    if (this.current === 'leaving') this.moveTo('left');
  }

  private async sendLeave(): Promise<void> {
    if (this.leaveSent || this.memberId === '') return;
    this.leaveSent = true;
    // UNKNOWN_MEMBER here means the coordinator already removed the member: the goal is met.
    await this.coordinator.leaveGroup(this.settings.groupId, [{ memberId: this.memberId, reason: 'the consumer stopped' }]);
  }

  private isLeaving(): boolean {
    return this.current === 'leaving' || this.current === 'left';
  }

  private moveTo(next: MembershipState): void {
    if (!transitions[this.current].includes(next)) throw new Error(`group membership: illegal transition ${this.current} -> ${next}`);
    this.current = next;
  }
}

function groupedByTopic(partitions: ReadonlyArray<{ topic: string; partition: number }>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const numbers = byTopic.get(topic);
    if (numbers === undefined) byTopic.set(topic, [partition]);
    else numbers.push(partition);
  }
  return [...byTopic].map(([topic, numbers]) => ({ topic, partitions: numbers }));
}
