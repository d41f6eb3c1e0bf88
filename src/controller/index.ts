// The public surface of the controller's metadata state machine (docs/CONTROLLER.md): the host
// (actors/raft-host), the services and the simulator need only these.
export type * from './metadata-command.js';
export type * from './metadata-delta.js';
export type * from './metadata-state.js';
export {
  compressionCodecs, controllerRoles, copyDevice, copyUploadSession, createMetadataState, deviceCommandOutcomes, groupStates, mutableTopicConfigKeys,
  noLeader, terminalUploadSessionStates, topicIdFromIndex, uploadPayloadKinds, uploadSessionStates,
} from './metadata-state.js';
export { metadataLimits } from './metadata-limits.js';
export {
  applyEncodedMetadataCommand, applyMetadataCommand, type AppliedMetadataCommand, type MetadataCommandOutputs, type MetadataCommandResult,
} from './apply-metadata-command.js';
export type { BrokerHeartbeatOutput, FenceExpiredBrokersOutput, RegisterBrokerOutput } from './apply-broker-command.js';
export { planCreateTopic, type CreateTopicOutput, type DeleteTopicOutput, type UpdateTopicConfigOutput } from './apply-topic-command.js';
export type { AlterPartitionOutput, CommandError, ElectLeaderResult, ElectLeadersOutput } from './apply-partition-command.js';
export type {
  ExpireGroupMembersOutput, GroupHeartbeatOutput, JoinGroupOutput, LeaveGroupOutput, LeaveGroupResult, SyncGroupOutput,
} from './apply-group-command.js';
export type { CommitOffsetsOutput, OffsetCommitResult } from './commit-offsets.js';
export type { ControllersOutput } from './apply-catalog-command.js';
export type { UpsertUploadSessionOutput } from './apply-upload-session-command.js';
export type { AckDeviceCommandOutput, DeviceOutput, DisconnectDeviceOutput, QueueDeviceCommandOutput } from './apply-device-command.js';
export type { AllocateProducerIdsOutput } from './apply-producer-id-command.js';
export { decodeMetadataCommand, encodeMetadataCommand } from './metadata-command-codec.js';
export { decodeMetadataSnapshot, encodeMetadataSnapshot, metadataSnapshotFormat } from './metadata-snapshot-codec.js';
export { metadataImage } from './metadata-image.js';
export { checkMetadataInvariants, metadataWatermarks, type MetadataWatermarks } from './check-metadata-invariants.js';
export { placeReplicas, type PlacementBroker, type PlacementLoad, type PlaceReplicasInput } from './place-replicas.js';
export {
  describeGroup, describeTopics, fetchCommittedOffsets, getUploadSession, listBrokers, listControllers, partitionsLedBy,
  type CommittedOffsetLookup, type GroupDescription, type GroupMemberDescription, type TopicDescription,
} from './metadata-queries.js';
export { dueExpiries, type DueExpiries } from './due-expiries.js';
export { validateDeviceCommand, validateDeviceId } from './validate-device-command.js';
