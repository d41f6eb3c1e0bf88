import assert from 'node:assert/strict';
import { rejectCommand, requireRoom, type ApplyContext } from './apply-context.js';
import type { BrokerHeartbeatCommand, FenceExpiredBrokersCommand, RegisterBrokerCommand } from './metadata-command.js';
import { brokerRegisteredDelta, brokerStanding, brokerStateChangedDelta, type BrokerStanding } from './metadata-delta.js';
import { metadataLimits } from './metadata-limits.js';
import { sortedValues, type BrokerRecord, type MetadataState } from './metadata-state.js';
import { countLeaderships, countMovableLeaderships, reassessPartitionsOf } from './partition-leadership.js';

export interface RegisterBrokerOutput {
  /** The broker's epoch: the Raft index of the registration that created this incarnation. */
  brokerEpoch: number;
}

export interface BrokerHeartbeatOutput {
  standing: BrokerStanding;
  /** During controlled shutdown: true once the broker leads nothing and may exit. */
  shutdownReady: boolean;
  remainingLeaderships: number;
}

export interface FenceExpiredBrokersOutput {
  fencedBrokerIds: number[];
}

/**
 * Registers a broker process. A new incarnation id gets a new epoch (the Raft index), which
 * fences every earlier process of the same id: the broker starts fenced and its partitions lose
 * it as leader and ISR member until it catches up and heartbeats. A retry with the incarnation id
 * already registered changes nothing and returns the same epoch.
 */
export function registerBroker(context: ApplyContext, command: RegisterBrokerCommand): RegisterBrokerOutput {
  const { state, index } = context;
  validateRegistration(command);
  const existing = state.brokers.get(command.brokerId);
  if (existing !== undefined && existing.incarnationId === command.incarnationId) return { brokerEpoch: existing.brokerEpoch };
  if (existing === undefined) requireRoom(state.brokers.size, 1, metadataLimits.brokersMax, 'brokers');
  assert.ok(existing === undefined || existing.brokerEpoch < index, 'broker epochs only grow');
  const broker: BrokerRecord = {
    brokerId: command.brokerId,
    address: command.address,
    rack: command.rack,
    incarnationId: command.incarnationId,
    brokerEpoch: index,
    fenced: true,
    shuttingDown: false,
    heartbeatDeadlineMs: command.nowMs + command.sessionTimeoutMs,
  };
  state.brokers.set(broker.brokerId, broker);
  context.deltas.push(brokerRegisteredDelta(index, broker));
  if (existing !== undefined && !existing.fenced) reassessPartitionsOf(context, new Set([broker.brokerId]));
  return { brokerEpoch: index };
}

function validateRegistration(command: RegisterBrokerCommand): void {
  const { brokerId, address, rack, incarnationId } = command;
  if (!Number.isSafeInteger(brokerId) || brokerId < 1) rejectCommand('INVALID_REQUEST', `broker id ${brokerId} must be an integer of at least 1`);
  const lengthMax = metadataLimits.identifierLengthMax;
  if (address.length === 0 || address.length > lengthMax) {
    rejectCommand('INVALID_REQUEST', `broker ${brokerId}: address "${address}" must be 1-${lengthMax} characters`);
  }
  if (rack.length > lengthMax) rejectCommand('INVALID_REQUEST', `broker ${brokerId}: rack "${rack}" is longer than ${lengthMax} characters`);
  if (incarnationId.length === 0 || incarnationId.length > lengthMax) {
    rejectCommand('INVALID_REQUEST', `broker ${brokerId}: incarnation id must be 1-${lengthMax} characters, got ${incarnationId.length}`);
  }
  validateBrokerSessionTimeout(brokerId, command.sessionTimeoutMs);
}

function validateBrokerSessionTimeout(brokerId: number, sessionTimeoutMs: number): void {
  const { brokerSessionTimeoutMsMin: min, brokerSessionTimeoutMsMax: max } = metadataLimits;
  if (!Number.isSafeInteger(sessionTimeoutMs) || sessionTimeoutMs < min || sessionTimeoutMs > max) {
    rejectCommand('INVALID_REQUEST', `broker ${brokerId}: session timeout ${sessionTimeoutMs} ms must be from ${min} to ${max} ms`);
  }
}

/** Finds the broker and checks the epoch a request carries: FENCED when replaced, STALE_EPOCH when unknown. */
export function requireCurrentBroker(state: MetadataState, brokerId: number, brokerEpoch: number): BrokerRecord {
  const broker = state.brokers.get(brokerId);
  if (broker === undefined) rejectCommand('NODE_NOT_FOUND', `broker ${brokerId} is not registered; register it first`);
  if (brokerEpoch < broker.brokerEpoch) {
    rejectCommand('FENCED', `broker ${brokerId} epoch ${brokerEpoch} was replaced by epoch ${broker.brokerEpoch}; stop serving and register again`);
  }
  if (brokerEpoch > broker.brokerEpoch) {
    rejectCommand('STALE_EPOCH', `broker ${brokerId} epoch ${brokerEpoch} is newer than its registered epoch ${broker.brokerEpoch}; this controller never assigned it`);
  }
  return broker;
}

/**
 * Extends a broker's session. Unfences it when it asks to be unfenced and has applied metadata up
 * to its own registration (so it knows its partitions); starts controlled shutdown on request,
 * which moves its leaderships to other in-sync replicas; it is ready once none is left that another
 * in-sync replica could take. Shutdown is one-way until re-registration.
 */
export function brokerHeartbeat(context: ApplyContext, command: BrokerHeartbeatCommand): BrokerHeartbeatOutput {
  const { state } = context;
  const broker = requireCurrentBroker(state, command.brokerId, command.brokerEpoch);
  validateBrokerSessionTimeout(command.brokerId, command.sessionTimeoutMs);
  const before = { fenced: broker.fenced, shuttingDown: broker.shuttingDown };
  broker.heartbeatDeadlineMs = command.nowMs + command.sessionTimeoutMs;
  if (command.wantsShutdown) broker.shuttingDown = true;
  const caughtUp = command.metadataVersion >= broker.brokerEpoch;
  if (broker.fenced && !command.wantsFence && !broker.shuttingDown && caughtUp) broker.fenced = false;
  if (broker.fenced !== before.fenced || broker.shuttingDown !== before.shuttingDown) {
    context.deltas.push(brokerStateChangedDelta(context.index, broker));
    reassessPartitionsOf(context, new Set([broker.brokerId]));
  }
  const remainingLeaderships = countLeaderships(state, broker.brokerId);
  const shutdownReady = broker.shuttingDown && countMovableLeaderships(state, broker.brokerId) === 0;
  return { standing: brokerStanding(broker), shutdownReady, remainingLeaderships };
}

/** Fences every live broker whose heartbeat deadline is at or before `nowMs`, then moves their leaderships. */
export function fenceExpiredBrokers(context: ApplyContext, command: FenceExpiredBrokersCommand): FenceExpiredBrokersOutput {
  const expired = sortedValues(context.state.brokers).filter((broker) => !broker.fenced && broker.heartbeatDeadlineMs <= command.nowMs);
  for (const broker of expired) {
    broker.fenced = true;
    context.deltas.push(brokerStateChangedDelta(context.index, broker));
  }
  const fencedBrokerIds = expired.map((broker) => broker.brokerId);
  // All at once: a partition whose whole ISR expired keeps its last leader, not whichever went first.
  reassessPartitionsOf(context, new Set(fencedBrokerIds));
  return { fencedBrokerIds };
}
