import { TributaryError } from '../errors/index.js';

/** The payload variant of a source's chunks (PayloadKind in ingest_types.proto). */
export type CollectorPayloadKind = 'binary' | 'json' | 'sensor';
const payloadKinds: readonly CollectorPayloadKind[] = ['binary', 'json', 'sensor'];

/** A sensor source's shape (SensorDescriptor); `kind` is the wire enum's number. */
export interface CollectorSensorShape {
  readonly kind: number;
  readonly channelCount: number;
  readonly units: readonly string[];
  readonly channelNames: readonly string[];
  readonly nominalRateHz: number;
}

/** One named byte stream of a session, as CreateSession will declare it (SourceSpec). */
export interface CollectorSourceDeclaration {
  readonly name: string;
  readonly contentType: string;
  readonly payloadKind: CollectorPayloadKind;
  /** Exact total length when the device knows it up front; appends past it and an early finish fail. */
  readonly declaredLengthBytes?: number | undefined;
  /** Required for sensor sources, absent otherwise, as CreateSession requires. */
  readonly sensor?: CollectorSensorShape | undefined;
}

/** A recording session as the queue keeps it until the uploader creates it on the cluster. */
export interface CollectorSessionDeclaration {
  readonly sessionId: string;
  readonly sources: readonly CollectorSourceDeclaration[];
  readonly metadata: Readonly<Record<string, string>>;
  /** When the device created the session, milliseconds since the Unix epoch (device clock). */
  readonly createdAtMs: number;
}

/* The CreateSession bounds (data_ingest_service.proto), checked here so that a session the queue
 * accepted is never refused by the cluster for its shape. */
const sessionIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const sourceNamePattern = /^[a-z0-9_.-]{1,64}$/;
const sourcesMax = 64;
const contentTypeCharactersMax = 255;
const metadataEntriesMax = 64;
const metadataKeyBytesMax = 128;
const metadataValueBytesMax = 4096;
const metadataBytesMax = 16 * 1024;

function invalid(message: string): TributaryError {
  return new TributaryError('INVALID_REQUEST', message);
}

export function requireSessionId(sessionId: string): void {
  if (!sessionIdPattern.test(sessionId)) throw invalid(`session id ${JSON.stringify(sessionId)} must be 1-128 characters of [A-Za-z0-9._:-]`);
}

/** Checks a declaration against the protocol's bounds; the error names the bad value. */
export function validateSessionDeclaration(declaration: CollectorSessionDeclaration): void {
  requireSessionId(declaration.sessionId);
  const where = `session "${declaration.sessionId}"`;
  if (declaration.sources.length < 1 || declaration.sources.length > sourcesMax) {
    throw invalid(`${where} declares ${declaration.sources.length} sources; a session has 1 to ${sourcesMax}`);
  }
  const names = new Set<string>();
  for (const source of declaration.sources) {
    validateSource(where, source);
    if (names.has(source.name)) throw invalid(`${where} declares source "${source.name}" twice`);
    names.add(source.name);
  }
  validateMetadata(where, declaration.metadata);
  if (!Number.isSafeInteger(declaration.createdAtMs) || declaration.createdAtMs < 0) {
    throw invalid(`${where} has createdAtMs ${declaration.createdAtMs}; it must be milliseconds since the Unix epoch`);
  }
}

function validateSource(where: string, source: CollectorSourceDeclaration): void {
  if (!sourceNamePattern.test(source.name)) throw invalid(`${where} source name ${JSON.stringify(source.name)} must be 1-64 characters of [a-z0-9_.-]`);
  if (source.contentType.length < 1 || source.contentType.length > contentTypeCharactersMax) {
    throw invalid(`${where} source "${source.name}" content type must be 1-${contentTypeCharactersMax} characters`);
  }
  if (!payloadKinds.includes(source.payloadKind)) {
    throw invalid(`${where} source "${source.name}" payload kind ${JSON.stringify(source.payloadKind)} is not one of ${payloadKinds.join(', ')}`);
  }
  const declared = source.declaredLengthBytes;
  if (declared !== undefined && (!Number.isSafeInteger(declared) || declared < 0)) {
    throw invalid(`${where} source "${source.name}" declared length ${declared} must be a non-negative integer`);
  }
  if ((source.sensor !== undefined) !== (source.payloadKind === 'sensor')) {
    throw invalid(`${where} source "${source.name}" has payload kind ${source.payloadKind}: a sensor shape is required for sensor sources and only for them`);
  }
}

function validateMetadata(where: string, metadata: Readonly<Record<string, string>>): void {
  const entries = Object.entries(metadata);
  if (entries.length > metadataEntriesMax) throw invalid(`${where} has ${entries.length} metadata entries; at most ${metadataEntriesMax}`);
  let totalBytes = 0;
  for (const [key, value] of entries) {
    const keyBytes = Buffer.byteLength(key);
    const valueBytes = Buffer.byteLength(value);
    if (keyBytes < 1 || keyBytes > metadataKeyBytesMax) throw invalid(`${where} metadata key ${JSON.stringify(key)} must be 1-${metadataKeyBytesMax} bytes`);
    if (valueBytes > metadataValueBytesMax) throw invalid(`${where} metadata "${key}" has ${valueBytes} bytes; at most ${metadataValueBytesMax}`);
    totalBytes += keyBytes + valueBytes;
  }
  if (totalBytes > metadataBytesMax) throw invalid(`${where} metadata has ${totalBytes} bytes; at most ${metadataBytesMax}`);
}

/** Whether two declarations of one session id say the same (declaring again is then a no-op). */
export function sameDeclaration(left: CollectorSessionDeclaration, right: CollectorSessionDeclaration): boolean {
  return JSON.stringify(canonical(left)) === JSON.stringify(canonical(right));
}

function canonical(declaration: CollectorSessionDeclaration): unknown {
  const sources = declaration.sources.map((source) => [source.name, source.contentType, source.payloadKind, source.declaredLengthBytes ?? null, sensorFields(source.sensor)]);
  const metadata = Object.entries(declaration.metadata).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  return [declaration.sessionId, sources, metadata];
}

function sensorFields(sensor: CollectorSensorShape | undefined): unknown {
  return sensor === undefined ? null : [sensor.kind, sensor.channelCount, sensor.units, sensor.channelNames, sensor.nominalRateHz];
}
