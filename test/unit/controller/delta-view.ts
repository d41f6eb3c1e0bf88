import { expect } from 'vitest';
import type { BrokerRecord, ControllerRecord, DeviceRecord, MetadataDelta, PartitionRecord, TopicConfig, UploadSessionRecord } from '../../../src/controller/index.js';

/** What a WatchMetadata follower keeps: built only from delta records. */
export interface DeltaView {
  version: number;
  brokers: Map<number, BrokerRecord>;
  topics: Map<string, { name: string; config: TopicConfig }>;
  partitions: Map<string, PartitionRecord>;
  groups: Map<string, { state: string; generation: number; memberCount: number }>;
  sessions: Map<string, UploadSessionRecord>;
  devices: Map<string, DeviceRecord>;
  controllers: ControllerRecord[];
}

export function emptyDeltaView(): DeltaView {
  return { version: 0, brokers: new Map(), topics: new Map(), partitions: new Map(), groups: new Map(), sessions: new Map(), devices: new Map(), controllers: [] };
}

export function applyDeltas(view: DeltaView, deltas: readonly MetadataDelta[]): void {
  for (const delta of deltas) {
    expect(delta.version).toBeGreaterThanOrEqual(view.version);
    view.version = delta.version;
    applyDelta(view, delta);
  }
}

function applyDelta(view: DeltaView, delta: MetadataDelta): void {
  switch (delta.kind) {
    case 'brokerRegistered': view.brokers.set(delta.broker.brokerId, { ...delta.broker }); break;
    case 'brokerStateChanged': {
      const broker = view.brokers.get(delta.brokerId);
      expect(broker?.brokerEpoch).toBe(delta.brokerEpoch);
      if (broker !== undefined) Object.assign(broker, { fenced: delta.fenced, shuttingDown: delta.shuttingDown });
      break;
    }
    case 'topicCreated': view.topics.set(delta.topicId, { name: delta.name, config: delta.config }); break;
    case 'topicConfigChanged': view.topics.set(delta.topicId, { name: delta.name, config: delta.config }); break;
    case 'topicDeleted':
      view.topics.delete(delta.topicId);
      for (const key of [...view.partitions.keys()]) if (key.startsWith(`${delta.topicId}/`)) view.partitions.delete(key);
      break;
    case 'partitionChanged': view.partitions.set(`${delta.topicId}/${delta.partition.partition}`, delta.partition); break;
    case 'groupChanged': view.groups.set(delta.groupId, { state: delta.state, generation: delta.generation, memberCount: delta.memberCount }); break;
    case 'groupDeleted': view.groups.delete(delta.groupId); break;
    case 'uploadSessionChanged': view.sessions.set(`${delta.session.deviceId}/${delta.session.sessionId}`, delta.session); break;
    case 'uploadSessionRemoved': view.sessions.delete(`${delta.deviceId}/${delta.sessionId}`); break;
    case 'deviceChanged': view.devices.set(delta.device.deviceId, delta.device); break;
    case 'deviceRemoved': view.devices.delete(delta.deviceId); break;
    case 'controllersChanged': view.controllers = delta.controllers; break;
  }
}

/** The view with brokers compared on what deltas carry (heartbeat deadlines are not metadata a watcher sees). */
export function comparableView(view: DeltaView): unknown {
  const brokers = [...view.brokers.values()].map(({ heartbeatDeadlineMs: _deadline, ...rest }) => rest).sort((left, right) => left.brokerId - right.brokerId);
  const sortedEntries = <V>(map: Map<string, V>) => [...map.entries()].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  return {
    brokers, topics: sortedEntries(view.topics), partitions: sortedEntries(view.partitions), groups: sortedEntries(view.groups),
    sessions: sortedEntries(view.sessions), devices: sortedEntries(view.devices), controllers: view.controllers,
  };
}
