import { rejectCommand } from './apply-context.js';
import type { UpsertUploadSessionCommand } from './metadata-command.js';
import { metadataLimits } from './metadata-limits.js';
import { uploadPayloadKinds, uploadSessionStates, type UploadSessionSource, type UploadSessionState } from './metadata-state.js';

const digestPattern = /^[0-9a-f]*$/;
/** The ingest contract's source names (ingest_types.proto SourceSpec.name). */
const sourceNamePattern = /^[a-z0-9_.-]+$/;
/** Only a session that ended without completing says why. */
const statesWithFailure: ReadonlySet<UploadSessionState> = new Set(['expired', 'failed', 'terminated']);

/** Checks an upsert's fields on their own, before the catalog is consulted; every message names the value. */
export function validateUploadSessionFields(command: UpsertUploadSessionCommand): void {
  const lengthMax = metadataLimits.identifierLengthMax;
  for (const [what, value] of [['device id', command.deviceId], ['session id', command.sessionId]] as const) {
    if (value.length === 0 || value.length > lengthMax || value.includes('\u0000')) {
      rejectCommand('INVALID_REQUEST', `upload session ${what} "${value}" must be 1-${lengthMax} characters without NUL`);
    }
  }
  const where = `session "${command.deviceId}/${command.sessionId}"`;
  if (!uploadSessionStates.includes(command.state)) rejectCommand('INVALID_REQUEST', `${where}: state "${String(command.state)}" is not one of ${uploadSessionStates.join(', ')}`);
  requireCount(where, 'committed length', command.committedLength);
  requireCount(where, 'creation time', command.createdAtMs);
  requireCount(where, 'expiry time', command.expiresAtMs);
  if (command.expiresAtMs !== 0 && command.expiresAtMs < command.createdAtMs) {
    rejectCommand('INVALID_REQUEST', `${where}: expiry time ${command.expiresAtMs} ms is before its creation time ${command.createdAtMs} ms (0 means no expiry)`);
  }
  if (command.digest.length > metadataLimits.digestLengthMax || !digestPattern.test(command.digest)) {
    rejectCommand('INVALID_REQUEST', `${where}: digest "${command.digest}" must be at most ${metadataLimits.digestLengthMax} lowercase hex digits`);
  }
  if (command.state === 'complete' && command.digest === '') rejectCommand('INVALID_REQUEST', `${where}: a complete session needs its SHA-256 digest`);
  const open = command.sources.find((source) => !source.final);
  if (command.state === 'complete' && open !== undefined) rejectCommand('INVALID_REQUEST', `${where}: a complete session needs every source final; "${open.name}" is not`);
  validateFailure(where, command);
  validateSources(where, command.sources);
}

function requireCount(where: string, what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) rejectCommand('INVALID_REQUEST', `${where}: ${what} ${value} must be a non-negative integer`);
}

function validateFailure(where: string, command: UpsertUploadSessionCommand): void {
  if (command.failure.length > metadataLimits.uploadFailureLengthMax) {
    rejectCommand('INVALID_REQUEST', `${where}: failure text of ${command.failure.length} characters exceeds ${metadataLimits.uploadFailureLengthMax}`);
  }
  if (command.failure !== '' && !statesWithFailure.has(command.state)) {
    rejectCommand('INVALID_REQUEST', `${where}: a ${command.state} session has no failure; "${command.failure.slice(0, 64)}" is only for ${[...statesWithFailure].join(', ')} sessions`);
  }
}

function validateSources(where: string, sources: readonly UploadSessionSource[]): void {
  if (sources.length > metadataLimits.uploadSourcesPerSessionMax) {
    rejectCommand('INVALID_REQUEST', `${where} has ${sources.length} sources; at most ${metadataLimits.uploadSourcesPerSessionMax} are allowed`);
  }
  const names = new Set<string>();
  for (const source of sources) {
    const nameLengthMax = metadataLimits.uploadSourceNameLengthMax;
    if (source.name.length > nameLengthMax || !sourceNamePattern.test(source.name)) {
      rejectCommand('INVALID_REQUEST', `${where}: source name "${source.name}" must be 1-${nameLengthMax} characters of [a-z0-9_.-]`);
    }
    if (names.has(source.name)) rejectCommand('INVALID_REQUEST', `${where} names source "${source.name}" twice; source names are unique in a session`);
    names.add(source.name);
    const contentTypeLengthMax = metadataLimits.uploadContentTypeLengthMax;
    if (source.contentType.length === 0 || source.contentType.length > contentTypeLengthMax) {
      rejectCommand('INVALID_REQUEST', `${where} source "${source.name}": content type "${source.contentType.slice(0, 64)}" must be 1-${contentTypeLengthMax} characters`);
    }
    if (!uploadPayloadKinds.includes(source.payloadKind)) {
      rejectCommand('INVALID_REQUEST', `${where} source "${source.name}": payload kind "${String(source.payloadKind)}" is not one of ${uploadPayloadKinds.join(', ')}`);
    }
    requireCount(`${where} source "${source.name}"`, 'committed bytes', source.committedBytes);
  }
}
