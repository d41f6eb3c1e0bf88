import type { IsrChangeProposal } from '../../src/broker/index.js';
import type { AlterPartitionCommand, AlterPartitionOutput, MetadataCommand } from '../../src/controller/index.js';
import type { ActorContext, MetadataActor } from './metadata-actor.js';
import type { ProposalOutcome } from './metadata-proposer.js';
import type { Prng } from './prng.js';
import type { SimReplica } from './sim-replica.js';

/** The topic the replication workload writes; the operator and the brokers' random ISR changes leave it alone. */
export const replicationTopicName = 'replicated';
const maxMessageBytes = 1_048_576;
/** How often the topic's creator looks whether the topic exists yet. */
const creatorIntervalMsMax = 100;

export function isReplicationTopic(name: string): boolean {
  return name === replicationTopicName;
}

/**
 * Creates the replication workload's topic once enough brokers are up: replication factor 3,
 * min in-sync replicas from the seed, unclean election off (a clean election never loses an
 * acknowledged record, which is what the checkers hold the brokers to). Retries until it exists.
 */
export class ReplicationTopicCreator implements MetadataActor {
  readonly name = 'replication topic creator';

  constructor(
    private readonly partitions: number,
    private readonly minInSyncReplicas: number,
  ) {}

  next(context: ActorContext): MetadataCommand | undefined {
    const view = context.leaderView();
    if (view === undefined || view.topics.has(replicationTopicName)) return undefined;
    return {
      type: 'createTopic',
      name: replicationTopicName,
      config: {
        partitions: this.partitions,
        replicationFactor: 3,
        minInSyncReplicas: this.minInSyncReplicas,
        retentionMs: 0,
        retentionBytes: 0,
        compression: 'none',
        maxMessageBytes,
        uncleanLeaderElection: false,
        labels: {},
      },
      replicaAssignment: [],
      idempotencyKey: replicationTopicName,
    };
  }

  settle(): void {
    // Whether it exists is read from the metadata at the next wake.
  }

  delayMs(random: Prng): number {
    return random.range(1, creatorIntervalMsMax);
  }

  livenessPending(): undefined {
    return undefined;
  }
}

/** What an ISR proposer needs of its broker process. */
export interface ProposingBroker {
  readonly brokerId: number;
  /** The broker epoch of its registration; 0 while it is not registered. */
  readonly brokerEpoch: number;
  replicas(): readonly SimReplica[];
}

interface SentProposal {
  readonly replica: SimReplica;
  readonly leaderEpoch: number;
  readonly proposal: IsrChangeProposal;
  /** An attempt may have applied: never report it failed, resend it until metadata settles it. */
  outcomeUnknown: boolean;
}

/**
 * One broker's AlterPartition client (Kafka's AlterPartitionManager): every half lag window or so
 * it asks each partition it leads for the ISR change due (`proposeIsrChange`), sends one at a time
 * to the controller and reports the outcome to the leader state. An outcome that may have applied
 * (a timeout, a crashed controller) is never reported as a failure, because a failure drops the
 * proposed additions from the high watermark while the controller may have added them (KIP-497);
 * it is sent again, and committed metadata with a newer partition epoch ends it.
 */
export class ReplicaIsrProposer implements MetadataActor {
  readonly name: string;
  private sent: SentProposal | undefined;

  constructor(
    private readonly broker: ProposingBroker,
    private readonly replicaLagTimeMaxMs: number,
  ) {
    this.name = `broker ${broker.brokerId} ISR changes`;
  }

  next(context: ActorContext): MetadataCommand | undefined {
    const view = context.view();
    const topic = view?.topics.get(replicationTopicName);
    if (view === undefined || topic === undefined || this.broker.brokerEpoch === 0) return undefined;
    const sent = this.sent !== undefined && this.stillInFlight(this.sent) ? this.sent : undefined;
    this.sent = sent ?? this.propose(context.nowMs);
    if (this.sent === undefined) return undefined;
    const { replica, leaderEpoch, proposal } = this.sent;
    const command: AlterPartitionCommand = {
      type: 'alterPartition',
      brokerId: this.broker.brokerId,
      brokerEpoch: this.broker.brokerEpoch,
      topic: topic.name,
      topicId: topic.topicId,
      partition: replica.partition,
      leaderEpoch,
      partitionEpoch: proposal.partitionEpoch,
      newIsr: proposal.isr.map((brokerId) => ({ brokerId, brokerEpoch: brokerId === this.broker.brokerId ? this.broker.brokerEpoch : (view.brokers.get(brokerId)?.brokerEpoch ?? 0) })),
    };
    return command;
  }

  settle(_command: MetadataCommand, outcome: ProposalOutcome): void {
    const sent = this.sent;
    if (sent === undefined) return;
    if (outcome.kind === 'applied' && outcome.result.ok) {
      const { partition } = outcome.result.value as AlterPartitionOutput;
      sent.replica.isrChangeCommitted(sent.leaderEpoch, partition.isr, partition.partitionEpoch);
      this.sent = undefined;
    } else if (outcome.kind === 'unknown') {
      sent.outcomeUnknown = true;
    } else if (!sent.outcomeUnknown) {
      sent.replica.isrChangeFailed(sent.leaderEpoch, sent.proposal);
      this.sent = undefined;
    }
  }

  delayMs(random: Prng): number {
    return random.range(Math.ceil(this.replicaLagTimeMaxMs / 4), Math.ceil(this.replicaLagTimeMaxMs / 2));
  }

  livenessPending(): undefined {
    return undefined;
  }

  /** The proposal is still the leader's in flight: no newer metadata or epoch has ended it. */
  private stillInFlight(sent: SentProposal): boolean {
    const leading = sent.replica.leading();
    return leading?.leaderEpoch === sent.leaderEpoch && leading.state.inFlightProposal() === sent.proposal;
  }

  private propose(nowMs: number): SentProposal | undefined {
    for (const replica of this.broker.replicas()) {
      const leading = replica.leading();
      const proposal = leading?.state.proposeIsrChange(nowMs);
      if (leading !== undefined && proposal !== undefined) return { replica, leaderEpoch: leading.leaderEpoch, proposal, outcomeUnknown: false };
    }
    return undefined;
  }
}
