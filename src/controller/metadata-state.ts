import assert from 'node:assert/strict';

/**
 * The controller quorum's metadata: what every controller holds after applying the same committed
 * Raft entries. Records are plain data so snapshots, deltas and tests can copy and compare them.
 * Maps are keyed for lookup only; every place where order matters (placement, snapshots, images,
 * expiry passes) iterates them by sorted key, because a controller restored from a snapshot
 * inserts keys in a different order than one that applied the commands.
 */
export interface MetadataState {
  /** Raft index of the last command that was applied successfully; 0 for the empty state. */
  version: number;
  brokers: Map<number, BrokerRecord>;
  topics: Map<string, TopicRecord>;
  groups: Map<string, GroupRecord>;
  /** Keyed by `uploadSessionKey(deviceId, sessionId)`. */
  uploadSessions: Map<string, UploadSessionRecord>;
  /** Sources over every session in `uploadSessions`, kept so the bound costs nothing to check; not in snapshots. */
  uploadSourceCount: number;
  controllers: Map<number, ControllerRecord>;
  /** The device registry of the control plane, keyed by device id. */
  devices: Map<string, DeviceRecord>;
  /** Pending commands over every device, kept so the bound costs nothing to check; not in snapshots. */
  deviceCommandCount: number;
  /** The first idempotent-producer id not yet handed to a broker (ids start at 1; 0 means none). */
  nextProducerId: number;
}

/** Node ids are integers >= 1 (docs/ARCHITECTURE.md); 0 means "none", e.g. an offline leader. */
export const noLeader = 0;

export interface BrokerRecord {
  brokerId: number;
  address: string;
  /** Failure domain for placement; empty when not configured (the broker is its own domain). */
  rack: string;
  /** UUID chosen by the broker process at start; a retry with the same id is idempotent. */
  incarnationId: string;
  /** Raft index of the registration: strictly greater than every earlier epoch of the id. */
  brokerEpoch: number;
  /** Fenced brokers lead nothing and are in no ISR except as an offline partition's last member. */
  fenced: boolean;
  /** Controlled shutdown: no new leaderships or replicas are placed on the broker. */
  shuttingDown: boolean;
  heartbeatDeadlineMs: number;
}

export const compressionCodecs = ['none', 'lz4', 'zstd'] as const;
export type CompressionCodec = (typeof compressionCodecs)[number];

export interface TopicConfig {
  partitions: number;
  replicationFactor: number;
  minInSyncReplicas: number;
  /** 0 keeps records forever. */
  retentionMs: number;
  /** 0 means no size bound. */
  retentionBytes: number;
  compression: CompressionCodec;
  maxMessageBytes: number;
  uncleanLeaderElection: boolean;
  /**
   * Free-form key/value labels for operators and tools (owner, team, purpose); they change nothing
   * in how the topic behaves. Bounded by the `topicLabel*` limits; keys follow `labelKeyPattern`.
   */
  labels: Record<string, string>;
}

/**
 * Config keys an update may change; partitions and replication factor need a reassignment.
 * Labels are mutable too, but an update patches them (`UpdateTopicConfigCommand.labels`) rather
 * than replacing the map, so concurrent updates of different labels both land.
 */
export const mutableTopicConfigKeys = [
  'minInSyncReplicas', 'retentionMs', 'retentionBytes', 'compression', 'maxMessageBytes', 'uncleanLeaderElection',
] as const;
export type MutableTopicConfig = Pick<TopicConfig, (typeof mutableTopicConfigKeys)[number] | 'labels'>;

/** A deep copy: the labels map is the one nested object. */
export function copyTopicConfig(config: TopicConfig): TopicConfig {
  return { ...config, labels: { ...config.labels } };
}

export interface TopicRecord {
  /** Assigned at creation from the Raft index, so a re-created topic of the same name differs. */
  topicId: string;
  name: string;
  config: TopicConfig;
  /** Indexed by partition number: partitions[p].partition === p. */
  partitions: PartitionRecord[];
  /** A create retried with the same name and key succeeds with the existing topic; '' disables. */
  idempotencyKey: string;
}

export interface PartitionRecord {
  partition: number;
  /** Broker ids in preference order; replicas[0] is the preferred leader. */
  replicas: number[];
  /** Broker id of the leader, or `noLeader` while the partition is offline. */
  leader: number;
  /** In-sync replicas in replica order, the leader included; never empty. */
  isr: number[];
  /** Starts at 1 with the first leader; bumped on every leader change. */
  leaderEpoch: number;
  /** Starts at 1; bumped on every change of replicas, leader or ISR. */
  partitionEpoch: number;
}

export const groupStates = ['empty', 'preparingRebalance', 'completingRebalance', 'stable'] as const;
export type GroupState = (typeof groupStates)[number];

export interface GroupProtocol {
  name: string;
  /** Opaque to the coordinator: the member's subscription and assignor data. */
  metadata: Uint8Array;
}

export interface TopicPartitions {
  topic: string;
  /** Ascending, without duplicates. */
  partitions: number[];
}

export interface MemberAssignment {
  partitions: TopicPartitions[];
  userData: Uint8Array;
}

export interface GroupMember {
  memberId: string;
  /** Static membership id; '' for dynamic members. */
  groupInstanceId: string;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatDeadlineMs: number;
  /** In the member's order of preference. */
  protocols: GroupProtocol[];
  /** Whether the member has joined the rebalance in progress (meaningless outside one). */
  joined: boolean;
  /** What the member consumes in the current generation; empty until the leader syncs. */
  assignment: MemberAssignment;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimeMs: number;
}

export interface GroupRecord {
  groupId: string;
  state: GroupState;
  /** Bumped each time a rebalance completes; 0 before the first. */
  generation: number;
  protocolType: string;
  /** The assignor of the current generation; '' while empty. */
  protocolName: string;
  leaderMemberId: string;
  /** preparingRebalance: when members that did not rejoin are removed; completingRebalance: when a leader that did not sync is. */
  rebalanceDeadlineMs: number;
  members: Map<string, GroupMember>;
  /** Keyed by `offsetKey(topic, partition)`. */
  offsets: Map<string, CommittedOffset>;
}

export const uploadSessionStates = ['open', 'receiving', 'committing', 'complete', 'expired', 'failed', 'terminated'] as const;
export type UploadSessionState = (typeof uploadSessionStates)[number];
export const terminalUploadSessionStates: ReadonlySet<UploadSessionState> = new Set(['complete', 'expired', 'failed', 'terminated']);

export const uploadPayloadKinds = ['binary', 'json', 'sensor'] as const;
export type UploadPayloadKind = (typeof uploadPayloadKinds)[number];

/** One source (byte stream) of an upload session as the catalog records it. */
export interface UploadSessionSource {
  name: string;
  contentType: string;
  payloadKind: UploadPayloadKind;
  /** Bytes of this source committed (replicated and durable); never decreases, fixed once final. */
  committedBytes: number;
  /** The source is closed: its final chunk is committed. Never goes back to false. */
  final: boolean;
}

export interface UploadSessionRecord {
  deviceId: string;
  sessionId: string;
  state: UploadSessionState;
  topic: string;
  partition: number;
  /** Bytes committed (replicated and durable) over all sources, as the broker counts them; never decreases. */
  committedLength: number;
  /** Hex SHA-256 of the whole session; required once complete, '' before. */
  digest: string;
  /** Set when the session is first recorded and never changed. */
  createdAtMs: number;
  updatedAtMs: number;
  /** When the session expires if not complete; 0 when it never does. */
  expiresAtMs: number;
  /** Why a failed, expired or terminated session ended; '' otherwise. */
  failure: string;
  /** In declaration order; sources may be added, never removed. */
  sources: UploadSessionSource[];
}

export function copyUploadSession(session: UploadSessionRecord): UploadSessionRecord {
  return { ...session, sources: session.sources.map((source) => ({ ...source })) };
}

/** What a command asks a device to do (ingest/v1 CommandAction). Empty `sources`: every source. */
export type DeviceAction =
  | { kind: 'pause'; sources: string[]; durationMs: number }
  | { kind: 'resume'; sources: string[] }
  | { kind: 'flush'; sources: string[] }
  | { kind: 'setConfig'; values: Record<string, string>; unsetKeys: string[] };

export const deviceCommandOutcomes = ['applied', 'rejected', 'failed', 'unsupported', 'expired'] as const;
export type DeviceCommandOutcome = (typeof deviceCommandOutcomes)[number];

/** A command for a device, held until the device acknowledges it or it expires. */
export interface DeviceCommandRecord {
  commandId: string;
  issuedAtMs: number;
  expiresAtMs: number;
  /** client_id of the operator who sent it. */
  issuedBy: string;
  action: DeviceAction;
}

/** A device's acknowledgement, remembered so that a repeated SendCommand reports it. */
export interface DeviceCommandAckRecord {
  commandId: string;
  outcome: DeviceCommandOutcome;
  message: string;
  /** Device clock. */
  completedAtMs: number;
  /** Leader clock, when the ack was recorded. */
  recordedAtMs: number;
}

/**
 * One device of the control plane: which broker holds its Control stream (0: none) under which
 * connection epoch, and its pending commands. Status reports are not here: they are frequent and
 * stay in the memory of the broker holding the stream (docs/CONTROL_PLANE.md).
 */
export interface DeviceRecord {
  deviceId: string;
  /** Broker holding the device's latest Control stream; 0 when it disconnected. */
  brokerId: number;
  /** That broker's incarnation epoch: a stream on an earlier incarnation died with it. */
  brokerEpoch: number;
  /** The Raft index of the latest connect: grows with every connection, cluster-wide. */
  connectionEpoch: number;
  /** 0 when disconnected. */
  connectedSinceMs: number;
  /** The last connect or disconnect (leader clock); the holding broker knows later sightings. */
  lastSeenMs: number;
  /** Queued or delivered, not acknowledged and not expired (as of the last command for the device), in issue order. */
  commands: DeviceCommandRecord[];
  /** The most recent acknowledgements, oldest first. */
  acks: DeviceCommandAckRecord[];
}

export function copyDeviceAction(action: DeviceAction): DeviceAction {
  switch (action.kind) {
    case 'pause': return { ...action, sources: [...action.sources] };
    case 'resume':
    case 'flush': return { ...action, sources: [...action.sources] };
    case 'setConfig': return { kind: 'setConfig', values: { ...action.values }, unsetKeys: [...action.unsetKeys] };
  }
}

export function copyDevice(device: DeviceRecord): DeviceRecord {
  return {
    ...device,
    commands: device.commands.map((command) => ({ ...command, action: copyDeviceAction(command.action) })),
    acks: device.acks.map((ack) => ({ ...ack })),
  };
}

export const controllerRoles = ['voter', 'learner'] as const;
export type ControllerRole = (typeof controllerRoles)[number];

/** Mirrors the Raft membership so brokers and clients can discover controllers from metadata. */
export interface ControllerRecord {
  nodeId: number;
  address: string;
  role: ControllerRole;
}

export function createMetadataState(): MetadataState {
  return {
    version: 0, brokers: new Map(), topics: new Map(), groups: new Map(), uploadSessions: new Map(), uploadSourceCount: 0, controllers: new Map(),
    devices: new Map(), deviceCommandCount: 0, nextProducerId: 1,
  };
}

export function uploadSessionKey(deviceId: string, sessionId: string): string {
  // NUL never appears in a validated identifier, so the key is unambiguous.
  return `${deviceId}\u0000${sessionId}`;
}

export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Topic ids are derived from the creating entry's Raft index: unique, and the same on every replica. */
export function topicIdFromIndex(index: number): string {
  assert.ok(Number.isSafeInteger(index) && index > 0, `a topic id needs a positive Raft index, got ${index}`);
  return index.toString(16).padStart(16, '0');
}

/** Values of a map in ascending key order: the one iteration order every replica agrees on. */
export function sortedValues<K extends string | number, V>(map: ReadonlyMap<K, V>): V[] {
  const keys = [...map.keys()].sort(compareKeys);
  return keys.map((key) => map.get(key) as V);
}

function compareKeys(left: string | number, right: string | number): number {
  if (left < right) return -1;
  return left > right ? 1 : 0;
}
