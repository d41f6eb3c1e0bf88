import { Packr } from 'msgpackr';
import { z } from 'zod';
import { TributaryError } from '../errors/index.js';
import type { MetadataCommand } from './metadata-command.js';
import {
  count, describeZodError, deviceCommandOutcomeSchema, deviceCommandRecordSchema, groupProtocolSchema, memberAssignmentSchema, nodeId, text, topicConfigSchema, uploadSessionSourceSchema,
} from './metadata-schemas.js';
import { controllerRoles, uploadSessionStates } from './metadata-state.js';

/** Plain msgpack maps (no record extension) with 64-bit integers decoded as numbers, as in raft/entry-codec. */
const packr = new Packr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });

const topicPartition = z.strictObject({ topic: text, partition: count });

const commandSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('registerBroker'), brokerId: nodeId, address: text, rack: text, incarnationId: text, nowMs: count, sessionTimeoutMs: count }),
  z.strictObject({
    type: z.literal('brokerHeartbeat'), brokerId: nodeId, brokerEpoch: count, metadataVersion: count, wantsFence: z.boolean(),
    wantsShutdown: z.boolean(), nowMs: count, sessionTimeoutMs: count,
  }),
  z.strictObject({ type: z.literal('fenceExpiredBrokers'), nowMs: count }),
  z.strictObject({ type: z.literal('createTopic'), name: text, config: topicConfigSchema, replicaAssignment: z.array(z.array(nodeId)), idempotencyKey: text }),
  z.strictObject({ type: z.literal('deleteTopic'), name: text, topicId: text }),
  z.strictObject({
    type: z.literal('updateTopicConfig'), name: text, topicId: text,
    changes: topicConfigSchema.omit({ partitions: true, replicationFactor: true, labels: true }).partial(),
    labels: z.strictObject({ set: z.record(text, text), remove: z.array(text) }).optional(),
  }),
  z.strictObject({
    type: z.literal('alterPartition'), brokerId: nodeId, brokerEpoch: count, topic: text, topicId: text, partition: count,
    leaderEpoch: count, partitionEpoch: count, newIsr: z.array(z.strictObject({ brokerId: nodeId, brokerEpoch: count })),
  }),
  z.strictObject({ type: z.literal('electLeaders'), election: z.enum(['preferred', 'unclean']), partitions: z.array(topicPartition) }),
  z.strictObject({
    type: z.literal('joinGroup'), groupId: text, memberId: text, groupInstanceId: text, clientId: text, sessionTimeoutMs: count,
    rebalanceTimeoutMs: count, protocolType: text, protocols: z.array(groupProtocolSchema), nowMs: count,
  }),
  z.strictObject({
    type: z.literal('syncGroup'), groupId: text, memberId: text, generation: count,
    assignments: z.array(memberAssignmentSchema.extend({ memberId: text })), nowMs: count,
  }),
  z.strictObject({ type: z.literal('groupHeartbeat'), groupId: text, memberId: text, generation: count, nowMs: count }),
  z.strictObject({ type: z.literal('leaveGroup'), groupId: text, members: z.array(z.strictObject({ memberId: text, groupInstanceId: text })), nowMs: count }),
  z.strictObject({
    type: z.literal('commitOffsets'), groupId: text, memberId: text, generation: count, nowMs: count,
    offsets: z.array(z.strictObject({ topic: text, partition: count, offset: count, leaderEpoch: count, metadata: text })),
  }),
  z.strictObject({ type: z.literal('expireGroupMembers'), nowMs: count }),
  z.strictObject({
    type: z.literal('upsertUploadSession'), brokerId: nodeId, brokerEpoch: count, deviceId: text, sessionId: text, state: z.enum(uploadSessionStates),
    topic: text, partition: count, committedLength: count, digest: text, createdAtMs: count, expiresAtMs: count, failure: text,
    sources: z.array(uploadSessionSourceSchema), nowMs: count,
  }),
  z.strictObject({ type: z.literal('registerController'), nodeId, address: text, role: z.enum(controllerRoles) }),
  z.strictObject({ type: z.literal('unregisterController'), nodeId }),
  z.strictObject({ type: z.literal('allocateProducerIds'), brokerId: nodeId, brokerEpoch: count }),
  z.strictObject({ type: z.literal('connectDevice'), brokerId: nodeId, brokerEpoch: count, deviceId: text, nowMs: count }),
  z.strictObject({ type: z.literal('disconnectDevice'), brokerId: nodeId, deviceId: text, connectionEpoch: count, nowMs: count }),
  z.strictObject({ type: z.literal('queueDeviceCommand'), deviceId: text, command: deviceCommandRecordSchema, nowMs: count }),
  z.strictObject({
    type: z.literal('ackDeviceCommand'), deviceId: text, commandId: text, outcome: deviceCommandOutcomeSchema, message: text,
    completedAtMs: z.number().int(), nowMs: count,
  }),
]);

// Compile-time checks that the schema decodes into MetadataCommand and covers every command type.
type DecodedCommand = z.infer<typeof commandSchema>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _schemaDecodesCommands: [DecodedCommand] extends [MetadataCommand] ? true : false = true;
const _schemaCoversCommands: Same<DecodedCommand['type'], MetadataCommand['type']> = true;

/** Encodes a command as a Raft entry's data. */
export function encodeMetadataCommand(command: MetadataCommand): Uint8Array {
  return packr.pack(command);
}

/**
 * Decodes and checks a command's shape. Bad bytes fail with INVALID_REQUEST naming the field and
 * the problem; a decoded command may still be rejected by its handler for what it asks.
 */
export function decodeMetadataCommand(data: Uint8Array): MetadataCommand {
  let decoded: unknown;
  try {
    decoded = packr.unpack(data);
  } catch (error) {
    throw new TributaryError('INVALID_REQUEST', `a metadata command is not valid msgpack: ${(error as Error).message}`);
  }
  const parsed = commandSchema.safeParse(decoded);
  if (!parsed.success) {
    const type = typeof decoded === 'object' && decoded !== null ? String((decoded as Record<string, unknown>).type) : typeof decoded;
    throw new TributaryError('INVALID_REQUEST', `malformed metadata command (type ${type}): ${describeZodError(parsed.error, 'command')}`);
  }
  return parsed.data;
}
