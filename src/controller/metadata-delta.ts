import type {
  BrokerRecord, ControllerRecord, DeviceRecord, GroupRecord, GroupState, PartitionRecord, TopicConfig, TopicRecord, UploadSessionRecord,
} from './metadata-state.js';
import { copyTopicConfig, sortedValues } from './metadata-state.js';

export type BrokerStanding = 'active' | 'fenced' | 'shuttingDown';

/**
 * One changed record, tagged with the metadata version (Raft index) whose command produced it.
 * A WatchMetadata stream sends these in apply order; a watcher starting from nothing gets
 * `metadataImage(state)`, the same kinds of record describing the whole state at one version.
 * Records carry copies, never references into the live state.
 */
export type MetadataDelta =
  | { kind: 'brokerRegistered'; version: number; broker: BrokerRecord }
  /** Both flags, because a fenced broker may also be shutting down; `standing` is what the wire's BrokerState shows. */
  | { kind: 'brokerStateChanged'; version: number; brokerId: number; brokerEpoch: number; fenced: boolean; shuttingDown: boolean; standing: BrokerStanding }
  | { kind: 'topicCreated'; version: number; topicId: string; name: string; config: TopicConfig }
  | { kind: 'topicConfigChanged'; version: number; topicId: string; name: string; config: TopicConfig }
  | { kind: 'topicDeleted'; version: number; topicId: string; name: string }
  | { kind: 'partitionChanged'; version: number; topicId: string; topic: string; partition: PartitionRecord }
  | { kind: 'groupChanged'; version: number; groupId: string; state: GroupState; generation: number; memberCount: number }
  | { kind: 'groupDeleted'; version: number; groupId: string }
  | { kind: 'uploadSessionChanged'; version: number; session: UploadSessionRecord }
  /** A terminal session evicted to keep the catalog within its bounds. */
  | { kind: 'uploadSessionRemoved'; version: number; deviceId: string; sessionId: string }
  | { kind: 'controllersChanged'; version: number; controllers: ControllerRecord[] }
  /** A device connected, disconnected, or its pending commands or acks changed: its whole record. */
  | { kind: 'deviceChanged'; version: number; device: DeviceRecord }
  /** A disconnected device evicted to keep the registry within its bound. */
  | { kind: 'deviceRemoved'; version: number; deviceId: string };

export type MetadataDeltaKind = MetadataDelta['kind'];

export function brokerStanding(broker: BrokerRecord): BrokerStanding {
  if (broker.fenced) return 'fenced';
  return broker.shuttingDown ? 'shuttingDown' : 'active';
}

export function copyPartition(partition: PartitionRecord): PartitionRecord {
  return { ...partition, replicas: [...partition.replicas], isr: [...partition.isr] };
}

export function brokerRegisteredDelta(version: number, broker: BrokerRecord): MetadataDelta {
  return { kind: 'brokerRegistered', version, broker: { ...broker } };
}

export function brokerStateChangedDelta(version: number, broker: BrokerRecord): MetadataDelta {
  const { brokerId, brokerEpoch, fenced, shuttingDown } = broker;
  return { kind: 'brokerStateChanged', version, brokerId, brokerEpoch, fenced, shuttingDown, standing: brokerStanding(broker) };
}

export function topicCreatedDelta(version: number, topic: TopicRecord): MetadataDelta {
  return { kind: 'topicCreated', version, topicId: topic.topicId, name: topic.name, config: copyTopicConfig(topic.config) };
}

export function partitionChangedDelta(version: number, topic: TopicRecord, partition: PartitionRecord): MetadataDelta {
  return { kind: 'partitionChanged', version, topicId: topic.topicId, topic: topic.name, partition: copyPartition(partition) };
}

export function groupChangedDelta(version: number, group: GroupRecord): MetadataDelta {
  return { kind: 'groupChanged', version, groupId: group.groupId, state: group.state, generation: group.generation, memberCount: group.members.size };
}

export function controllersChangedDelta(version: number, controllers: ReadonlyMap<number, ControllerRecord>): MetadataDelta {
  return { kind: 'controllersChanged', version, controllers: sortedValues(controllers).map((controller) => ({ ...controller })) };
}
