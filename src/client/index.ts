/*
 * The Tributary client SDK: Producer, Consumer and Admin over the wire clients of src/rpc/clients.
 * Everything else in this folder is internal.
 */
export { Admin } from './admin.js';
export type { ConnectionOptions } from './client-settings.js';
export { assignedPartitionsMax, type Assignment, Consumer, type ConsumerLinks, type ConsumerOptions, type ConsumerRecord, type StartOffset } from './consumer.js';
export { listPartitionOffsets, type PartitionOffsets } from './partition-offsets.js';
export { murmur2, partitionForKey } from './partitioner.js';
export { bufferWaitersMax, Producer, type ProducerLinks, type ProducerOptions, type RecordMetadata } from './producer.js';
export type { ProducerMessage } from './producer-message.js';
export type { ProduceAcks, RecordHeaderEntry } from '../rpc/clients/index.js';
export { TributaryError, type ErrorCode } from '../errors/index.js';
