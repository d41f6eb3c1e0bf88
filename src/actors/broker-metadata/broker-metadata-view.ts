import assert from 'node:assert/strict';
import {
  compareUploadSessions, type BrokerInfo, type DeviceRegistryEntry, type MetadataRecord, type MetadataWatchUpdate, type PartitionInfo, type TopicConfig,
  type UploadSessionCatalogEntry,
} from '../../rpc/clients/index.js';

/** One topic as a broker knows it. */
export interface TopicView {
  readonly topicId: string;
  readonly name: string;
  config: TopicConfig;
  readonly partitions: Map<number, PartitionInfo>;
}

/** A partition whose assignment or leadership changed in an update. */
export interface PartitionChange {
  readonly topic: string;
  readonly topicId: string;
  /** undefined when the partition's topic was deleted. */
  readonly partition: PartitionInfo | undefined;
  readonly partitionIndex: number;
}

/** Filters of `uploadSessions`; unset matches every session. */
export interface UploadSessionQuery {
  readonly deviceIdPrefix?: string;
  readonly states?: ReadonlyArray<UploadSessionCatalogEntry['state']>;
}

/**
 * The cluster metadata a broker has applied from WatchMetadata (Kafka's MetadataCache): brokers,
 * topics and partitions, the upload-session catalog and the device registry at `version`. Updates come whole and in order (MetadataWatcher assembles
 * them), so the view is always some version the controller committed, never a mix.
 */
export class BrokerMetadataView {
  private currentVersion = 0;
  private readonly brokerById = new Map<number, BrokerInfo>();
  private readonly topicByName = new Map<string, TopicView>();
  /** Keyed by device id, then session id: a device's sessions are found without scanning the catalog. */
  private readonly sessionsByDevice = new Map<string, Map<string, UploadSessionCatalogEntry>>();
  /** The control plane's device registry. */
  private readonly deviceById = new Map<string, DeviceRegistryEntry>();
  private leaderId = 0;

  /** The highest metadata version applied: heartbeats report it. */
  get version(): number {
    return this.currentVersion;
  }

  /** The controller leader the last heartbeat of the stream named; 0 when unknown. */
  get controllerLeaderId(): number {
    return this.leaderId;
  }

  /** Applies one update; returns the partitions it changed (every partition for an image). */
  apply(update: MetadataWatchUpdate): PartitionChange[] {
    assert.ok(update.version >= this.currentVersion, `metadata version ${update.version} would go back from ${this.currentVersion}`);
    if (update.kind === 'heartbeat') {
      this.leaderId = update.leaderId;
      this.currentVersion = update.version;
      return [];
    }
    if (update.kind === 'deltas') {
      assert.equal(update.prevVersion, this.currentVersion, `deltas from version ${update.prevVersion} cannot follow version ${this.currentVersion}`);
    }
    const before = update.kind === 'image' ? this.allPartitions() : [];
    if (update.kind === 'image') this.clear();
    const changes = update.records.flatMap((record) => this.applyRecord(record));
    this.currentVersion = update.version;
    if (update.kind === 'deltas') return changes;
    // An image replaces everything: partitions gone from it are reported as deleted.
    const kept = new Set(changes.map((change) => `${change.topicId}/${change.partitionIndex}`));
    const removed = before.filter((change) => !kept.has(`${change.topicId}/${change.partitionIndex}`)).map((change) => ({ ...change, partition: undefined }));
    return [...changes, ...removed];
  }

  broker(nodeId: number): BrokerInfo | undefined {
    return this.brokerById.get(nodeId);
  }

  brokers(): BrokerInfo[] {
    return [...this.brokerById.values()];
  }

  topic(name: string): TopicView | undefined {
    return this.topicByName.get(name);
  }

  topics(): TopicView[] {
    return [...this.topicByName.values()];
  }

  partition(topic: string, partition: number): PartitionInfo | undefined {
    return this.topicByName.get(topic)?.partitions.get(partition);
  }

  uploadSession(deviceId: string, sessionId: string): UploadSessionCatalogEntry | undefined {
    return this.sessionsByDevice.get(deviceId)?.get(sessionId);
  }

  /** The catalog's sessions matching `query`, by device id, then creation time, then session id. */
  uploadSessions(query: UploadSessionQuery = {}): UploadSessionCatalogEntry[] {
    const prefix = query.deviceIdPrefix ?? '';
    const states = query.states === undefined ? undefined : new Set(query.states);
    const matching: UploadSessionCatalogEntry[] = [];
    for (const [deviceId, sessions] of this.sessionsByDevice) {
      if (!deviceId.startsWith(prefix)) continue;
      for (const session of sessions.values()) if (states === undefined || states.has(session.state)) matching.push(session);
    }
    return matching.sort(compareUploadSessions);
  }

  device(deviceId: string): DeviceRegistryEntry | undefined {
    return this.deviceById.get(deviceId);
  }

  /** Every device in the registry, in no particular order. */
  devices(): IterableIterator<DeviceRegistryEntry> {
    return this.deviceById.values();
  }

  private applyRecord(record: MetadataRecord): PartitionChange[] {
    switch (record.kind) {
      case 'brokerRegistered':
        this.brokerById.set(record.broker.nodeId, record.broker);
        return [];
      case 'brokerStateChanged': {
        const broker = this.brokerById.get(record.nodeId);
        if (broker !== undefined) this.brokerById.set(record.nodeId, { ...broker, incarnationEpoch: record.incarnationEpoch, state: record.state });
        return [];
      }
      case 'brokerUnregistered':
        this.brokerById.delete(record.nodeId);
        return [];
      case 'topicCreated':
        this.topicByName.set(record.name, { topicId: record.topicId, name: record.name, config: record.config, partitions: new Map() });
        return [];
      case 'topicConfigChanged': {
        const topic = this.topicByName.get(record.name);
        if (topic !== undefined && topic.topicId === record.topicId) topic.config = record.config;
        return [];
      }
      case 'topicDeleted':
        return this.deleteTopic(record.name, record.topicId);
      case 'partitionChanged':
        return this.changePartition(record.topic, record.topicId, record.partition);
      case 'uploadSessionChanged':
        this.putSession(record.session);
        return [];
      case 'uploadSessionRemoved':
        this.removeSession(record.deviceId, record.sessionId);
        return [];
      case 'deviceChanged':
        this.deviceById.set(record.device.deviceId, record.device);
        return [];
      case 'deviceRemoved':
        this.deviceById.delete(record.deviceId);
        return [];
      case 'controllersChanged':
        return [];
    }
  }

  private putSession(session: UploadSessionCatalogEntry): void {
    let sessions = this.sessionsByDevice.get(session.deviceId);
    if (sessions === undefined) {
      sessions = new Map();
      this.sessionsByDevice.set(session.deviceId, sessions);
    }
    sessions.set(session.sessionId, session);
  }

  private removeSession(deviceId: string, sessionId: string): void {
    const sessions = this.sessionsByDevice.get(deviceId);
    sessions?.delete(sessionId);
    if (sessions?.size === 0) this.sessionsByDevice.delete(deviceId);
  }

  private deleteTopic(name: string, topicId: string): PartitionChange[] {
    const topic = this.topicByName.get(name);
    if (topic === undefined || topic.topicId !== topicId) return [];
    this.topicByName.delete(name);
    return [...topic.partitions.keys()].map((partitionIndex) => ({ topic: name, topicId, partition: undefined, partitionIndex }));
  }

  private changePartition(name: string, topicId: string, partition: PartitionInfo): PartitionChange[] {
    const topic = this.topicByName.get(name);
    // A change to a topic this view does not hold (or an older incarnation of it) has nothing to update.
    if (topic === undefined || topic.topicId !== topicId) return [];
    topic.partitions.set(partition.partition, partition);
    return [{ topic: name, topicId, partition, partitionIndex: partition.partition }];
  }

  private allPartitions(): PartitionChange[] {
    return this.topics().flatMap((topic) =>
      [...topic.partitions.values()].map((partition) => ({ topic: topic.name, topicId: topic.topicId, partition, partitionIndex: partition.partition })),
    );
  }

  private clear(): void {
    this.brokerById.clear();
    this.topicByName.clear();
    this.sessionsByDevice.clear();
    this.deviceById.clear();
  }
}
