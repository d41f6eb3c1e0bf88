import type {
  AssignmentForMember, GroupHeartbeatOutput, JoinGroupOutput, MetadataCommand, MetadataState, OffsetCommit, SyncGroupOutput,
} from '../../src/controller/index.js';
import type { ActorContext, MetadataActor } from './metadata-actor.js';
import type { ProposalOutcome } from './metadata-proposer.js';
import type { Prng } from './prng.js';

/** The group coordinator's bounds: a session of at least 1 s (metadataLimits.groupSessionTimeoutMsMin). */
const sessionTimeoutMs = 1_500;
const rebalanceTimeoutMs = 2_000;
/** Partitions one commit names at most. */
const offsetsPerCommitMax = 2;
const noBytes = new Uint8Array(0);

/** Rejections after which the member must join again, with its member id or without it. */
const rejoinCodes: ReadonlySet<string> = new Set(['ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']);
const forgottenCodes: ReadonlySet<string> = new Set(['UNKNOWN_MEMBER', 'FENCED']);

type Phase = 'join' | 'sync' | 'member';

/**
 * A consumer in a group, through the group coordinator: joins (a static member now and then),
 * syncs (as the generation's leader it assigns the topics' partitions round robin), then
 * heartbeats, commits offsets at the current generation and sometimes leaves. Rebalances, expiry
 * by the leader's duty and stale generations send it back to joining. It rests after healing.
 */
export class SimConsumer implements MetadataActor {
  readonly name: string;
  private phase: Phase = 'join';
  private memberId = '';
  private generation = 0;
  private leads = false;
  private offsetNext = 0;

  constructor(
    private readonly slot: number,
    private readonly groupId: string,
    private readonly staticMember: boolean,
  ) {
    this.name = `consumer ${slot}`;
  }

  next(context: ActorContext): MetadataCommand | undefined {
    if (context.liveness) return undefined;
    const { nowMs, random } = context;
    const { groupId, memberId, generation } = this;
    if (this.phase === 'join') return this.join(nowMs);
    if (this.phase === 'sync') return { type: 'syncGroup', groupId, memberId, generation, assignments: this.leads ? this.assign(context.view()) : [], nowMs };
    const draw = random.nextFloat();
    if (draw < 0.05) return { type: 'leaveGroup', groupId, members: [{ memberId, groupInstanceId: this.instanceId() }], nowMs };
    const offsets = draw < 0.5 ? this.offsets(context.view(), random) : [];
    if (offsets.length > 0) return { type: 'commitOffsets', groupId, memberId, generation, offsets, nowMs };
    return { type: 'groupHeartbeat', groupId, memberId, generation, nowMs };
  }

  settle(command: MetadataCommand, outcome: ProposalOutcome): void {
    if (outcome.kind !== 'applied') return;
    const { result } = outcome;
    if (!result.ok) {
      if (forgottenCodes.has(result.code)) this.memberId = '';
      if (forgottenCodes.has(result.code) || rejoinCodes.has(result.code)) this.phase = 'join';
      return;
    }
    if (command.type === 'joinGroup') this.joined(result.value as JoinGroupOutput);
    if (command.type === 'syncGroup' && (result.value as SyncGroupOutput).completed) this.phase = 'member';
    if (command.type === 'groupHeartbeat' && (result.value as GroupHeartbeatOutput).rebalanceInProgress) this.phase = 'join';
    if (command.type === 'leaveGroup') [this.memberId, this.phase] = ['', 'join'];
  }

  delayMs(random: Prng): number {
    return random.range(50, sessionTimeoutMs / 2);
  }

  livenessPending(): undefined {
    return undefined;
  }

  private instanceId(): string {
    return this.staticMember ? `instance-${this.slot}` : '';
  }

  private join(nowMs: number): MetadataCommand {
    return {
      type: 'joinGroup',
      groupId: this.groupId,
      memberId: this.memberId,
      groupInstanceId: this.instanceId(),
      clientId: `consumer-${this.slot}`,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: noBytes }],
      nowMs,
    };
  }

  /** A join that has not completed is the long poll of a real client: it asks again next time. */
  private joined(output: JoinGroupOutput): void {
    this.memberId = output.memberId;
    this.generation = output.generation;
    this.leads = output.leaderMemberId === output.memberId;
    if (output.completed) this.phase = 'sync';
  }

  /** Every partition of every topic in view, dealt round robin to the group's members in id order. */
  private assign(view: MetadataState | undefined): AssignmentForMember[] {
    const known = [...(view?.groups.get(this.groupId)?.members.keys() ?? [])];
    const memberIds = (known.length === 0 ? [this.memberId] : known).sort();
    const assignments = memberIds.map((memberId): AssignmentForMember => ({ memberId, partitions: [], userData: noBytes }));
    let dealt = 0;
    for (const topic of view?.topics.values() ?? []) {
      for (const { partition } of topic.partitions) {
        const assignment = assignments[dealt++ % assignments.length] as AssignmentForMember;
        const entry = assignment.partitions.find((candidate) => candidate.topic === topic.name);
        if (entry === undefined) assignment.partitions.push({ topic: topic.name, partitions: [partition] });
        else entry.partitions.push(partition);
      }
    }
    return assignments;
  }

  private offsets(view: MetadataState | undefined, random: Prng): OffsetCommit[] {
    const partitions = [...(view?.topics.values() ?? [])].flatMap((topic) => topic.partitions.map((partition) => ({ topic: topic.name, partition })));
    return random.shuffle(partitions).slice(0, offsetsPerCommitMax).map(({ topic, partition }) => ({
      topic,
      partition: partition.partition,
      offset: ++this.offsetNext,
      leaderEpoch: partition.leaderEpoch,
      metadata: '',
    }));
  }
}
