import type { AllocateProducerIdsOutput } from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';
import {
  type AllocateProducerIdsResponse,
  type AlterPartitionResponse,
  type BrokerHeartbeatResponse,
  ControllerBrokerServiceClient,
  type AckDeviceCommandResponse,
  type ConnectDeviceResponse,
  type DisconnectDeviceResponse,
  QueuedCommandStatus,
  type QueueDeviceCommandResponse,
  type RecordUploadSessionResponse,
  type RegisterBrokerResponse,
} from '../generated/tributary/controller/v1/controller_broker_service.js';
import { type BrokerStanding, itemErrorFromProto, partitionFromProto, type PartitionInfo } from './cluster-metadata-types.js';
import { ControllerChannels, type ControllerClientOptions } from './controller-channels.js';
import { brokerStandingFromProto } from './metadata-record-mapping.js';
import { type MetadataWatch, type MetadataWatchOptions, type MetadataWatchPolicy, type MetadataWatchUpdate, MetadataWatcher, metadataWatchDefaults } from './metadata-watcher.js';
import { newRequestHeader } from './request-header.js';
import { uploadSessionFromProto, uploadSessionToProto } from '../upload-session-mapping.js';
import type { UploadSessionCatalogEntry } from './upload-session-catalog-entry.js';
import type { DeviceCommandAckRecord, DeviceCommandRecord, DeviceRegistryEntry } from './device-registry-entry.js';
import type { DeviceCommandAck } from '../../ingest/device-control-types.js';
import { ackRecordFromProto, ackToProto, commandFromProto, commandToProto, deviceRecordFromProto } from '../device-control-mapping.js';

/** What became of a queued command (QueueDeviceCommand). */
export type QueuedDeviceCommand =
  | { status: 'queued' | 'pending'; command: DeviceCommandRecord; device: DeviceRegistryEntry }
  | { status: 'acknowledged'; ack: DeviceCommandAckRecord; device: DeviceRegistryEntry };

/** A starting broker process, as it registers. */
export interface BrokerRegistration {
  nodeId: number;
  address: string;
  rack?: string;
  /** A UUID made once per process start: a retried registration gets the same epoch back. */
  incarnationId: string;
  /** From the broker's data directory; empty on a fresh one. */
  clusterId?: string;
  logDirs?: string[];
}

export interface BrokerRegistered {
  /** The incarnation epoch to carry in every later call. */
  brokerEpoch: number;
  clusterId: string;
  /** The metadata version holding the registration: apply it before a heartbeat can unfence. */
  metadataVersion: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
}

export interface BrokerHeartbeat {
  nodeId: number;
  brokerEpoch: number;
  /** The highest metadata version the broker has applied. */
  metadataVersion: number;
  wantsFence?: boolean;
  wantsShutdown?: boolean;
  offlineLogDirs?: string[];
}

export interface BrokerHeartbeatAnswer {
  standing: BrokerStanding;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  shutdownReady: boolean;
  remainingLeaderships: number;
  metadataVersion: number;
}

/** A leader's proposed ISR for one partition, based on the epochs it knows. */
export interface IsrChange {
  topic: string;
  partition: number;
  topicId: string;
  leaderEpoch: number;
  partitionEpoch: number;
  /** Each member with the incarnation epoch it replicated with. */
  newIsr: Array<{ nodeId: number; brokerEpoch: number }>;
}

export interface IsrChangeOutcome {
  topic: string;
  partition: number;
  /** undefined on success. */
  error: TributaryError | undefined;
  /** The partition after the change, or its current state on STALE_EPOCH; undefined otherwise. */
  partitionInfo: PartitionInfo | undefined;
  /** The metadata version holding `partitionInfo`. */
  metadataVersion: number;
}

/**
 * `tributary.controller.v1.ControllerBrokerService` for brokers: registration, heartbeats and ISR
 * changes go to the controller leader through the LeaderRouter (registration and heartbeats are
 * retried after a timeout, being idempotent; ISR changes are not, since a retry of an applied one
 * would only meet its own new epoch); `watchMetadata` follows the metadata stream across
 * controllers and leader changes.
 */
export class ControllerBrokerClient {
  private readonly channels: ControllerChannels<ControllerBrokerServiceClient>;
  private readonly watches = new Set<MetadataWatcher>();

  constructor(private readonly options: ControllerClientOptions & { watch?: MetadataWatchPolicy }) {
    this.channels = new ControllerChannels((address, credentials, channelOptions) => new ControllerBrokerServiceClient(address, credentials, channelOptions), options);
  }

  async register(registration: BrokerRegistration): Promise<BrokerRegistered> {
    const request = {
      header: newRequestHeader(this.options.clientId),
      nodeId: registration.nodeId,
      address: registration.address,
      rack: registration.rack ?? '',
      incarnationId: registration.incarnationId,
      clusterId: registration.clusterId ?? '',
      logDirs: registration.logDirs ?? [],
    };
    const response = await this.channels.routed<RegisterBrokerResponse>((stub, metadata, options, callback) => stub.registerBroker(request, metadata, options, callback), { idempotent: true });
    const { incarnationEpoch, clusterId, metadataVersion, sessionTimeoutMs, heartbeatIntervalMs } = response;
    return { brokerEpoch: incarnationEpoch, clusterId, metadataVersion, sessionTimeoutMs, heartbeatIntervalMs };
  }

  async heartbeat(heartbeat: BrokerHeartbeat): Promise<BrokerHeartbeatAnswer> {
    const request = {
      header: newRequestHeader(this.options.clientId),
      nodeId: heartbeat.nodeId,
      incarnationEpoch: heartbeat.brokerEpoch,
      metadataVersion: heartbeat.metadataVersion,
      wantsFence: heartbeat.wantsFence ?? false,
      wantsShutdown: heartbeat.wantsShutdown ?? false,
      offlineLogDirs: heartbeat.offlineLogDirs ?? [],
    };
    const response = await this.channels.routed<BrokerHeartbeatResponse>((stub, metadata, options, callback) => stub.brokerHeartbeat(request, metadata, options, callback), { idempotent: true });
    const { sessionTimeoutMs, heartbeatIntervalMs, shutdownReady, remainingLeaderships, metadataVersion } = response;
    return { standing: brokerStandingFromProto(response.state), sessionTimeoutMs, heartbeatIntervalMs, shutdownReady, remainingLeaderships, metadataVersion };
  }

  async alterPartition(brokerId: number, brokerEpoch: number, changes: readonly IsrChange[]): Promise<IsrChangeOutcome[]> {
    const request = {
      header: newRequestHeader(this.options.clientId),
      brokerId,
      incarnationEpoch: brokerEpoch,
      changes: changes.map((change) => ({
        topicPartition: { topic: change.topic, partition: change.partition },
        topicId: change.topicId,
        leaderEpoch: change.leaderEpoch,
        partitionEpoch: change.partitionEpoch,
        newIsr: change.newIsr.map((member) => ({ nodeId: member.nodeId, incarnationEpoch: member.brokerEpoch })),
      })),
    };
    const response = await this.channels.routed<AlterPartitionResponse>((stub, metadata, options, callback) => stub.alterPartition(request, metadata, options, callback), { idempotent: false });
    return response.results.map((result) => ({
      topic: result.topicPartition?.topic ?? '',
      partition: result.topicPartition?.partition ?? 0,
      error: itemErrorFromProto(result.error),
      partitionInfo: result.partition === undefined ? undefined : partitionFromProto(result.partition),
      metadataVersion: result.metadataVersion,
    }));
  }

  /**
   * A block of producer ids for this broker alone. Retried freely: a repeat that the controller
   * applied twice only wastes a block, it never hands one id to two brokers.
   */
  async allocateProducerIds(brokerId: number, brokerEpoch: number): Promise<AllocateProducerIdsOutput> {
    const request = { header: newRequestHeader(this.options.clientId), brokerId, incarnationEpoch: brokerEpoch };
    const response = await this.channels.routed<AllocateProducerIdsResponse>(
      (stub, metadata, options, callback) => stub.allocateProducerIds(request, metadata, options, callback), { idempotent: true },
    );
    return { firstProducerId: response.firstProducerId, count: response.count };
  }

  /**
   * Records a device upload session in the controller's catalog and answers it as recorded, with
   * the leader's `updatedAtMs` (the one given is ignored). Retried freely: a repeat of a recorded
   * state is accepted, also for a terminal session.
   */
  async recordUploadSession(brokerId: number, brokerEpoch: number, session: UploadSessionCatalogEntry): Promise<UploadSessionCatalogEntry> {
    const request = { header: newRequestHeader(this.options.clientId), brokerId, incarnationEpoch: brokerEpoch, session: uploadSessionToProto(session) };
    const response = await this.channels.routed<RecordUploadSessionResponse>(
      (stub, metadata, options, callback) => stub.recordUploadSession(request, metadata, options, callback), { idempotent: true },
    );
    return uploadSessionFromProto(response.session);
  }

  /** Records this broker's new Control stream of `deviceId`; answers the record with the new connection epoch and pending commands. */
  async connectDevice(brokerId: number, brokerEpoch: number, deviceId: string): Promise<DeviceRegistryEntry> {
    const request = { header: newRequestHeader(this.options.clientId), brokerId, incarnationEpoch: brokerEpoch, deviceId };
    // Not retried: a repeat would open yet another connection epoch and stale this stream itself.
    const response = await this.channels.routed<ConnectDeviceResponse>((stub, metadata, options, callback) => stub.connectDevice(request, metadata, options, callback), { idempotent: false });
    return deviceRecordFromProto(response.device);
  }

  /** Records the end of a Control stream; false when it was no longer the device's latest. */
  async disconnectDevice(brokerId: number, deviceId: string, connectionEpoch: number): Promise<boolean> {
    const request = { header: newRequestHeader(this.options.clientId), brokerId, deviceId, connectionEpoch };
    const response = await this.channels.routed<DisconnectDeviceResponse>((stub, metadata, options, callback) => stub.disconnectDevice(request, metadata, options, callback), { idempotent: true });
    return response.disconnected;
  }

  /** Holds a command for a device until acknowledged or expired; idempotent on its id, so retried freely. */
  async queueDeviceCommand(deviceId: string, command: DeviceCommandRecord): Promise<QueuedDeviceCommand> {
    const request = { header: newRequestHeader(this.options.clientId), deviceId, command: commandToProto(command) };
    const response = await this.channels.routed<QueueDeviceCommandResponse>((stub, metadata, options, callback) => stub.queueDeviceCommand(request, metadata, options, callback), { idempotent: true });
    const device = deviceRecordFromProto(response.device);
    const where = `the queued command "${command.commandId}" of device "${deviceId}"`;
    switch (response.status) {
      case QueuedCommandStatus.QUEUED: return { status: 'queued', command: commandFromProto(response.command, where), device };
      case QueuedCommandStatus.PENDING: return { status: 'pending', command: commandFromProto(response.command, where), device };
      case QueuedCommandStatus.ACKNOWLEDGED: return { status: 'acknowledged', ack: ackRecordFromProto(response.ack, where), device };
      default: throw new TributaryError('UNKNOWN', `the controller answered status ${response.status} for ${where}, which this client does not know`);
    }
  }

  /** Records a device's acknowledgement; a repeat answers the first one. */
  async ackDeviceCommand(deviceId: string, ack: DeviceCommandAck): Promise<DeviceCommandAckRecord> {
    const request = { header: newRequestHeader(this.options.clientId), deviceId, ack: ackToProto(ack) };
    const response = await this.channels.routed<AckDeviceCommandResponse>((stub, metadata, options, callback) => stub.ackDeviceCommand(request, metadata, options, callback), { idempotent: true });
    return ackRecordFromProto(response.ack, `the ack of command "${ack.commandId}" of device "${deviceId}"`);
  }

  /**
   * Streams metadata from `fromVersion` (0: from nothing, starting with an image) to `onUpdate`,
   * in version order, until closed or until it fails for good (`options.onError`).
   */
  watchMetadata(fromVersion: number, onUpdate: (update: MetadataWatchUpdate) => void, options: MetadataWatchOptions = {}): MetadataWatch {
    const policy = this.options.watch ?? metadataWatchDefaults;
    const watcher: MetadataWatcher = new MetadataWatcher(this.options.bootstrap, fromVersion, onUpdate, this.options, options, policy, () => this.watches.delete(watcher));
    this.watches.add(watcher);
    return watcher;
  }

  /** Ends every watch and closes the channels. */
  close(): void {
    for (const watch of [...this.watches]) watch.close();
    this.channels.close();
  }
}
