import { Packr } from 'msgpackr';
import { z } from 'zod';
import { TributaryError } from '../errors/index.js';
import { checkMetadataInvariants } from './check-metadata-invariants.js';
import {
  brokerRecordSchema, committedOffsetSchema, controllerRecordSchema, count, describeZodError, groupMemberSchema, groupStateSchema,
  deviceRecordSchema, text, topicRecordSchema, uploadSessionRecordSchema,
} from './metadata-schemas.js';
import {
  createMetadataState, offsetKey, sortedValues, uploadSessionKey, type GroupMember, type GroupRecord, type MetadataState,
} from './metadata-state.js';

/**
 * Bumped on any change to the snapshot's layout; a decoder refuses formats it does not know.
 * 3: upload sessions carry their sources, creation and expiry times and failure; the device
 * registry. Format 2 is still read (`upgradeFormat2`).
 */
export const metadataSnapshotFormat = 3;

const packr = new Packr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });

const groupSnapshotSchema = z.strictObject({
  groupId: text,
  state: groupStateSchema,
  generation: count,
  protocolType: text,
  protocolName: text,
  leaderMemberId: text,
  rebalanceDeadlineMs: count,
  members: z.array(groupMemberSchema),
  offsets: z.array(committedOffsetSchema),
});

const snapshotSchema = z.strictObject({
  format: z.literal(metadataSnapshotFormat),
  version: count,
  brokers: z.array(brokerRecordSchema),
  topics: z.array(topicRecordSchema),
  groups: z.array(groupSnapshotSchema),
  uploadSessions: z.array(uploadSessionRecordSchema),
  controllers: z.array(controllerRecordSchema),
  devices: z.array(deviceRecordSchema),
  nextProducerId: count,
});

/**
 * Serializes the whole state. Deterministic: collections are written in ascending key order and
 * every object's keys sorted, so replicas at the same version produce identical bytes whatever
 * order their maps were filled in.
 */
export function encodeMetadataSnapshot(state: MetadataState): Uint8Array {
  const snapshot = {
    format: metadataSnapshotFormat,
    version: state.version,
    brokers: sortedValues(state.brokers),
    topics: sortedValues(state.topics),
    groups: sortedValues(state.groups).map(groupForSnapshot),
    uploadSessions: sortedValues(state.uploadSessions),
    controllers: sortedValues(state.controllers),
    devices: sortedValues(state.devices),
    nextProducerId: state.nextProducerId,
  };
  return packr.pack(canonical(snapshot));
}

function groupForSnapshot(group: GroupRecord): Record<string, unknown> {
  const offsets = sortedValues(group.offsets);
  return { ...group, members: sortedValues(group.members), offsets };
}

/** A copy of plain data with every object's keys in sorted order; arrays and bytes keep theirs. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = canonical(record[key]);
  return sorted;
}

/**
 * Restores a state from `encodeMetadataSnapshot` bytes. Anything malformed, duplicated or
 * inconsistent fails with CORRUPT_RECORD naming what is wrong; a snapshot is never half-loaded.
 */
export function decodeMetadataSnapshot(bytes: Uint8Array): MetadataState {
  let decoded: unknown;
  try {
    decoded = packr.unpack(bytes);
  } catch (error) {
    throw corrupt(`it is not valid msgpack: ${(error as Error).message}`);
  }
  const format = typeof decoded === 'object' && decoded !== null ? (decoded as Record<string, unknown>).format : undefined;
  if (format === 2) decoded = upgradeFormat2(decoded as Record<string, unknown>);
  else if (format !== metadataSnapshotFormat) throw corrupt(`format ${String(format)} is not the supported format ${metadataSnapshotFormat}`);
  const parsed = snapshotSchema.safeParse(decoded);
  if (!parsed.success) throw corrupt(describeZodError(parsed.error, 'snapshot'));
  const snapshot = parsed.data;
  const state = createMetadataState();
  state.version = snapshot.version;
  state.nextProducerId = snapshot.nextProducerId;
  for (const broker of snapshot.brokers) putUnique(state.brokers, broker.brokerId, broker, `broker ${broker.brokerId}`);
  for (const topic of snapshot.topics) putUnique(state.topics, topic.name, topic, `topic "${topic.name}"`);
  for (const group of snapshot.groups) putUnique(state.groups, group.groupId, groupFromSnapshot(group), `group "${group.groupId}"`);
  for (const session of snapshot.uploadSessions) {
    putUnique(state.uploadSessions, uploadSessionKey(session.deviceId, session.sessionId), session, `session ${session.deviceId}/${session.sessionId}`);
    state.uploadSourceCount += session.sources.length;
  }
  for (const controller of snapshot.controllers) putUnique(state.controllers, controller.nodeId, controller, `controller ${controller.nodeId}`);
  for (const device of snapshot.devices) {
    putUnique(state.devices, device.deviceId, device, `device "${device.deviceId}"`);
    state.deviceCommandCount += device.commands.length;
  }
  const violations = checkMetadataInvariants(state);
  if (violations.length > 0) throw corrupt(`its state is inconsistent: ${violations.slice(0, 3).join('; ')}`);
  return state;
}

/** Format 2 sessions knew no sources, expiry or failure: they read as created when last updated, never expiring. It had no devices. */
function upgradeFormat2(snapshot: Record<string, unknown>): Record<string, unknown> {
  const sessions = Array.isArray(snapshot.uploadSessions) ? (snapshot.uploadSessions as unknown[]) : [];
  const uploadSessions = sessions.map((session) => {
    const record = (typeof session === 'object' && session !== null ? session : {}) as Record<string, unknown>;
    return { ...record, createdAtMs: record.updatedAtMs, expiresAtMs: 0, failure: '', sources: [] };
  });
  return { ...snapshot, format: metadataSnapshotFormat, uploadSessions, devices: [] };
}

function groupFromSnapshot(group: z.infer<typeof groupSnapshotSchema>): GroupRecord {
  const members = new Map<string, GroupMember>();
  for (const member of group.members) putUnique(members, member.memberId, member, `group "${group.groupId}" member "${member.memberId}"`);
  const offsets: GroupRecord['offsets'] = new Map();
  for (const committed of group.offsets) {
    putUnique(offsets, offsetKey(committed.topic, committed.partition), committed, `group "${group.groupId}" offset of ${committed.topic}/${committed.partition}`);
  }
  return { ...group, members, offsets };
}

function putUnique<K, V>(map: Map<K, V>, key: K, value: V, what: string): void {
  if (map.has(key)) throw corrupt(`${what} appears twice`);
  map.set(key, value);
}

function corrupt(reason: string): TributaryError {
  return new TributaryError('CORRUPT_RECORD', `metadata snapshot is unreadable: ${reason}`);
}
