import { z } from 'zod';
import { compressionCodecs, controllerRoles, deviceCommandOutcomes, groupStates, uploadPayloadKinds, uploadSessionStates } from './metadata-state.js';

/*
 * zod schemas for everything the controller decodes from bytes: commands (metadata-command-codec)
 * and snapshots (metadata-snapshot-codec). They check shapes and ranges; the rules that depend on
 * the state (does the topic exist, is the epoch current) are the handlers' and the invariant
 * checker's. Objects are strict, so a misspelt field is an error rather than silently dropped.
 */

export const count = z.number().int().min(0);
export const nodeId = z.number().int().min(1);
export const text = z.string();
/** msgpackr decodes bin as a Buffer; copy it into a plain Uint8Array so records compare and copy alike. */
export const bytes = z.instanceof(Uint8Array).transform((value) => new Uint8Array(value));

export const topicConfigSchema = z.strictObject({
  partitions: count,
  replicationFactor: count,
  minInSyncReplicas: count,
  retentionMs: count,
  retentionBytes: count,
  compression: z.enum(compressionCodecs),
  maxMessageBytes: count,
  uncleanLeaderElection: z.boolean(),
  labels: z.record(text, text),
});

export const groupProtocolSchema = z.strictObject({ name: text, metadata: bytes });
const topicPartitionsSchema = z.strictObject({ topic: text, partitions: z.array(count) });
export const memberAssignmentSchema = z.strictObject({ partitions: z.array(topicPartitionsSchema), userData: bytes });

export const brokerRecordSchema = z.strictObject({
  brokerId: nodeId,
  address: text,
  rack: text,
  incarnationId: text,
  brokerEpoch: count,
  fenced: z.boolean(),
  shuttingDown: z.boolean(),
  heartbeatDeadlineMs: count,
});

const partitionRecordSchema = z.strictObject({
  partition: count,
  replicas: z.array(nodeId),
  leader: count,
  isr: z.array(nodeId),
  leaderEpoch: count,
  partitionEpoch: count,
});

export const topicRecordSchema = z.strictObject({
  topicId: text,
  name: text,
  config: topicConfigSchema,
  partitions: z.array(partitionRecordSchema),
  idempotencyKey: text,
});

export const groupMemberSchema = z.strictObject({
  memberId: text,
  groupInstanceId: text,
  clientId: text,
  sessionTimeoutMs: count,
  rebalanceTimeoutMs: count,
  heartbeatDeadlineMs: count,
  protocols: z.array(groupProtocolSchema),
  joined: z.boolean(),
  assignment: memberAssignmentSchema,
});

export const committedOffsetSchema = z.strictObject({
  topic: text,
  partition: count,
  offset: count,
  leaderEpoch: count,
  metadata: text,
  commitTimeMs: count,
});

export const uploadSessionSourceSchema = z.strictObject({
  name: text,
  contentType: text,
  payloadKind: z.enum(uploadPayloadKinds),
  committedBytes: count,
  final: z.boolean(),
});

export const uploadSessionRecordSchema = z.strictObject({
  deviceId: text,
  sessionId: text,
  state: z.enum(uploadSessionStates),
  topic: text,
  partition: count,
  committedLength: count,
  digest: text,
  createdAtMs: count,
  updatedAtMs: count,
  expiresAtMs: count,
  failure: text,
  sources: z.array(uploadSessionSourceSchema),
});

export const deviceActionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('pause'), sources: z.array(text), durationMs: count }),
  z.strictObject({ kind: z.literal('resume'), sources: z.array(text) }),
  z.strictObject({ kind: z.literal('flush'), sources: z.array(text) }),
  z.strictObject({ kind: z.literal('setConfig'), values: z.record(text, text), unsetKeys: z.array(text) }),
]);

export const deviceCommandRecordSchema = z.strictObject({ commandId: text, issuedAtMs: count, expiresAtMs: count, issuedBy: text, action: deviceActionSchema });

export const deviceCommandOutcomeSchema = z.enum(deviceCommandOutcomes);

export const deviceCommandAckRecordSchema = z.strictObject({
  commandId: text, outcome: deviceCommandOutcomeSchema, message: text, completedAtMs: z.number().int(), recordedAtMs: count,
});

export const deviceRecordSchema = z.strictObject({
  deviceId: text,
  brokerId: count,
  brokerEpoch: count,
  connectionEpoch: count,
  connectedSinceMs: count,
  lastSeenMs: count,
  commands: z.array(deviceCommandRecordSchema),
  acks: z.array(deviceCommandAckRecordSchema),
});

export const controllerRecordSchema = z.strictObject({ nodeId, address: text, role: z.enum(controllerRoles) });

export const groupStateSchema = z.enum(groupStates);

/** "createTopic.config.partitions: Too small: expected number to be >=0" — the path, then what is wrong. */
export function describeZodError(error: z.ZodError, root: string): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${[root, ...issue.path.map(String)].join('.')}: ${issue.message}`)
    .join('; ');
}
