import { createHash } from 'node:crypto';
import type { Clock } from '../../actors/clock.js';
import type { PartitionLeaderSource } from '../../actors/partition-replica/partition-leader-lookup.js';
import type { PartitionLeader } from '../../actors/partition-replica/partition-leader.js';
import { partitionForKey } from '../../broker/partition-for-key.js';
import { TributaryError } from '../../errors/index.js';
import { IngestPartition } from '../../ingest/ingest-partition.js';
import { ingestPartitionDefaults } from '../../ingest/ingest-partition-state.js';
import type { HashFactory, IncrementalHash } from '../../ingest/ingest-types.js';
import type { CatalogEntry, SessionCatalog } from '../../ingest/session-catalog.js';
import type { Logger } from '../../observability/index.js';
import type { BrokerPartitions } from './broker-partitions.js';
import { IngestPartitionLog } from './ingest-partition-log.js';
import type { Placement } from './ingest-mapping.js';
import { ingestTopicMaxMessageBytes, type IngestSettings } from './ingest-settings.js';
import type { LeaderChanges } from './leader-changes.js';

/** How long a CreateSession waits for the metadata of the ingest topic it just had created, polling. */
const createdTopicWaitMsMax = 5_000;
const createdTopicPollMs = 20;

/** The label that marks a topic as an ingest topic: ProducerService refuses to append to one (BrokerPartitions.isIngestTopic). */
export const ingestTopicLabel = 'tributary.ingest';

/** What the ingest services need of the running broker role beyond its partitions. */
export interface IngestBroker {
  readonly leaders: PartitionLeaderSource;
  readonly metadata: {
    topic(name: string): { readonly config: { readonly maxMessageBytes: number; readonly labels: Readonly<Record<string, string>> }; readonly partitions: ReadonlyMap<number, { readonly leader: number; readonly leaderEpoch: number }> } | undefined;
    broker(nodeId: number): { readonly address: string } | undefined;
    brokers(): readonly unknown[];
  };
  /** Creates a topic through the controllers; a topic that exists already is not an error. */
  createTopic(name: string, config: { partitions: number; replicationFactor: number; minInSyncReplicas: number; maxMessageBytes: number; labels: Record<string, string> }): Promise<void>;
  readonly sessionCatalog: SessionCatalog;
  /** The ingest topic the controller's catalog has the session in; undefined when it does not know the session. */
  sessionTopic(deviceId: string, sessionId: string): string | undefined;
  /** Starts the device-session actors of a partition whose leadership just began. */
  readonly deviceSessions: { adopt(partition: IngestPartition): void };
  /** The catalog as this broker's metadata has it, in catalog order (device, creation time, session id). */
  catalogSessions(query: { deviceIdPrefix?: string; states?: ReadonlyArray<CatalogEntry['state']> }): CatalogEntry[];
}

export interface IngestLeadersOptions {
  readonly partitions: BrokerPartitions;
  readonly broker: () => IngestBroker | undefined;
  readonly settings: IngestSettings;
  readonly batchBytesMax: number;
  readonly clock: Clock;
  readonly changes: LeaderChanges;
  readonly logger: Logger;
}

export const sha256Hash: HashFactory = () => wrap(createHash('sha256'));

function wrap(hash: ReturnType<typeof createHash>): IncrementalHash {
  return { update: (bytes) => void hash.update(bytes), copy: () => wrap(hash.copy()), digest: () => hash.digest() };
}

/**
 * The ingest partitions this broker leads, each an IngestPartition opened (its log replayed) once
 * per leadership: a new PartitionLeader means a new epoch, and the state is rebuilt from the log
 * rather than trusted across it. Also places sessions (a device's partition) and creates the
 * default ingest topic on first use.
 */
export class IngestLeaders {
  private readonly opened = new WeakMap<PartitionLeader, Promise<IngestPartition>>();
  private topicCreation: Promise<void> | undefined;

  constructor(private readonly options: IngestLeadersOptions) {}

  get settings(): IngestSettings {
    return this.options.settings;
  }

  /** The controller's catalog as this broker's metadata has it. */
  catalogSessions(query: Parameters<IngestBroker['catalogSessions']>[0]): CatalogEntry[] {
    return this.broker().catalogSessions(query);
  }

  /** Where an existing session lives: its catalog topic (the default ingest topic when the catalog does not know it yet). */
  placementOfSession(deviceId: string, sessionId: string): Promise<Placement> {
    return this.placementOf(this.broker().sessionTopic(deviceId, sessionId) ?? this.options.settings.defaultTopic, deviceId);
  }

  /** The partition of the ingest topic that holds `deviceId`'s sessions, and who leads it. */
  async placementOf(topic: string, deviceId: string): Promise<Placement> {
    const view = await this.ingestTopic(topic);
    const partition = partitionForKey(new TextEncoder().encode(deviceId), view.partitions.size);
    const info = view.partitions.get(partition);
    const leaderNodeId = info?.leader ?? 0;
    return { topic, partition, leaderNodeId, leaderAddress: this.broker().metadata.broker(leaderNodeId)?.address ?? '', leaderEpoch: info?.leaderEpoch ?? 0 };
  }

  /** The IngestPartition of `placement` if this broker leads it (NOT_LEADER with the hint otherwise). */
  partitionAt(placement: Placement): Promise<IngestPartition> {
    const leader = this.options.partitions.leaderFor({ topic: placement.topic, partition: placement.partition }, 0);
    let opened = this.opened.get(leader);
    if (opened === undefined) {
      opened = this.open(leader, placement);
      this.opened.set(leader, opened);
      // A replay that failed is tried again by the next call, not cached.
      opened.catch(() => this.opened.delete(leader));
    }
    return opened;
  }

  /** The placement as this broker serves it: its own node and the leader's epoch. */
  private async open(leader: PartitionLeader, placement: Placement): Promise<IngestPartition> {
    const { settings, clock, changes, logger, batchBytesMax } = this.options;
    const maxBatchBytes = Math.min(this.broker().metadata.topic(placement.topic)?.config.maxMessageBytes ?? batchBytesMax, batchBytesMax);
    const log = new IngestPartitionLog({ leader, topic: placement.topic, partition: placement.partition, maxBatchBytes, appendTimeoutMs: settings.appendTimeoutMs, clock, changes });
    const startedMs = clock.nowMs();
    const partition = await IngestPartition.open({
      log,
      createHash: sha256Hash,
      limits: ingestPartitionDefaults,
      catalog: this.broker().sessionCatalog,
      nowMs: () => clock.nowMs(),
      replayReadBytes: settings.replayReadBytes,
      onOrphans: (count) => logger.warn({ partition: log.partition, records: count }, 'skipped ingest records of sessions whose start retention deleted'),
      commitWaitMs: settings.appendTimeoutMs,
    });
    this.broker().deviceSessions.adopt(partition);
    logger.info({ partition: log.partition, leaderEpoch: leader.leaderEpoch, sessions: partition.state.all().length, replayMs: clock.nowMs() - startedMs }, 'ingest partition ready');
    return partition;
  }

  private async ingestTopic(topic: string): Promise<NonNullable<ReturnType<IngestBroker['metadata']['topic']>>> {
    const existing = this.broker().metadata.topic(topic);
    if (existing !== undefined) return this.checkIngestTopic(topic, existing);
    if (topic !== this.options.settings.defaultTopic) throw new TributaryError('TOPIC_NOT_FOUND', `ingest topic "${topic}" does not exist; create it with the label ${ingestTopicLabel}=true, or leave topic empty for "${this.options.settings.defaultTopic}"`);
    this.topicCreation ??= this.createDefaultTopic().finally(() => {
      this.topicCreation = undefined;
    });
    await this.topicCreation;
    return this.checkIngestTopic(topic, await this.createdTopic(topic));
  }

  /** The topic once this broker's metadata has it: the watch brings it a moment after the controllers commit it. */
  private async createdTopic(topic: string): Promise<NonNullable<ReturnType<IngestBroker['metadata']['topic']>>> {
    const { clock } = this.options;
    const deadlineMs = clock.nowMs() + createdTopicWaitMsMax;
    for (;;) {
      const created = this.broker().metadata.topic(topic);
      if (created !== undefined) return created;
      if (clock.nowMs() >= deadlineMs) throw new TributaryError('NOT_AVAILABLE', `ingest topic "${topic}" was created but this broker's metadata does not have it yet; retry shortly`, { retriable: true });
      await new Promise<void>((resolve) => clock.setTimer(createdTopicPollMs, resolve));
    }
  }

  private checkIngestTopic<View extends { readonly config: { readonly labels: Readonly<Record<string, string>> } }>(topic: string, view: View): View {
    if (view.config.labels[ingestTopicLabel] !== 'true') throw new TributaryError('INVALID_REQUEST', `topic "${topic}" is not an ingest topic (it lacks the label ${ingestTopicLabel}=true); upload sessions go to ingest topics only`);
    return view;
  }

  private async createDefaultTopic(): Promise<void> {
    const { settings } = this.options;
    const brokers = this.broker().metadata.brokers().length;
    if (brokers === 0) throw new TributaryError('NOT_AVAILABLE', `the ingest topic "${settings.defaultTopic}" is created once a broker has registered; retry shortly`, { retriable: true });
    const replicationFactor = Math.min(settings.topicReplicationFactorMax, brokers);
    await this.broker().createTopic(settings.defaultTopic, {
      partitions: settings.topicPartitions,
      replicationFactor,
      // A chunk is acknowledged only once durable on a majority of its replicas, and never on one alone when there are three.
      minInSyncReplicas: Math.min(2, replicationFactor),
      maxMessageBytes: ingestTopicMaxMessageBytes(settings),
      labels: { [ingestTopicLabel]: 'true' },
    });
    this.options.logger.info({ topic: settings.defaultTopic, partitions: settings.topicPartitions, replicationFactor }, 'created the default ingest topic');
  }

  private broker(): IngestBroker {
    this.options.partitions.assertServing();
    const broker = this.options.broker();
    if (broker === undefined) throw new TributaryError('NOT_AVAILABLE', 'the broker role is starting; retry shortly', { retriable: true });
    return broker;
  }
}
