import type {
  ControllerRole, DeviceCommandOutcome, DeviceCommandRecord, GroupProtocol, MemberAssignment, MutableTopicConfig, TopicConfig, UploadSessionSource,
  UploadSessionState,
} from './metadata-state.js';

/*
 * Every change to the metadata is one of these commands, proposed by the controller leader as a
 * Raft entry (encoded by metadata-command-codec.ts) and applied by every controller in log order.
 * Anything that would differ between replicas is decided by the proposer and carried as data:
 * the current time (`nowMs`), timeouts taken from the leader's configuration. Defaults (e.g. of
 * a topic's config) are filled in by the service before proposing, so the command is complete.
 */

export interface RegisterBrokerCommand {
  type: 'registerBroker';
  brokerId: number;
  address: string;
  rack: string;
  incarnationId: string;
  nowMs: number;
  sessionTimeoutMs: number;
}

export interface BrokerHeartbeatCommand {
  type: 'brokerHeartbeat';
  brokerId: number;
  brokerEpoch: number;
  /** Highest metadata version the broker has applied; it is unfenced only once it reached its registration. */
  metadataVersion: number;
  /** The broker is still recovering and asks to stay fenced. */
  wantsFence: boolean;
  /** The broker asks for controlled shutdown: its leaderships move away. */
  wantsShutdown: boolean;
  nowMs: number;
  sessionTimeoutMs: number;
}

/** Proposed by the leader from its own clock: fences every broker whose deadline has passed. */
export interface FenceExpiredBrokersCommand {
  type: 'fenceExpiredBrokers';
  nowMs: number;
}

export interface CreateTopicCommand {
  type: 'createTopic';
  name: string;
  config: TopicConfig;
  /** Explicit replicas per partition; empty lets the controller place them. */
  replicaAssignment: number[][];
  idempotencyKey: string;
}

export interface DeleteTopicCommand {
  type: 'deleteTopic';
  name: string;
  /** When not '', the topic is deleted only if its id matches. */
  topicId: string;
}

export interface UpdateTopicConfigCommand {
  type: 'updateTopicConfig';
  name: string;
  /** When not '', the update applies only if the topic's id matches. */
  topicId: string;
  changes: Partial<Omit<MutableTopicConfig, 'labels'>>;
  /** A patch of the labels: `set` adds or overwrites, then `remove` deletes keys (absent keys are ignored). */
  labels?: TopicLabelChanges;
}

export interface TopicLabelChanges {
  set: Record<string, string>;
  remove: string[];
}

export interface IsrMember {
  brokerId: number;
  /** The epoch the member replicated with, as the leader saw it (Kafka KIP-903). */
  brokerEpoch: number;
}

export interface AlterPartitionCommand {
  type: 'alterPartition';
  brokerId: number;
  brokerEpoch: number;
  topic: string;
  topicId: string;
  partition: number;
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: IsrMember[];
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export type ElectionType = 'preferred' | 'unclean';

export interface ElectLeadersCommand {
  type: 'electLeaders';
  election: ElectionType;
  /** Empty with 'preferred': every partition whose leader is not its preferred replica. */
  partitions: TopicPartition[];
}

export interface JoinGroupCommand {
  type: 'joinGroup';
  groupId: string;
  /** '' on a first join: the coordinator assigns one. */
  memberId: string;
  groupInstanceId: string;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: GroupProtocol[];
  nowMs: number;
}

export interface AssignmentForMember extends MemberAssignment {
  memberId: string;
}

export interface SyncGroupCommand {
  type: 'syncGroup';
  groupId: string;
  memberId: string;
  generation: number;
  /** From the generation's leader only: one per member; empty from followers. */
  assignments: AssignmentForMember[];
  nowMs: number;
}

export interface GroupHeartbeatCommand {
  type: 'groupHeartbeat';
  groupId: string;
  memberId: string;
  generation: number;
  nowMs: number;
}

export interface LeavingMember {
  /** May be '' when groupInstanceId names the member. */
  memberId: string;
  groupInstanceId: string;
}

export interface LeaveGroupCommand {
  type: 'leaveGroup';
  groupId: string;
  members: LeavingMember[];
  nowMs: number;
}

export interface OffsetCommit {
  topic: string;
  partition: number;
  /** The next offset to consume. */
  offset: number;
  leaderEpoch: number;
  metadata: string;
}

export interface CommitOffsetsCommand {
  type: 'commitOffsets';
  groupId: string;
  /** '' with generation 0 for a standalone consumer, accepted only while the group has no members. */
  memberId: string;
  generation: number;
  offsets: OffsetCommit[];
  nowMs: number;
}

/** Proposed by the leader from its own clock: removes expired members, completes due rebalances. */
export interface ExpireGroupMembersCommand {
  type: 'expireGroupMembers';
  nowMs: number;
}

export interface UpsertUploadSessionCommand {
  type: 'upsertUploadSession';
  /** The recording broker and its epoch: a replaced broker process is FENCED. */
  brokerId: number;
  brokerEpoch: number;
  deviceId: string;
  sessionId: string;
  state: UploadSessionState;
  topic: string;
  partition: number;
  committedLength: number;
  digest: string;
  createdAtMs: number;
  expiresAtMs: number;
  failure: string;
  sources: UploadSessionSource[];
  nowMs: number;
}

export interface RegisterControllerCommand {
  type: 'registerController';
  nodeId: number;
  address: string;
  role: ControllerRole;
}

export interface UnregisterControllerCommand {
  type: 'unregisterController';
  nodeId: number;
}

/**
 * A broker asks for a block of idempotent-producer ids to hand out from (Kafka KIP-730): ids are
 * unique across the cluster because only the quorum moves `nextProducerId`.
 */
export interface AllocateProducerIdsCommand {
  type: 'allocateProducerIds';
  brokerId: number;
  brokerEpoch: number;
}

/** A broker opened a device's Control stream: the device's newest connection, on this broker. */
export interface ConnectDeviceCommand {
  type: 'connectDevice';
  brokerId: number;
  brokerEpoch: number;
  deviceId: string;
  nowMs: number;
}

/** A broker's Control stream of the device ended; ignored unless it is still the device's latest. */
export interface DisconnectDeviceCommand {
  type: 'disconnectDevice';
  brokerId: number;
  deviceId: string;
  connectionEpoch: number;
  nowMs: number;
}

/** Holds a command for a device until it is acknowledged or expires; idempotent on the command id. */
export interface QueueDeviceCommandCommand {
  type: 'queueDeviceCommand';
  deviceId: string;
  command: DeviceCommandRecord;
  nowMs: number;
}

/** A device acknowledged a command: it is no longer pending, and its ack is remembered. */
export interface AckDeviceCommandCommand {
  type: 'ackDeviceCommand';
  deviceId: string;
  commandId: string;
  outcome: DeviceCommandOutcome;
  message: string;
  completedAtMs: number;
  nowMs: number;
}

export type MetadataCommand =
  | RegisterBrokerCommand
  | BrokerHeartbeatCommand
  | FenceExpiredBrokersCommand
  | CreateTopicCommand
  | DeleteTopicCommand
  | UpdateTopicConfigCommand
  | AlterPartitionCommand
  | ElectLeadersCommand
  | JoinGroupCommand
  | SyncGroupCommand
  | GroupHeartbeatCommand
  | LeaveGroupCommand
  | CommitOffsetsCommand
  | ExpireGroupMembersCommand
  | UpsertUploadSessionCommand
  | RegisterControllerCommand
  | UnregisterControllerCommand
  | AllocateProducerIdsCommand
  | ConnectDeviceCommand
  | DisconnectDeviceCommand
  | QueueDeviceCommandCommand
  | AckDeviceCommandCommand;

export type MetadataCommandType = MetadataCommand['type'];
