import type { handleServerStreamingCall, handleUnaryCall } from '@grpc/grpc-js';
import type { Clock } from '../../actors/clock.js';
import type { MetadataController } from '../../actors/metadata-controller/metadata-controller.js';
import type { AlterPartitionCommand } from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import { toErrorDetail, toGrpcStatus } from '../error-status.js';
import {
  type AckDeviceCommandRequest,
  type AckDeviceCommandResponse,
  type ConnectDeviceRequest,
  type ConnectDeviceResponse,
  type DisconnectDeviceRequest,
  type DisconnectDeviceResponse,
  type QueueDeviceCommandRequest,
  type QueueDeviceCommandResponse,
  QueuedCommandStatus,
  type AllocateProducerIdsRequest,
  type AllocateProducerIdsResponse,
  type AlterPartitionRequest,
  type AlterPartitionResponse,
  type AlterPartitionResult,
  type BrokerHeartbeatRequest,
  type BrokerHeartbeatResponse,
  ControllerBrokerServiceService,
  type PartitionIsrChange,
  type RecordUploadSessionRequest,
  type RecordUploadSessionResponse,
  type RegisterBrokerRequest,
  type RegisterBrokerResponse,
  type WatchMetadataRequest,
  type WatchMetadataResponse,
} from '../generated/tributary/controller/v1/controller_broker_service.js';
import type { RpcService } from '../server/rpc-server.js';
import { uploadSessionFromProto, uploadSessionToProto } from '../upload-session-mapping.js';
import { ackFromProto, ackRecordToProto, commandFromProto, commandToProto, deviceRecordToProto } from '../device-control-mapping.js';
import { requireLeader } from './require-leader.js';
import { serveUnary } from './serve-unary.js';
import { partitionToProto } from './cluster-metadata-mapping.js';
import { brokerStandingToProto } from './metadata-delta-mapping.js';
import { createWireRecordCache, MetadataWatchStream } from './metadata-watch-stream.js';

/** A broker is told to heartbeat this many times per session timeout, so one lost heartbeat is harmless. */
export const brokerHeartbeatsPerSession = 4;
/** ISR changes one AlterPartition may carry: one per partition a broker leads, bounded. */
export const alterPartitionChangesMax = 10_000;

/** What the service needs of the controller: the MetadataController in production. */
export type BrokerServiceController = Pick<MetadataController, 'nodeId' | 'state' | 'feed' | 'submit' | 'leaderHint' | 'stalenessMs'>;

export interface ControllerBrokerServiceOptions {
  readonly controller: BrokerServiceController;
  readonly clusterId: string;
  /** Stamps `nowMs` on heartbeats and registrations: the leader's clock decides deadlines. */
  readonly clock: Clock;
  /** controller.brokerSessionTimeoutMs: brokers cannot choose their own (the proto has no field). */
  readonly brokerSessionTimeoutMs: number;
  /** The server's message bound; WatchMetadata messages stay below it. */
  readonly maxMessageBytes: number;
  /** When it aborts, every WatchMetadata stream ends with SHUTTING_DOWN. */
  readonly shutdownSignal?: AbortSignal | undefined;
}

/**
 * `tributary.controller.v1.ControllerBrokerService` (docs/CONTROLLER.md): registration,
 * heartbeats and ISR changes are proposed on the leader (a follower answers NOT_LEADER with the
 * hint); WatchMetadata is served by every controller from its own applied state.
 */
export function createControllerBrokerService(options: ControllerBrokerServiceOptions): RpcService {
  const encode = createWireRecordCache();
  const registerBroker: handleUnaryCall<RegisterBrokerRequest, RegisterBrokerResponse> = (call, callback) => {
    register(options, call.request).then((response) => callback(null, response), (error: unknown) => callback(toGrpcStatus(error)));
  };
  const brokerHeartbeat: handleUnaryCall<BrokerHeartbeatRequest, BrokerHeartbeatResponse> = (call, callback) => {
    heartbeat(options, call.request).then((response) => callback(null, response), (error: unknown) => callback(toGrpcStatus(error)));
  };
  const alterPartition: handleUnaryCall<AlterPartitionRequest, AlterPartitionResponse> = (call, callback) => {
    alterPartitions(options, call.request).then((response) => callback(null, response), (error: unknown) => callback(toGrpcStatus(error)));
  };
  const watchMetadata: handleServerStreamingCall<WatchMetadataRequest, WatchMetadataResponse> = (call) => {
    const settings = {
      source: options.controller,
      clock: options.clock,
      clusterId: options.clusterId,
      serverMessageBytesMax: options.maxMessageBytes,
      shutdownSignal: options.shutdownSignal,
      encode,
    };
    new MetadataWatchStream(call, settings).start();
  };
  const allocateProducerIds: handleUnaryCall<AllocateProducerIdsRequest, AllocateProducerIdsResponse> = (call, callback) => {
    allocate(options, call.request).then((response) => callback(null, response), (error: unknown) => callback(toGrpcStatus(error)));
  };
  const recordUploadSession: handleUnaryCall<RecordUploadSessionRequest, RecordUploadSessionResponse> = (call, callback) => {
    recordSession(options, call.request).then((response) => callback(null, response), (error: unknown) => callback(toGrpcStatus(error)));
  };
  return {
    definition: ControllerBrokerServiceService,
    implementation: {
      registerBroker, brokerHeartbeat, alterPartition, watchMetadata, allocateProducerIds, recordUploadSession,
      connectDevice: serveUnary((request: ConnectDeviceRequest) => connectDevice(options, request)),
      disconnectDevice: serveUnary((request: DisconnectDeviceRequest) => disconnectDevice(options, request)),
      queueDeviceCommand: serveUnary((request: QueueDeviceCommandRequest) => queueDeviceCommand(options, request)),
      ackDeviceCommand: serveUnary((request: AckDeviceCommandRequest) => ackDeviceCommand(options, request)),
    },
  };
}

function heartbeatIntervalMs(options: ControllerBrokerServiceOptions): number {
  return Math.max(1, Math.floor(options.brokerSessionTimeoutMs / brokerHeartbeatsPerSession));
}

async function register(options: ControllerBrokerServiceOptions, request: RegisterBrokerRequest): Promise<RegisterBrokerResponse> {
  requireLeader(options.controller, 'RegisterBroker');
  if (request.clusterId !== '' && request.clusterId !== options.clusterId) {
    throw new TributaryError('INVALID_REQUEST', `broker ${request.nodeId} belongs to cluster "${request.clusterId}" but this is cluster "${options.clusterId}"; check its data directory and controller addresses`);
  }
  const { brokerEpoch } = await options.controller.submit({
    type: 'registerBroker',
    brokerId: request.nodeId,
    address: request.address,
    rack: request.rack,
    incarnationId: request.incarnationId,
    nowMs: options.clock.nowMs(),
    sessionTimeoutMs: options.brokerSessionTimeoutMs,
  });
  // The epoch is the Raft index of the registration: the version a broker must apply before unfencing.
  return {
    incarnationEpoch: brokerEpoch,
    clusterId: options.clusterId,
    metadataVersion: brokerEpoch,
    sessionTimeoutMs: options.brokerSessionTimeoutMs,
    heartbeatIntervalMs: heartbeatIntervalMs(options),
  };
}

async function heartbeat(options: ControllerBrokerServiceOptions, request: BrokerHeartbeatRequest): Promise<BrokerHeartbeatResponse> {
  requireLeader(options.controller, 'BrokerHeartbeat');
  const output = await options.controller.submit({
    type: 'brokerHeartbeat',
    brokerId: request.nodeId,
    brokerEpoch: request.incarnationEpoch,
    metadataVersion: request.metadataVersion,
    wantsFence: request.wantsFence,
    wantsShutdown: request.wantsShutdown,
    nowMs: options.clock.nowMs(),
    sessionTimeoutMs: options.brokerSessionTimeoutMs,
  });
  return {
    state: brokerStandingToProto(output.standing),
    sessionTimeoutMs: options.brokerSessionTimeoutMs,
    heartbeatIntervalMs: heartbeatIntervalMs(options),
    shutdownReady: output.shutdownReady,
    remainingLeaderships: output.remainingLeaderships,
    metadataVersion: options.controller.state.version,
  };
}

async function allocate(options: ControllerBrokerServiceOptions, request: AllocateProducerIdsRequest): Promise<AllocateProducerIdsResponse> {
  requireLeader(options.controller, 'AllocateProducerIds');
  const block = await options.controller.submit({ type: 'allocateProducerIds', brokerId: request.brokerId, brokerEpoch: request.incarnationEpoch });
  return { firstProducerId: block.firstProducerId, count: block.count };
}

/** The broker's epoch is checked in the command itself, so a broker replaced while it waits is FENCED too. */
async function recordSession(options: ControllerBrokerServiceOptions, request: RecordUploadSessionRequest): Promise<RecordUploadSessionResponse> {
  requireLeader(options.controller, 'RecordUploadSession');
  const { updatedAtMs: _stampedByLeader, ...session } = uploadSessionFromProto(request.session);
  const output = await options.controller.submit({
    type: 'upsertUploadSession', brokerId: request.brokerId, brokerEpoch: request.incarnationEpoch, ...session, nowMs: options.clock.nowMs(),
  });
  return { session: uploadSessionToProto(output.session), metadataVersion: options.controller.state.version };
}

async function connectDevice(options: ControllerBrokerServiceOptions, request: ConnectDeviceRequest): Promise<ConnectDeviceResponse> {
  requireLeader(options.controller, 'ConnectDevice');
  const { device } = await options.controller.submit({
    type: 'connectDevice', brokerId: request.brokerId, brokerEpoch: request.incarnationEpoch, deviceId: request.deviceId, nowMs: options.clock.nowMs(),
  });
  return { device: deviceRecordToProto(device) };
}

async function disconnectDevice(options: ControllerBrokerServiceOptions, request: DisconnectDeviceRequest): Promise<DisconnectDeviceResponse> {
  requireLeader(options.controller, 'DisconnectDevice');
  return options.controller.submit({
    type: 'disconnectDevice', brokerId: request.brokerId, deviceId: request.deviceId, connectionEpoch: request.connectionEpoch, nowMs: options.clock.nowMs(),
  });
}

const queuedStatusOf = { queued: QueuedCommandStatus.QUEUED, pending: QueuedCommandStatus.PENDING, acknowledged: QueuedCommandStatus.ACKNOWLEDGED } as const;

async function queueDeviceCommand(options: ControllerBrokerServiceOptions, request: QueueDeviceCommandRequest): Promise<QueueDeviceCommandResponse> {
  requireLeader(options.controller, 'QueueDeviceCommand');
  const command = commandFromProto(request.command, `QueueDeviceCommand for device "${request.deviceId}"`);
  const output = await options.controller.submit({ type: 'queueDeviceCommand', deviceId: request.deviceId, command, nowMs: options.clock.nowMs() });
  const device = deviceRecordToProto(output.device);
  if (output.status === 'acknowledged') return { status: queuedStatusOf.acknowledged, command: undefined, ack: ackRecordToProto(output.ack), device };
  return { status: queuedStatusOf[output.status], command: commandToProto(output.command), ack: undefined, device };
}

async function ackDeviceCommand(options: ControllerBrokerServiceOptions, request: AckDeviceCommandRequest): Promise<AckDeviceCommandResponse> {
  requireLeader(options.controller, 'AckDeviceCommand');
  const ack = ackFromProto(request.ack, `AckDeviceCommand for device "${request.deviceId}"`);
  const output = await options.controller.submit({ type: 'ackDeviceCommand', deviceId: request.deviceId, ...ack, nowMs: options.clock.nowMs() });
  return { ack: ackRecordToProto(output.ack) };
}

/**
 * Each change is its own command, proposed together (the Raft host batches them into one append),
 * and fails or succeeds on its own. The broker's epoch is checked first so a replaced broker
 * learns it once, for the whole call.
 */
async function alterPartitions(options: ControllerBrokerServiceOptions, request: AlterPartitionRequest): Promise<AlterPartitionResponse> {
  requireLeader(options.controller, 'AlterPartition');
  checkChanges(request);
  checkBrokerEpoch(options.controller, request.brokerId, request.incarnationEpoch);
  const results = await Promise.all(request.changes.map((change) => alterOne(options.controller, request, change)));
  return { results };
}

function checkChanges(request: AlterPartitionRequest): void {
  if (request.changes.length > alterPartitionChangesMax) {
    throw new TributaryError('INVALID_REQUEST', `AlterPartition carries ${request.changes.length} changes; at most ${alterPartitionChangesMax} are allowed per call`);
  }
  const seen = new Set<string>();
  for (const change of request.changes) {
    if (change.topicPartition === undefined) throw new TributaryError('INVALID_REQUEST', 'an AlterPartition change has no topic_partition');
    const key = `${change.topicPartition.topic}/${change.topicPartition.partition}`;
    if (seen.has(key)) throw new TributaryError('INVALID_REQUEST', `AlterPartition names ${key} twice; send at most one change per partition`);
    seen.add(key);
  }
}

function checkBrokerEpoch(controller: BrokerServiceController, brokerId: number, brokerEpoch: number): void {
  const broker = controller.state.brokers.get(brokerId);
  if (broker === undefined) throw new TributaryError('NODE_NOT_FOUND', `broker ${brokerId} is not registered; register it first`);
  if (brokerEpoch < broker.brokerEpoch) {
    throw new TributaryError('FENCED', `broker ${brokerId} epoch ${brokerEpoch} was replaced by epoch ${broker.brokerEpoch}; stop serving and register again`);
  }
}

async function alterOne(controller: BrokerServiceController, request: AlterPartitionRequest, change: PartitionIsrChange): Promise<AlterPartitionResult> {
  const topicPartition = change.topicPartition ?? { topic: '', partition: 0 };
  const command: AlterPartitionCommand = {
    type: 'alterPartition',
    brokerId: request.brokerId,
    brokerEpoch: request.incarnationEpoch,
    topic: topicPartition.topic,
    topicId: change.topicId,
    partition: topicPartition.partition,
    leaderEpoch: change.leaderEpoch,
    partitionEpoch: change.partitionEpoch,
    newIsr: change.newIsr.map((member) => ({ brokerId: member.nodeId, brokerEpoch: member.incarnationEpoch })),
  };
  try {
    await controller.submit(command);
    return { topicPartition, error: undefined, ...currentPartition(controller, topicPartition.topic, topicPartition.partition) };
  } catch (error) {
    const failure = TributaryError.from(error);
    // Leadership lost mid-call fails the call, so the client's router follows the hint.
    if (failure.code === 'NOT_LEADER' && failure.leaderHint !== undefined) throw failure;
    const current = failure.code === 'STALE_EPOCH' ? currentPartition(controller, topicPartition.topic, topicPartition.partition) : { partition: undefined, metadataVersion: 0 };
    return { topicPartition, error: toErrorDetail(failure), ...current };
  }
}

/** The partition as the applied state holds it now, with that state's version: a consistent pair. */
function currentPartition(controller: BrokerServiceController, topic: string, partition: number): Pick<AlterPartitionResult, 'partition' | 'metadataVersion'> {
  const record = controller.state.topics.get(topic)?.partitions[partition];
  return { partition: record === undefined ? undefined : partitionToProto(topic, record), metadataVersion: controller.state.version };
}
