import type { MetadataCommand, TopicPartition, TopicRecord } from '../../src/controller/index.js';
import { noLeader } from '../../src/controller/index.js';
import type { ActorContext, MetadataActor } from './metadata-actor.js';
import type { Prng } from './prng.js';
import { isReplicationTopic } from './replication-actors.js';

/** Topics the operator keeps at most: bounds the metadata, and so the checks run after every apply. */
export const operatorTopicsMax = 6;
/** Partitions per topic the operator creates at most. */
const partitionsPerTopicMax = 3;
const maxMessageBytes = 1_048_576;

type OperatorAction = 'createTopic' | 'deleteTopic' | 'electPreferred' | 'electUnclean' | 'toggleUnclean';
/** Repeats weigh the draw: topics come and go, elections are the point. */
const actions: readonly OperatorAction[] = ['createTopic', 'createTopic', 'electPreferred', 'electPreferred', 'electUnclean', 'electUnclean', 'toggleUnclean', 'deleteTopic'];

/**
 * The cluster operator, through the admin API: creates topics with replication factor 2 or 3
 * (some allowing unclean election, some not), deletes them now and then, turns unclean election on
 * and off, and asks for preferred and unclean leader elections, of all partitions or of chosen
 * ones. It rests after healing.
 */
export class SimOperator implements MetadataActor {
  readonly name = 'operator';
  private topicsCreated = 0;

  constructor(
    private readonly brokerCount: number,
    private readonly intervalMsMax: number,
  ) {}

  next(context: ActorContext): MetadataCommand | undefined {
    const view = context.liveness ? undefined : context.view();
    if (view === undefined) return undefined;
    // The replication workload's topic is never deleted or made unclean: its checkers hold clean elections to their word.
    const topics = [...view.topics.values()].filter((topic) => !isReplicationTopic(topic.name));
    const action = context.random.pick(actions);
    if (action === 'createTopic' || topics.length === 0) return topics.length < operatorTopicsMax ? this.createTopic(context.random) : undefined;
    const topic = context.random.pick(topics);
    switch (action) {
      case 'deleteTopic':
        return { type: 'deleteTopic', name: topic.name, topicId: topic.topicId };
      case 'toggleUnclean':
        return { type: 'updateTopicConfig', name: topic.name, topicId: topic.topicId, changes: { uncleanLeaderElection: !topic.config.uncleanLeaderElection } };
      case 'electPreferred':
        return { type: 'electLeaders', election: 'preferred', partitions: context.random.chance(0.5) ? [] : [randomPartition(topic, context.random)] };
      case 'electUnclean':
        return { type: 'electLeaders', election: 'unclean', partitions: uncleanTargets(topic, context.random) };
    }
  }

  settle(): void {
    // Nothing to learn: what the elections and topic changes did is the checkers' to judge.
  }

  delayMs(random: Prng): number {
    return random.range(1, this.intervalMsMax);
  }

  livenessPending(): undefined {
    return undefined;
  }

  private createTopic(random: Prng): MetadataCommand {
    const replicationFactor = Math.min(this.brokerCount, random.range(2, 3));
    const name = `topic-${++this.topicsCreated}`;
    return {
      type: 'createTopic',
      name,
      config: {
        partitions: random.range(1, partitionsPerTopicMax),
        replicationFactor,
        minInSyncReplicas: random.range(1, replicationFactor),
        retentionMs: 0,
        retentionBytes: 0,
        compression: 'none',
        maxMessageBytes,
        uncleanLeaderElection: random.chance(0.5),
        labels: {},
      },
      replicaAssignment: [],
      idempotencyKey: name,
    };
  }
}

function randomPartition(topic: TopicRecord, random: Prng): TopicPartition {
  return { topic: topic.name, partition: random.nextInt(topic.partitions.length) };
}

/** The topic's offline partitions, or one partition at random (an election with nothing to do). */
function uncleanTargets(topic: TopicRecord, random: Prng): TopicPartition[] {
  const offline = topic.partitions.filter((partition) => partition.leader === noLeader);
  if (offline.length === 0) return [randomPartition(topic, random)];
  return offline.map((partition) => ({ topic: topic.name, partition: partition.partition }));
}
