import type { IngestPartition } from '../../ingest/ingest-partition.js';
import { type PayloadKind as DomainPayloadKind, type SessionDeclaration, type SessionState as DomainSessionState, type SourceSpec as DomainSourceSpec } from '../../ingest/ingest-types.js';
import { bytesOfHex } from '../../ingest/session-digest.js';
import type { UploadSession } from '../../ingest/upload-session.js';
import { isErrorCode, TributaryError } from '../../errors/index.js';
import { toErrorDetail } from '../error-status.js';
import type { CreateSessionRequest } from '../generated/tributary/ingest/v1/data_ingest_service.js';
import { PayloadKind, SensorKind, type SessionInfo, SessionState, type SourceSpec, type SourceProgress } from '../generated/tributary/ingest/v1/ingest_types.js';
import type { IngestSettings } from './ingest-settings.js';

/** Device and session ids: ingest_types.proto's rule. */
const identifierPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const sourceNamePattern = /^[a-z0-9_.-]{1,64}$/;
const sourcesMax = 64;
const metadataEntriesMax = 64;
const metadataKeyBytesMax = 128;
const metadataValueBytesMax = 4096;
const metadataBytesMax = 16 * 1024;
const contentTypeLengthMax = 255;
const sensorChannelsMax = 64;

const utf8 = new TextEncoder();

/** INVALID_REQUEST naming `what` unless `value` is a device or session id. */
export function checkIdentifier(what: 'device id' | 'session id', value: string): string {
  if (!identifierPattern.test(value)) throw invalid(`${what} "${value}" is invalid: use 1-128 characters of [A-Za-z0-9._:-]`);
  return value;
}

/** The session a CreateSession declares, with the broker's effective times; INVALID_REQUEST naming the bad field. */
export function declarationOf(request: CreateSessionRequest, settings: IngestSettings, nowMs: number): SessionDeclaration {
  const deviceId = checkIdentifier('device id', request.deviceId);
  const sessionId = checkIdentifier('session id', request.sessionId);
  const where = `session "${deviceId}/${sessionId}"`;
  if (request.sources.length < 1 || request.sources.length > sourcesMax) throw invalid(`${where} declares ${request.sources.length} sources; a session has 1-${sourcesMax}`);
  const names = new Set<string>();
  const sources = request.sources.map((spec) => {
    const source = sourceSpecOf(spec, where);
    if (names.has(source.name)) throw invalid(`${where} declares source "${source.name}" twice`);
    names.add(source.name);
    return source;
  });
  checkMetadata(request.metadata, where);
  return { deviceId, sessionId, sources, metadata: { ...request.metadata }, createdAtMs: nowMs, expiresAtMs: expiresAtMsOf(request.expiresAtMs, settings, nowMs, where), idleTimeoutMs: idleTimeoutMsOf(request.idleTimeoutMs, settings) };
}

function sourceSpecOf(spec: SourceSpec, where: string): DomainSourceSpec {
  if (!sourceNamePattern.test(spec.name)) throw invalid(`${where}: source name "${spec.name}" is invalid: use 1-64 characters of [a-z0-9_.-]`);
  const at = `${where} source "${spec.name}"`;
  if (spec.contentType.length < 1 || spec.contentType.length > contentTypeLengthMax) throw invalid(`${at}: content type "${spec.contentType}" must be 1-${contentTypeLengthMax} characters`);
  const payloadKind = payloadKindOf(spec.payloadKind, at);
  const declared = spec.declaredLengthBytes;
  if (declared !== undefined && !Number.isSafeInteger(declared)) throw invalid(`${at}: declared length ${declared} is not a safe integer`);
  if ((payloadKind === 'sensor') !== (spec.sensor !== undefined)) throw invalid(`${at}: a sensor descriptor is required for PAYLOAD_KIND_SENSOR sources and not allowed for others`);
  return { name: spec.name, contentType: spec.contentType, payloadKind, declaredLengthBytes: declared, sensor: spec.sensor === undefined ? undefined : sensorShapeOf(spec.sensor, at) };
}

function sensorShapeOf(sensor: NonNullable<SourceSpec['sensor']>, at: string): NonNullable<DomainSourceSpec['sensor']> {
  const { kind, channelCount, units, channelNames, nominalRateHz } = sensor;
  if (kind === SensorKind.UNSPECIFIED || kind === SensorKind.UNRECOGNIZED) throw invalid(`${at}: sensor kind ${kind} is not a known SensorKind`);
  if (channelCount < 1 || channelCount > sensorChannelsMax) throw invalid(`${at}: sensor channel count ${channelCount} must be 1-${sensorChannelsMax}`);
  if (units.length !== 1 && units.length !== channelCount) throw invalid(`${at}: ${units.length} units given; give one per channel (${channelCount}) or a single one for all`);
  if (channelNames.length !== 0 && channelNames.length !== channelCount) throw invalid(`${at}: ${channelNames.length} channel names given; give none or one per channel (${channelCount})`);
  if (!Number.isFinite(nominalRateHz) || nominalRateHz < 0) throw invalid(`${at}: nominal rate ${nominalRateHz} Hz must be a non-negative number`);
  return { kind, channelCount, units: [...units], channelNames: [...channelNames], nominalRateHz };
}

function payloadKindOf(kind: PayloadKind, at: string): DomainPayloadKind {
  if (kind === PayloadKind.BINARY) return 'binary';
  if (kind === PayloadKind.JSON) return 'json';
  if (kind === PayloadKind.SENSOR) return 'sensor';
  throw invalid(`${at}: payload kind ${kind} is not BINARY, JSON or SENSOR`);
}

const payloadKindToWire: Record<DomainPayloadKind, PayloadKind> = { binary: PayloadKind.BINARY, json: PayloadKind.JSON, sensor: PayloadKind.SENSOR };

function checkMetadata(metadata: Readonly<Record<string, string>>, where: string): void {
  const entries = Object.entries(metadata);
  if (entries.length > metadataEntriesMax) throw invalid(`${where} has ${entries.length} metadata entries; at most ${metadataEntriesMax} are allowed`);
  let total = 0;
  for (const [key, value] of entries) {
    const keyBytes = utf8.encode(key).byteLength;
    const valueBytes = utf8.encode(value).byteLength;
    if (keyBytes < 1 || keyBytes > metadataKeyBytesMax) throw invalid(`${where}: metadata key "${key}" must be 1-${metadataKeyBytesMax} bytes`);
    if (valueBytes > metadataValueBytesMax) throw invalid(`${where}: metadata value of "${key}" is ${valueBytes} bytes; at most ${metadataValueBytesMax}`);
    total += keyBytes + valueBytes;
  }
  if (total > metadataBytesMax) throw invalid(`${where}: metadata takes ${total} bytes; at most ${metadataBytesMax}`);
}

function expiresAtMsOf(requested: number, settings: IngestSettings, nowMs: number, where: string): number {
  if (requested === 0) return nowMs + settings.sessionLifetimeMsDefault;
  if (requested <= nowMs) throw invalid(`${where}: expires_at_ms ${requested} (${new Date(requested).toISOString()}) is not in the future`);
  return Math.min(requested, nowMs + settings.sessionLifetimeMsMax);
}

function idleTimeoutMsOf(requested: number, settings: IngestSettings): number {
  return requested === 0 ? settings.idleTimeoutMsDefault : Math.min(requested, settings.idleTimeoutMsMax);
}

const stateToWire: Record<DomainSessionState, SessionState> = {
  open: SessionState.OPEN, receiving: SessionState.RECEIVING, committing: SessionState.COMMITTING, complete: SessionState.COMPLETE,
  expired: SessionState.EXPIRED, failed: SessionState.FAILED, terminated: SessionState.TERMINATED,
};

export function sessionStateToWire(state: DomainSessionState): SessionState {
  return stateToWire[state];
}

/** Where a session lives and who serves it now. */
export interface Placement {
  readonly topic: string;
  readonly partition: number;
  readonly leaderNodeId: number;
  readonly leaderAddress: string;
  readonly leaderEpoch: number;
}

/** The session as readers see it: committed records only. */
export function sessionInfoOf(partition: IngestPartition, session: UploadSession, placement: Placement): SessionInfo {
  const highWatermark = partition.log.highWatermark();
  const { declaration } = session;
  const state = session.state(highWatermark);
  const end = session.end !== undefined && (session.endLogOffset as number) < highWatermark ? session.end : undefined;
  return {
    deviceId: declaration.deviceId,
    sessionId: declaration.sessionId,
    state: sessionStateToWire(state),
    sources: session.allSources().map((source) => ({
      spec: sourceSpecToWire(source.spec),
      committedOffsetBytes: source.committedBytes(highWatermark),
      final: source.finalCommitted(highWatermark),
      sha256: source.finalCommitted(highWatermark) ? Buffer.from(bytesOfHex(source.sha256Hex)) : Buffer.alloc(0),
      committedChunks: source.committedChunks(highWatermark),
      lastCommitMs: session.lastChunkAtMs(source.spec.name),
    })),
    placement: placementToWire(placement),
    metadata: { ...declaration.metadata },
    createdAtMs: declaration.createdAtMs,
    updatedAtMs: session.lastActivityMs,
    expiresAtMs: declaration.expiresAtMs,
    idleTimeoutMs: declaration.idleTimeoutMs,
    endedAtMs: end?.endedAtMs ?? 0,
    committedBytes: session.committedBytes(highWatermark),
    sessionSha256: end?.state === 'complete' ? Buffer.from(bytesOfHex(end.sessionSha256Hex)) : Buffer.alloc(0),
    failure: end !== undefined && (end.state === 'failed' || end.state === 'expired') ? failureOf(end.failureCode, end.reason) : undefined,
    terminationReason: end?.state === 'terminated' ? end.reason : '',
  };
}

export function placementToWire(placement: Placement): NonNullable<SessionInfo['placement']> {
  return { topicPartition: { topic: placement.topic, partition: placement.partition }, leaderNodeId: placement.leaderNodeId, leaderAddress: placement.leaderAddress, leaderEpoch: placement.leaderEpoch };
}

export function progressToWire(progress: ReturnType<UploadSession['progress']>): SourceProgress[] {
  return progress.map(({ source, committedBytes, final }) => ({ source, committedOffsetBytes: committedBytes, final }));
}

function sourceSpecToWire(spec: DomainSourceSpec): SourceSpec {
  return {
    name: spec.name, contentType: spec.contentType, payloadKind: payloadKindToWire[spec.payloadKind], declaredLengthBytes: spec.declaredLengthBytes,
    sensor: spec.sensor === undefined ? undefined : { ...spec.sensor, units: [...spec.sensor.units], channelNames: [...spec.sensor.channelNames] },
  };
}

function failureOf(code: string, reason: string): SessionInfo['failure'] {
  return toErrorDetail(new TributaryError(isErrorCode(code) ? code : 'UNKNOWN', reason, { retriable: false }));
}

function invalid(message: string): TributaryError {
  return new TributaryError('INVALID_REQUEST', message);
}
