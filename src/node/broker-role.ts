import { randomInt, randomUUID } from 'node:crypto';
import { systemClock } from '../actors/clock.js';
import { BrokerLifecycle, brokerLifecycleDefaults } from '../actors/broker-lifecycle/broker-lifecycle.js';
import { BrokerMetadataView } from '../actors/broker-metadata/broker-metadata-view.js';
import { DeviceSessions, deviceSessionTimingsDefaults } from '../actors/device-session/device-sessions.js';
import { NodeSupervisor } from '../actors/node-supervisor/node-supervisor.js';
import { supervisorDefaults } from '../actors/node-supervisor/supervisor-options.js';
import { PartitionLeaderLookup, type PartitionLeaderSource } from '../actors/partition-replica/partition-leader-lookup.js';
import { PartitionReplicas, partitionReplicasDefaults } from '../actors/partition-replica/partition-replicas.js';
import type { CommittedIsr } from '../actors/partition-replica/partition-leader.js';
import type { ReplicaAssignment } from '../actors/partition-replica/partition-replica-machine.js';
import { replicaFetcherDefaults } from '../actors/partition-replica/replica-fetcher.js';
import { ReplicaFetchers } from '../actors/partition-replica/replica-fetchers.js';
import { type IsrChangeProposal, ProducerIds } from '../broker/index.js';
import type { NodeConfig } from '../config/index.js';
import { TributaryError } from '../errors/index.js';
import { componentLogger, type Logger, type MetricsRegistry } from '../observability/index.js';
import { AdminClient, ControllerBrokerClient, defaultClientOptions, type MetadataWatch } from '../rpc/clients/index.js';
import { channelCredentialsFor } from '../rpc/clients/client-options.js';
import { ReplicationStream } from '../rpc/clients/replication-stream.js';
import type { ReplicationBroker } from '../rpc/services/broker-replication-service.js';
import type { CatalogEntry } from '../ingest/session-catalog.js';
import type { IngestBroker } from '../rpc/services/ingest-leaders.js';
import type { NodeStorage } from '../storage/open-node-storage.js';
import { formatPartition, type PartitionId } from '../storage/index.js';
import { type BrokerMetrics, registerBrokerMetrics } from './broker-metrics.js';
import { peerTls, peerToken } from './peer-credentials.js';
import { startControlPlane } from './start-control-plane.js';
import type { ControlPlane } from '../ingest/control-plane.js';

/** Deadline of one call to the controllers; the lifecycle retries on its own schedule. */
const controllerCallDeadlineMs = 5_000;

/** The broker role of a running node. */
export interface BrokerRole extends ReplicationBroker, IngestBroker {
  readonly lifecycle: BrokerLifecycle;
  readonly metadata: BrokerMetadataView;
  /** The partitions this broker hosts, each leading, following or offline as the metadata says. */
  readonly replicas: PartitionReplicas;
  /** Where the produce, fetch and replication services find the partitions this broker leads. */
  readonly leaders: PartitionLeaderSource;
  /** InitProducerId's answers, from blocks of ids the controllers hand this broker. */
  readonly producerIds: ProducerIds;
  /** Devices' Control streams, SendCommand and ListDevices (docs/CONTROL_PLANE.md). */
  readonly controlPlane: ControlPlane;
  /** Controlled shutdown (leaderships moved away first), then the controller connections closed. */
  stop(): Promise<void>;
}

export interface BrokerRoleOptions {
  /** The address the node's gRPC server bound or advertises: what the controller tells clients and peers. */
  readonly address: string;
  /** The node's metrics: the broker registers its replication metrics there. */
  readonly metrics: MetricsRegistry;
  /** The node's storage: partition logs share its group commit. */
  readonly storage: NodeStorage;
  /** Told once when the controller refuses this broker for good (another process took its node id). */
  readonly onFailure: (error: Error) => void;
}

/**
 * Starts a node's broker role (DESIGN.md §8): registration and heartbeats with the controller
 * quorum (broker-lifecycle); the metadata view that WatchMetadata keeps current, whose version
 * each heartbeat reports so the controller unfences the broker once it knows its partitions; and
 * the partition replicas that every metadata change assigns to this broker.
 * Starts after the gRPC server has bound, since registration tells the controller its address.
 */
export async function startBrokerRole(config: NodeConfig, logger: Logger, options: BrokerRoleOptions): Promise<BrokerRole> {
  const brokerLogger = componentLogger(logger, 'broker');
  const client = new ControllerBrokerClient({
    ...defaultClientOptions(`broker-${config.nodeId}`),
    deadlineMs: controllerCallDeadlineMs,
    bootstrap: controllerAddresses(config, options.address),
    tls: peerTls(config),
    token: peerToken(config),
  });
  const metadata = new BrokerMetadataView();
  const lifecycle = new BrokerLifecycle({
    registration: { nodeId: config.nodeId, address: options.address, rack: config.broker.rack, incarnationId: randomUUID(), clusterId: config.clusterId },
    link: client,
    appliedMetadataVersion: () => metadata.version,
    clock: systemClock,
    random: Math.random,
    logger: brokerLogger,
    settings: { ...brokerLifecycleDefaults, controlledShutdownTimeoutMs: config.broker.controlledShutdownTimeoutMs },
    onFailure: (error: TributaryError) => options.onFailure(error),
  });
  const brokerEpoch = () => lifecycle.brokerEpoch();
  const admin = new AdminClient({
    ...defaultClientOptions(`broker-${config.nodeId}-admin`),
    deadlineMs: controllerCallDeadlineMs,
    bootstrap: controllerAddresses(config, options.address),
    tls: peerTls(config),
    token: peerToken(config),
  });
  const fetchers = new ReplicaFetchers({
    connect: (leaderId) => connectToLeader(config, metadata, brokerEpoch(), leaderId),
    clock: systemClock,
    random: Math.random,
    logger: componentLogger(brokerLogger, 'replica-fetcher'),
    settings: replicaFetcherDefaults,
  });
  const brokerMetrics = registerBrokerMetrics(options.metrics);
  const sessionSupervisor = await NodeSupervisor.start({
    ...supervisorDefaults,
    name: 'device-sessions',
    clock: systemClock,
    random: { nextInt: (maxExclusive) => randomInt(maxExclusive) },
    logger: componentLogger(brokerLogger, 'device-session-supervisor'),
    onEscalate: (error) => options.onFailure(error),
  });
  const deviceSessions = new DeviceSessions({ supervisor: sessionSupervisor, clock: systemClock, timings: deviceSessionTimingsDefaults, logger: componentLogger(brokerLogger, 'device-session') });
  brokerMetrics.observeSessions(deviceSessions);
  const replicas = await startPartitionReplicas(config, options, { client, metadata, fetchers, brokerEpoch, metrics: brokerMetrics, logger: brokerLogger });
  brokerMetrics.observe(replicas);
  const watch: MetadataWatch = client.watchMetadata(0, (update) => replicas.apply(metadata.apply(update)), {
    clusterId: config.clusterId,
    onError: (error) => brokerLogger.error({ err: error }, 'the metadata watch stopped for good'),
  });
  lifecycle.start();
  const controlPlane = startControlPlane(config, { client, metadata, brokerEpoch, logger: componentLogger(brokerLogger, 'control-plane') });
  const stopRetention = scheduleRetention(config.broker.retentionCheckIntervalMs, replicas, metadata, brokerLogger);
  let stopped: Promise<void> | undefined;
  return {
    lifecycle,
    metadata,
    replicas,
    leaders: new PartitionLeaderLookup(config.nodeId, metadata, replicas),
    producerIds: new ProducerIds({ brokerId: config.nodeId, brokerEpoch, source: client }),
    controlPlane,
    brokerEpoch,
    brokerEpochOf: (nodeId) => metadata.broker(nodeId)?.incarnationEpoch,
    createTopic: (name, topicConfig) => createTopicIfMissing(admin, name, topicConfig),
    sessionCatalog: { record: (entry) => recordSession(client, config.nodeId, brokerEpoch(), entry) },
    deviceSessions,
    sessionTopic: (deviceId, sessionId) => metadata.uploadSession(deviceId, sessionId)?.topic,
    catalogSessions: (query) => metadata.uploadSessions(query),
    stop: () => {
      stopped ??= (async () => {
        // Devices reconnect to another broker at once rather than after three silent intervals.
        controlPlane.close();
        await lifecycle.shutdown();
        watch.close();
        stopRetention();
        await sessionSupervisor.stop();
        await replicas.stop();
        await fetchers.stop();
        client.close();
        admin.close();
      })();
      return stopped;
    },
  };
}

interface ReplicasContext {
  readonly client: ControllerBrokerClient;
  readonly metadata: BrokerMetadataView;
  readonly fetchers: ReplicaFetchers;
  readonly brokerEpoch: () => number;
  readonly metrics: BrokerMetrics;
  readonly logger: Logger;
}

/** The partition replicas under their own supervisor; a replica that keeps crashing takes the node down (its disk or its code is broken). */
async function startPartitionReplicas(config: NodeConfig, options: BrokerRoleOptions, context: ReplicasContext): Promise<PartitionReplicas> {
  const { client, metadata, fetchers, brokerEpoch, metrics, logger } = context;
  const supervisor = await NodeSupervisor.start({
    ...supervisorDefaults,
    name: 'partitions',
    clock: systemClock,
    random: { nextInt: (maxExclusive) => randomInt(maxExclusive) },
    logger: componentLogger(logger, 'partition-supervisor'),
    onEscalate: (error) => options.onFailure(error),
  });
  return new PartitionReplicas({
    supervisor,
    brokerId: config.nodeId,
    openLog: async (partition, topicId) => {
      const claim = await options.storage.claimPartition(partition, topicId);
      if (typeof claim === 'object') logger.warn({ partition: formatPartition(partition), topicId, ...claim }, 'discarded the data of a deleted incarnation of the topic');
      return options.storage.openPartitionLog(partition);
    },
    minInSyncReplicasOf: (topic) => metadata.topic(topic)?.config.minInSyncReplicas,
    fetchers,
    alterIsr: (id, assignment, proposal) => proposeIsr({ client, metadata, nodeId: config.nodeId, brokerEpoch: brokerEpoch(), logger, metrics }, id, assignment, proposal),
    clock: systemClock,
    logger,
    settings: { ...partitionReplicasDefaults, replicaLagTimeMaxMs: config.broker.replicaLagTimeMaxMs },
  });
}

/**
 * Every `intervalMs`, the partitions this broker leads delete what their topic's retention no
 * longer keeps. One pass at a time: a slow pass delays the next rather than overlapping it.
 */
function scheduleRetention(intervalMs: number, replicas: PartitionReplicas, metadata: BrokerMetadataView, logger: Logger): () => void {
  let cancel: () => void = () => undefined;
  let stopped = false;
  const pass = async (): Promise<void> => {
    try {
      const deleted = await replicas.enforceRetention((topic) => metadata.topic(topic)?.config);
      for (const [partition, result] of deleted) logger.info({ partition, ...result }, 'retention deleted old batches');
    } catch (error) {
      logger.error({ err: error }, 'retention failed; it is tried again at the next interval');
    }
    if (!stopped) cancel = systemClock.setTimer(intervalMs, () => void pass());
  };
  cancel = systemClock.setTimer(intervalMs, () => void pass());
  return () => {
    stopped = true;
    cancel();
  };
}

/** Bound on waiting for a leader to accept a replication stream or answer a fetch beyond its wait. */
const replicationAnswerTimeoutMs = 10_000;

async function connectToLeader(config: NodeConfig, metadata: BrokerMetadataView, brokerEpoch: number, leaderId: number): Promise<ReplicationStream> {
  const address = metadata.broker(leaderId)?.address;
  if (address === undefined) throw new TributaryError('NOT_AVAILABLE', `leader broker ${leaderId} is not in this broker's metadata yet`, { retriable: true });
  if (brokerEpoch === 0) throw new TributaryError('NOT_AVAILABLE', `broker ${config.nodeId} is not registered yet; it replicates once it has an incarnation epoch`, { retriable: true });
  const { stream } = await ReplicationStream.open({
    address,
    credentials: channelCredentialsFor(peerTls(config)),
    token: peerToken(config),
    clientId: `broker-${config.nodeId}-fetcher`,
    open: { replicaId: config.nodeId, incarnationEpoch: brokerEpoch, leaderId, clusterId: config.clusterId },
    answerTimeoutMs: replicationAnswerTimeoutMs,
  });
  return stream;
}

interface IsrProposalContext {
  readonly client: ControllerBrokerClient;
  readonly metadata: BrokerMetadataView;
  readonly nodeId: number;
  readonly brokerEpoch: number;
  readonly logger: Logger;
  readonly metrics: BrokerMetrics;
}

/**
 * A leader's ISR proposal as an AlterPartition call. Each member is named with the incarnation
 * epoch this broker's metadata has for it, so the controller refuses a member that restarted
 * since. The answer's partition state counts only while it is still this leader epoch's.
 */
async function proposeIsr(context: IsrProposalContext, id: PartitionId, assignment: ReplicaAssignment, proposal: IsrChangeProposal): Promise<CommittedIsr | undefined> {
  const { client, metadata, nodeId, brokerEpoch, logger, metrics } = context;
  const { partition, topicId } = assignment;
  const where = { partition: formatPartition(id), isr: proposal.isr, reason: proposal.reason };
  const change = proposal.removed.length === 0 ? 'expand' : proposal.added.length === 0 ? 'shrink' : 'shrink_expand';
  if (brokerEpoch === 0) {
    metrics.isrChange(change, 'undecided');
    return undefined;
  }
  const newIsr = proposal.isr.map((id) => ({ nodeId: id, brokerEpoch: metadata.broker(id)?.incarnationEpoch ?? 0 }));
  try {
    const [outcome] = await client.alterPartition(nodeId, brokerEpoch, [
      { topic: id.topic, partition: id.partition, topicId, leaderEpoch: partition.leaderEpoch, partitionEpoch: proposal.partitionEpoch, newIsr },
    ]);
    if (outcome?.error !== undefined) logger.warn({ ...where, err: outcome.error }, 'the controller refused an ISR change');
    else logger.info(where, 'ISR changed');
    metrics.isrChange(change, outcome?.error === undefined ? 'committed' : 'refused');
    const info = outcome?.partitionInfo;
    if (info === undefined || info.leader !== nodeId || info.leaderEpoch !== partition.leaderEpoch) return undefined;
    return { isr: info.isr, partitionEpoch: info.partitionEpoch };
  } catch (error) {
    logger.warn({ ...where, err: error }, 'an ISR change could not reach the controller; it is proposed again later');
    metrics.isrChange(change, 'undecided');
    return undefined;
  }
}

/** Records a session in the controller's catalog, once this broker has registered (the call is fenced by its epoch). */
async function recordSession(client: ControllerBrokerClient, nodeId: number, brokerEpoch: number, entry: CatalogEntry): Promise<void> {
  if (brokerEpoch === 0) throw new TributaryError('NOT_AVAILABLE', `broker ${nodeId} is not registered yet; it records sessions once it has an incarnation epoch`, { retriable: true });
  await client.recordUploadSession(nodeId, brokerEpoch, { ...entry, sources: entry.sources.map((source) => ({ ...source })) });
}

/** Creates a topic; one that exists already (another broker created it first) is not an error. */
async function createTopicIfMissing(admin: AdminClient, name: string, config: Parameters<IngestBroker['createTopic']>[1]): Promise<void> {
  try {
    await admin.createTopic(name, { config });
  } catch (error) {
    if (TributaryError.from(error).code !== 'TOPIC_ALREADY_EXISTS') throw error;
  }
}

/** The controllers to dial: the configured quorum, or this node itself when it is its own single-node quorum. */
function controllerAddresses(config: NodeConfig, ownAddress: string): string[] {
  const quorum = config.controller.quorum.map((voter) => voter.address);
  return quorum.length > 0 ? quorum : [ownAddress];
}
