/*
 * The Tributary client SDK: Producer, Consumer and Admin over the wire clients of src/rpc/clients.
 * Everything else in this folder is internal.
 */
export { Admin } from './admin.js';
export type { ConnectionOptions } from './client-settings.js';
export {
  assignedPartitionsMax, type Assignment, Consumer, type ConsumerLinks, type ConsumerOptions, type ConsumerRecord, type StartOffset, subscribedTopicsMax,
} from './consumer.js';
export {
  assignorNamed, type AssignorMember, type AssignorName, cooperativeStickyAssignor, type GroupAssignment, type PartitionAssignor, rangeAssignor,
  roundRobinAssignor,
} from './assignors.js';
export { type GroupCoordinatorLink, joinAttemptsMax, type JoinedGeneration, type MembershipState } from './group-membership.js';
export { commitWaitersMax, type EachBatchPayload, type EachMessagePayload, type PartitionsEvent, type RunOptions } from './group-run.js';
export type { PartitionOffset } from './offset-tracker.js';
export { listPartitionOffsets, type PartitionOffsets } from './partition-offsets.js';
export { murmur2, partitionForKey } from './partitioner.js';
export { bufferWaitersMax, Producer, type ProducerLinks, type ProducerOptions, type ProducerSendRequest, type RecordMetadata } from './producer.js';
export type { ProducerMessage } from './producer-message.js';
export {
  type CommandOutcome, type ControlLink, DeviceControl, deviceControlBackoffDefaults, type DeviceControlEvent, type DeviceControlOptions, rememberedCommandsMax,
} from './device-control.js';
export type {
  DeviceAction, DeviceCommand, DeviceCommandAck, DeviceCommandOutcome, DeviceCommandResult, DeviceInfo, DeviceStatusReport,
} from '../ingest/device-control-types.js';
export { type PartitionEnd, Subscription, type SubscriptionLinks, type SubscriptionOptions } from './subscription.js';
export type { CompressionCodec, ProduceAcks, RecordHeaderEntry } from '../rpc/clients/index.js';
export { TributaryError, type ErrorCode } from '../errors/index.js';
