import { TributaryError } from '../../errors/index.js';
import { BrokerState } from '../generated/tributary/common/v1/common.js';
import type { MetadataDelta } from '../generated/tributary/controller/v1/controller_broker_service.js';
import {
  brokerFromProto, type BrokerInfo, type BrokerStanding, controllerFromProto, type ControllerInfo, partitionFromProto, type PartitionInfo,
  type TopicConfig, topicConfigFromProto,
} from './cluster-metadata-types.js';
import { uploadSessionFromProto } from '../upload-session-mapping.js';
import type { UploadSessionCatalogEntry } from './upload-session-catalog-entry.js';
import { deviceRecordFromProto } from '../device-control-mapping.js';
import type { DeviceRegistryEntry } from './device-registry-entry.js';

/**
 * One record of a metadata stream, in the SDK's terms: a change, or a piece of an image (an image
 * is the records that rebuild the whole state from nothing).
 */
export type MetadataRecord =
  | { kind: 'brokerRegistered'; broker: BrokerInfo }
  | { kind: 'brokerStateChanged'; nodeId: number; incarnationEpoch: number; state: BrokerStanding }
  | { kind: 'brokerUnregistered'; nodeId: number }
  | { kind: 'topicCreated'; topicId: string; name: string; config: TopicConfig }
  | { kind: 'topicConfigChanged'; topicId: string; name: string; config: TopicConfig }
  | { kind: 'topicDeleted'; topicId: string; name: string }
  | { kind: 'partitionChanged'; topicId: string; topic: string; partition: PartitionInfo }
  | { kind: 'controllersChanged'; controllers: ControllerInfo[] }
  | { kind: 'uploadSessionChanged'; session: UploadSessionCatalogEntry }
  | { kind: 'uploadSessionRemoved'; deviceId: string; sessionId: string }
  | { kind: 'deviceChanged'; device: DeviceRegistryEntry }
  | { kind: 'deviceRemoved'; deviceId: string };

const standingOf: Partial<Record<BrokerState, BrokerStanding>> = {
  [BrokerState.ACTIVE]: 'active', [BrokerState.FENCED]: 'fenced', [BrokerState.SHUTTING_DOWN]: 'shuttingDown',
};

export function brokerStandingFromProto(state: BrokerState): BrokerStanding {
  const standing = standingOf[state];
  if (standing === undefined) throw new TributaryError('UNKNOWN', `the controller sent broker state ${state}, which this client does not know; upgrade the client`);
  return standing;
}

/** A wire record as the SDK's; a kind this client does not know is refused, so no change is silently lost. */
export function metadataRecordFromProto(delta: MetadataDelta): MetadataRecord {
  const kind = delta.kind;
  switch (kind?.$case) {
    case 'brokerRegistered':
      return { kind: 'brokerRegistered', broker: brokerFromProto(kind.value) };
    case 'brokerStateChanged':
      return { kind: 'brokerStateChanged', nodeId: kind.value.nodeId, incarnationEpoch: kind.value.incarnationEpoch, state: brokerStandingFromProto(kind.value.state) };
    case 'brokerUnregistered':
      return { kind: 'brokerUnregistered', nodeId: kind.value.nodeId };
    case 'topicCreated':
      return { kind: 'topicCreated', topicId: kind.value.topicId, name: kind.value.name, config: topicConfigFromProto(kind.value.config) };
    case 'topicConfigChanged':
      return { kind: 'topicConfigChanged', topicId: kind.value.topicId, name: kind.value.name, config: topicConfigFromProto(kind.value.config) };
    case 'topicDeleted':
      return { kind: 'topicDeleted', topicId: kind.value.topicId, name: kind.value.name };
    case 'partitionChanged': {
      const { topicId, partition } = kind.value;
      if (partition === undefined) throw new TributaryError('UNKNOWN', `the controller sent a partition change of topic ${topicId} without the partition`);
      return { kind: 'partitionChanged', topicId, topic: partition.topicPartition?.topic ?? '', partition: partitionFromProto(partition) };
    }
    case 'controllersChanged':
      return { kind: 'controllersChanged', controllers: kind.value.controllers.map(controllerFromProto) };
    case 'uploadSessionChanged':
      return { kind: 'uploadSessionChanged', session: uploadSessionFromProto(kind.value) };
    case 'uploadSessionRemoved':
      return { kind: 'uploadSessionRemoved', deviceId: kind.value.deviceId, sessionId: kind.value.sessionId };
    case 'deviceChanged':
      return { kind: 'deviceChanged', device: deviceRecordFromProto(kind.value) };
    case 'deviceRemoved':
      return { kind: 'deviceRemoved', deviceId: kind.value.deviceId };
    case undefined:
      throw new TributaryError('UNKNOWN', 'the controller sent a metadata record of a kind this client does not know; upgrade the client');
  }
}
