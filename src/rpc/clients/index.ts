export {
  AdminClient, type ClusterDescription, type CreateTopicOptions, type ElectLeaderOutcome, type TopicConfigChanges,
} from './admin-client.js';
export type {
  BrokerInfo, BrokerStanding, CompressionCodec, ControllerInfo, PartitionInfo, TopicConfig, TopicInfo,
} from './cluster-metadata-types.js';
export type { ControllerClientOptions } from './controller-channels.js';
export { checkHealth, type ServingStatus } from './health-client.js';
export { clientDeadlineMsDefault, defaultClientOptions, type ClientOptions, type ClientTlsFiles } from './client-options.js';
export { listServices } from './reflection-client.js';
export { getVersion, type NodeVersion } from './version-client.js';
export { leaderRoutingDefaults, type LeaderRoutingPolicy } from './leader-router.js';
export {
  allTopicsPagesMax, type ClusterMetadata, type Freshness, type ListTopicsOptions, MetadataClient, type ReadPreference, type TopicLookup,
  type TopicPage,
} from './metadata-client.js';
export {
  ControllerBrokerClient, type QueuedDeviceCommand, type BrokerHeartbeat, type BrokerHeartbeatAnswer, type BrokerRegistered, type BrokerRegistration, type IsrChange,
  type IsrChangeOutcome,
} from './controller-broker-client.js';
export {
  metadataWatchDefaults, type MetadataWatch, type MetadataWatchOptions, type MetadataWatchPolicy, type MetadataWatchUpdate,
} from './metadata-watcher.js';
export type { MetadataRecord } from './metadata-record-mapping.js';
export { compareUploadSessions, type UploadSessionCatalogEntry } from './upload-session-catalog-entry.js';
export type { DeviceCommandAckRecord, DeviceCommandRecord, DeviceRegistryEntry } from './device-registry-entry.js';
export {
  ControlPlaneClient, type ControlCallOptions, type ControlStream, type ControlStreamHandlers, type SendCommandOptions,
} from './control-plane-client.js';
export {
  GroupCoordinatorClient, type CommittedOffsetInfo, type GroupMemberIdentity, type GroupMemberSubscription, type JoinGroupRequest,
  type JoinGroupResult, type LeaveOutcome, type OffsetCommit, type PartitionOutcome, type Subscription, type SyncGroupRequest,
  type SyncGroupResult, type TopicPartition, type TopicPartitions,
} from './group-coordinator-client.js';
export {
  decodeRecordBatch, encodeRecordBatch, type BatchProducerFields, type ConsumedRecord, type ProducerRecord, type RecordHeaderEntry,
} from './record-batch-codec.js';
export {
  type ProduceAcks, type ProduceBatchInput, type ProducedBatch, ProducerClient, type ProducerIdentity, produceDeadlineMarginMs,
} from './producer-client.js';
export {
  ConsumerClient, type FetchedPartition, type FetchInput, type FetchPartitionInput, type ListedOffsets, type ListOffsetsInput, type OffsetQuery,
} from './consumer-client.js';
export { backoffDelayMs, type BackoffLimits } from './backoff-delay-ms.js';
