import type { BrokerStanding, MetadataDelta } from '../../controller/index.js';
import { BrokerState } from '../generated/tributary/common/v1/common.js';
import type { MetadataDelta as WireMetadataDelta } from '../generated/tributary/controller/v1/controller_broker_service.js';
import { deviceRecordToProto } from '../device-control-mapping.js';
import { uploadSessionToProto } from '../upload-session-mapping.js';
import { brokerToProto, controllerRoleToProto, partitionToProto, topicConfigToProto } from './cluster-metadata-mapping.js';

const brokerStateOf: Record<BrokerStanding, BrokerState> = {
  active: BrokerState.ACTIVE,
  fenced: BrokerState.FENCED,
  shuttingDown: BrokerState.SHUTTING_DOWN,
};

export function brokerStandingToProto(standing: BrokerStanding): BrokerState {
  return brokerStateOf[standing];
}

/**
 * A metadata delta as WatchMetadata sends it, or undefined for the kinds the broker contract does
 * not carry: consumer groups are served by their own service. Upload sessions and devices are
 * carried because every broker answers ListSessions, ListDevices and SendCommand from its own view.
 */
export function toWireDelta(delta: MetadataDelta): WireMetadataDelta | undefined {
  switch (delta.kind) {
    case 'brokerRegistered':
      return { kind: { $case: 'brokerRegistered', value: brokerToProto(delta.broker) } };
    case 'brokerStateChanged':
      return { kind: { $case: 'brokerStateChanged', value: { nodeId: delta.brokerId, incarnationEpoch: delta.brokerEpoch, state: brokerStateOf[delta.standing] } } };
    case 'topicCreated':
      return { kind: { $case: 'topicCreated', value: { name: delta.name, topicId: delta.topicId, config: topicConfigToProto(delta.config) } } };
    case 'topicConfigChanged':
      return { kind: { $case: 'topicConfigChanged', value: { name: delta.name, topicId: delta.topicId, config: topicConfigToProto(delta.config) } } };
    case 'topicDeleted':
      return { kind: { $case: 'topicDeleted', value: { name: delta.name, topicId: delta.topicId } } };
    case 'partitionChanged':
      return { kind: { $case: 'partitionChanged', value: { topicId: delta.topicId, partition: partitionToProto(delta.topic, delta.partition) } } };
    case 'controllersChanged': {
      // Leadership is not metadata: it travels in MetadataHeartbeat (the proto leaves these unset).
      const controllers = delta.controllers.map((controller) => ({ nodeId: controller.nodeId, address: controller.address, role: controllerRoleToProto(controller.role), isLeader: false, matchIndex: 0 }));
      return { kind: { $case: 'controllersChanged', value: { controllers } } };
    }
    case 'uploadSessionChanged':
      return { kind: { $case: 'uploadSessionChanged', value: uploadSessionToProto(delta.session) } };
    case 'uploadSessionRemoved':
      return { kind: { $case: 'uploadSessionRemoved', value: { deviceId: delta.deviceId, sessionId: delta.sessionId } } };
    case 'deviceChanged':
      return { kind: { $case: 'deviceChanged', value: deviceRecordToProto(delta.device) } };
    case 'deviceRemoved':
      return { kind: { $case: 'deviceRemoved', value: { deviceId: delta.deviceId } } };
    case 'groupChanged':
    case 'groupDeleted':
      return undefined;
  }
}
