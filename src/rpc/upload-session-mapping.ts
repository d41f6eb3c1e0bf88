import type { UploadPayloadKind, UploadSessionRecord, UploadSessionSource, UploadSessionState } from '../controller/index.js';
import { TributaryError } from '../errors/index.js';
import type {
  UploadSessionRecord as WireUploadSessionRecord, UploadSessionSourceRecord as WireUploadSessionSource,
} from './generated/tributary/controller/v1/controller_broker_service.js';
import { PayloadKind, SessionState } from './generated/tributary/ingest/v1/ingest_types.js';

/*
 * The upload-session catalog record between the controller's domain and the wire, in both
 * directions: the controller's RecordUploadSession and WatchMetadata encode it, brokers' clients
 * decode it. One module for both sides, because the record is the same plain data on each.
 */

const stateOf: Record<UploadSessionState, SessionState> = {
  open: SessionState.OPEN, receiving: SessionState.RECEIVING, committing: SessionState.COMMITTING, complete: SessionState.COMPLETE,
  expired: SessionState.EXPIRED, failed: SessionState.FAILED, terminated: SessionState.TERMINATED,
};
const payloadKindOf: Record<UploadPayloadKind, PayloadKind> = { binary: PayloadKind.BINARY, json: PayloadKind.JSON, sensor: PayloadKind.SENSOR };
const domainStateOf = new Map(Object.entries(stateOf).map(([domain, wire]) => [wire, domain as UploadSessionState]));
const domainPayloadKindOf = new Map(Object.entries(payloadKindOf).map(([domain, wire]) => [wire, domain as UploadPayloadKind]));

export function uploadSessionToProto(session: UploadSessionRecord): WireUploadSessionRecord {
  return {
    deviceId: session.deviceId,
    sessionId: session.sessionId,
    state: stateOf[session.state],
    topicPartition: { topic: session.topic, partition: session.partition },
    committedLengthBytes: session.committedLength,
    digest: session.digest,
    createdAtMs: session.createdAtMs,
    updatedAtMs: session.updatedAtMs,
    expiresAtMs: session.expiresAtMs,
    failure: session.failure,
    sources: session.sources.map((source) => ({
      name: source.name, contentType: source.contentType, payloadKind: payloadKindOf[source.payloadKind], committedBytes: source.committedBytes, final: source.final,
    })),
  };
}

/** A wire record as the domain's; an unknown enum value is INVALID_REQUEST naming it. */
export function uploadSessionFromProto(session: WireUploadSessionRecord | undefined): UploadSessionRecord {
  if (session === undefined) throw new TributaryError('INVALID_REQUEST', 'the upload session record is missing');
  const where = `session "${session.deviceId}/${session.sessionId}"`;
  const state = domainStateOf.get(session.state);
  if (state === undefined) throw new TributaryError('INVALID_REQUEST', `${where}: state ${session.state} is not a known SessionState (OPEN..TERMINATED)`);
  if (session.topicPartition === undefined) throw new TributaryError('INVALID_REQUEST', `${where} has no topic_partition`);
  return {
    deviceId: session.deviceId,
    sessionId: session.sessionId,
    state,
    topic: session.topicPartition.topic,
    partition: session.topicPartition.partition,
    committedLength: session.committedLengthBytes,
    digest: session.digest,
    createdAtMs: session.createdAtMs,
    updatedAtMs: session.updatedAtMs,
    expiresAtMs: session.expiresAtMs,
    failure: session.failure,
    sources: session.sources.map((source) => sourceFromProto(where, source)),
  };
}

function sourceFromProto(where: string, source: WireUploadSessionSource): UploadSessionSource {
  const payloadKind = domainPayloadKindOf.get(source.payloadKind);
  if (payloadKind === undefined) {
    throw new TributaryError('INVALID_REQUEST', `${where} source "${source.name}": payload kind ${source.payloadKind} is not BINARY, JSON or SENSOR`);
  }
  return { name: source.name, contentType: source.contentType, payloadKind, committedBytes: source.committedBytes, final: source.final };
}
