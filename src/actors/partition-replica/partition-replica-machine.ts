import { assign, fromPromise, setup } from 'xstate';
import type { PartitionInfo } from '../../rpc/clients/index.js';
import type { PartitionLog } from '../../storage/index.js';
import type { PartitionLeader } from './partition-leader.js';

/** A partition's assignment as the metadata says, with the topic setting the leader needs. */
export interface ReplicaAssignment {
  readonly topicId: string;
  readonly partition: PartitionInfo;
  readonly minInSyncReplicas: number;
}

/** What the machine asks of the world; PartitionReplica supplies it. */
export interface PartitionReplicaEffects {
  readonly brokerId: number;
  openLog(): Promise<PartitionLog>;
  lead(log: PartitionLog, assignment: ReplicaAssignment): PartitionLeader;
  /** Starts fetching from the assignment's leader into `log`. */
  follow(log: PartitionLog, assignment: ReplicaAssignment): void;
  /** Stops fetching; appends already started may still be running (the machine waits for them in `settling`). */
  unfollow(): void;
}

export interface PartitionReplicaContext {
  readonly effects: PartitionReplicaEffects;
  /** The newest assignment seen; older leader epochs are ignored. */
  assignment: ReplicaAssignment;
  log: PartitionLog | undefined;
  leader: PartitionLeader | undefined;
  /** Why opening the log failed, in `failed`. */
  failure: unknown;
}

export type PartitionReplicaEvent = { type: 'assigned'; assignment: ReplicaAssignment } | { type: 'removed' };

const isNewer = ({ context, event }: { context: PartitionReplicaContext; event: PartitionReplicaEvent }) =>
  event.type === 'assigned' && event.assignment.partition.leaderEpoch >= context.assignment.partition.leaderEpoch;
const leadsNow = ({ context }: { context: PartitionReplicaContext }) => context.assignment.partition.leader === context.effects.brokerId;
const followsNow = ({ context }: { context: PartitionReplicaContext }) => {
  const { leader, replicas } = context.assignment.partition;
  return leader !== 0 && leader !== context.effects.brokerId && replicas.includes(context.effects.brokerId);
};
/** The same leader epoch with this broker still leading: only the ISR may have changed. */
const sameLeadership = ({ context, event }: { context: PartitionReplicaContext; event: PartitionReplicaEvent }) =>
  event.type === 'assigned' && context.leader !== undefined && event.assignment.partition.leader === context.effects.brokerId
  && event.assignment.partition.leaderEpoch === context.leader.leaderEpoch;

/**
 * One hosted partition's role, driven by metadata (DESIGN.md §8): `opening` its log, then
 * `leading` (a PartitionLeader for the leader epoch), `following` (fetching from the broker that
 * leads) or `offline` (nobody leads), with `settling` between a role and the next; `removed` when
 * the partition left this broker. Assignments carry the
 * leader epoch: an older one than the replica has seen is ignored, a newer one re-decides the
 * role, and leaving `leading` always resigns the epoch so its waiting writes fail NOT_LEADER.
 */
export const partitionReplicaMachine = setup({
  types: {
    context: {} as PartitionReplicaContext,
    events: {} as PartitionReplicaEvent,
    input: {} as { effects: PartitionReplicaEffects; assignment: ReplicaAssignment },
  },
  actors: {
    openLog: fromPromise<PartitionLog, { effects: PartitionReplicaEffects }>(({ input }) => input.effects.openLog()),
    settle: fromPromise<void, { log: PartitionLog | undefined }>(({ input }) => input.log?.settled() ?? Promise.resolve()),
  },
  actions: {
    remember: assign({ assignment: ({ context, event }) => (event.type === 'assigned' ? event.assignment : context.assignment) }),
    startLeading: assign({
      leader: ({ context }) => {
        if (context.log === undefined) throw new Error('a partition leads only once its log is open');
        return context.effects.lead(context.log, context.assignment);
      },
    }),
    resign: assign({
      leader: ({ context }) => {
        context.leader?.resign(`leader epoch ${context.assignment.partition.leaderEpoch} is led by broker ${context.assignment.partition.leader}`);
        return undefined;
      },
    }),
    startFollowing: ({ context }) => {
      if (context.log === undefined) throw new Error('a partition follows only once its log is open');
      context.effects.follow(context.log, context.assignment);
    },
    stopFollowing: ({ context }) => context.effects.unfollow(),
    updateIsr: ({ context }) => {
      const { isr, partitionEpoch } = context.assignment.partition;
      context.leader?.isrCommitted(isr, partitionEpoch);
    },
  },
}).createMachine({
  id: 'partitionReplica',
  context: ({ input }) => ({ effects: input.effects, assignment: input.assignment, log: undefined, leader: undefined, failure: undefined }),
  initial: 'opening',
  on: {
    removed: '.removed',
  },
  states: {
    opening: {
      on: { assigned: { guard: isNewer, actions: 'remember' } },
      invoke: {
        src: 'openLog',
        input: ({ context }) => ({ effects: context.effects }),
        onDone: { target: 'deciding', actions: assign({ log: ({ event }) => event.output }) },
        onError: { target: 'failed', actions: assign({ failure: ({ event }) => event.error }) },
      },
    },
    deciding: {
      always: [{ guard: leadsNow, target: 'leading' }, { guard: followsNow, target: 'following' }, { target: 'offline' }],
    },
    leading: {
      entry: 'startLeading',
      exit: 'resign',
      on: {
        assigned: [
          { guard: sameLeadership, actions: ['remember', 'updateIsr'] },
          { guard: isNewer, target: 'settling', actions: 'remember' },
        ],
      },
    },
    following: {
      entry: 'startFollowing',
      exit: 'stopFollowing',
      on: { assigned: { guard: isNewer, target: 'settling', actions: 'remember' } },
    },
    // The old role's writes (a leader's appends, a fetcher's appends or truncation) finish before
    // the new role reads the log's end: a new leader's epoch starts where the log really ends.
    settling: {
      on: { assigned: { guard: isNewer, actions: 'remember' } },
      invoke: {
        src: 'settle',
        input: ({ context }) => ({ log: context.log }),
        onDone: 'deciding',
        onError: { target: 'failed', actions: assign({ failure: ({ event }) => event.error }) },
      },
    },
    offline: { on: { assigned: { guard: isNewer, target: 'deciding', actions: 'remember' } } },
    failed: { type: 'final' },
    removed: { type: 'final' },
  },
});
