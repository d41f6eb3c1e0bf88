import assert from 'node:assert/strict';
import { TributaryError, type ErrorCode } from '../errors/index.js';
import type { ApplyContext } from './apply-context.js';
import {
  brokerHeartbeat, fenceExpiredBrokers, registerBroker, type BrokerHeartbeatOutput, type FenceExpiredBrokersOutput, type RegisterBrokerOutput,
} from './apply-broker-command.js';
import { registerController, unregisterController, type ControllersOutput } from './apply-catalog-command.js';
import {
  expireGroupMembers, groupHeartbeat, joinGroup, leaveGroup, syncGroup, type ExpireGroupMembersOutput, type GroupHeartbeatOutput,
  type JoinGroupOutput, type LeaveGroupOutput, type SyncGroupOutput,
} from './apply-group-command.js';
import { allocateProducerIds, type AllocateProducerIdsOutput } from './apply-producer-id-command.js';
import { upsertUploadSession, type UpsertUploadSessionOutput } from './apply-upload-session-command.js';
import {
  ackDeviceCommand, connectDevice, disconnectDevice, queueDeviceCommand, type AckDeviceCommandOutput, type DeviceOutput, type DisconnectDeviceOutput,
  type QueueDeviceCommandOutput,
} from './apply-device-command.js';
import { alterPartition, electLeaders, type AlterPartitionOutput, type ElectLeadersOutput } from './apply-partition-command.js';
import {
  createTopic, deleteTopic, updateTopicConfig, type CreateTopicOutput, type DeleteTopicOutput, type UpdateTopicConfigOutput,
} from './apply-topic-command.js';
import { commitOffsets, type CommitOffsetsOutput } from './commit-offsets.js';
import { decodeMetadataCommand } from './metadata-command-codec.js';
import type { MetadataCommand, MetadataCommandType } from './metadata-command.js';
import type { MetadataDelta } from './metadata-delta.js';
import type { MetadataState } from './metadata-state.js';

/** What each command returns on success. */
export interface MetadataCommandOutputs {
  registerBroker: RegisterBrokerOutput;
  brokerHeartbeat: BrokerHeartbeatOutput;
  fenceExpiredBrokers: FenceExpiredBrokersOutput;
  createTopic: CreateTopicOutput;
  deleteTopic: DeleteTopicOutput;
  updateTopicConfig: UpdateTopicConfigOutput;
  alterPartition: AlterPartitionOutput;
  electLeaders: ElectLeadersOutput;
  joinGroup: JoinGroupOutput;
  syncGroup: SyncGroupOutput;
  groupHeartbeat: GroupHeartbeatOutput;
  leaveGroup: LeaveGroupOutput;
  commitOffsets: CommitOffsetsOutput;
  expireGroupMembers: ExpireGroupMembersOutput;
  upsertUploadSession: UpsertUploadSessionOutput;
  registerController: ControllersOutput;
  unregisterController: ControllersOutput;
  allocateProducerIds: AllocateProducerIdsOutput;
  connectDevice: DeviceOutput;
  disconnectDevice: DisconnectDeviceOutput;
  queueDeviceCommand: QueueDeviceCommandOutput;
  ackDeviceCommand: AckDeviceCommandOutput;
}

export type MetadataCommandResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

export interface AppliedMetadataCommand<T> {
  result: MetadataCommandResult<T>;
  /** Changed records in apply order, each tagged with `index`; empty for a rejected command. */
  deltas: MetadataDelta[];
}

type Handler<K extends MetadataCommandType> = (context: ApplyContext, command: Extract<MetadataCommand, { type: K }>) => MetadataCommandOutputs[K];

const handlers: { [K in MetadataCommandType]: Handler<K> } = {
  registerBroker, brokerHeartbeat, fenceExpiredBrokers,
  createTopic, deleteTopic, updateTopicConfig,
  alterPartition, electLeaders,
  joinGroup, syncGroup, groupHeartbeat, leaveGroup, commitOffsets, expireGroupMembers,
  upsertUploadSession, registerController, unregisterController,
  allocateProducerIds,
  connectDevice, disconnectDevice, queueDeviceCommand, ackDeviceCommand,
};

/**
 * Applies one committed command at Raft index `index`, MUTATING `state` IN PLACE (copying the
 * whole metadata per entry would cost more than the apply itself). The same commands at the same
 * indices give the same state, results and deltas on every replica.
 *
 * Atomic: a rejected command (`result.ok === false`, a user-visible code and message) leaves the
 * state exactly as it was, version included. A successful one sets `state.version = index`.
 * Indices must grow from call to call; anything else is a bug in the host and fails an assertion.
 */
export function applyMetadataCommand<C extends MetadataCommand>(state: MetadataState, command: C, index: number): AppliedMetadataCommand<MetadataCommandOutputs[C['type']]> {
  assert.ok(Number.isSafeInteger(index) && index > state.version, `apply index ${index} must be above the metadata version ${state.version}`);
  const context: ApplyContext = { state, index, deltas: [] };
  const handler = handlers[command.type] as Handler<C['type']> | undefined;
  assert.ok(handler !== undefined, `unknown metadata command type ${String(command.type)}`);
  let value: MetadataCommandOutputs[C['type']];
  try {
    value = handler(context, command as never);
  } catch (error) {
    if (!(error instanceof TributaryError)) throw error;
    assert.equal(context.deltas.length, 0, `a rejected ${command.type} must not have changed anything`);
    return { result: { ok: false, code: error.code, message: error.message }, deltas: [] };
  }
  state.version = index;
  assert.ok(context.deltas.every((delta) => delta.version === index), 'every delta carries the apply index');
  return { result: { ok: true, value }, deltas: context.deltas };
}

/**
 * Decodes a committed entry's data and applies it. An entry that does not decode is rejected like
 * any other bad command (INVALID_REQUEST naming the field) instead of throwing: every replica
 * would throw at the same index, so a malformed entry that reached the log would otherwise stop
 * the whole quorum from applying.
 */
export function applyEncodedMetadataCommand(state: MetadataState, data: Uint8Array, index: number): AppliedMetadataCommand<unknown> {
  let command: MetadataCommand;
  try {
    command = decodeMetadataCommand(data);
  } catch (error) {
    if (!(error instanceof TributaryError)) throw error;
    assert.ok(Number.isSafeInteger(index) && index > state.version, `apply index ${index} must be above the metadata version ${state.version}`);
    return { result: { ok: false, code: error.code, message: error.message }, deltas: [] };
  }
  return applyMetadataCommand(state, command, index);
}
