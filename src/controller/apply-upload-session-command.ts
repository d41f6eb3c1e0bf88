import { rejectCommand, type ApplyContext } from './apply-context.js';
import { requireCurrentBroker } from './apply-broker-command.js';
import { requirePartition } from './apply-partition-command.js';
import { requireTopic } from './apply-topic-command.js';
import type { UpsertUploadSessionCommand } from './metadata-command.js';
import { metadataLimits } from './metadata-limits.js';
import {
  copyUploadSession, terminalUploadSessionStates, uploadSessionKey, uploadSessionStates, type MetadataState, type UploadSessionRecord,
  type UploadSessionSource,
} from './metadata-state.js';
import { validateUploadSessionFields } from './validate-upload-session.js';

export interface UpsertUploadSessionOutput {
  session: UploadSessionRecord;
}

/**
 * Records an upload session's progress in the catalog, for a current broker. A session stays on
 * the partition it was created on, its state only moves forward, its committed lengths never
 * shrink (in total and per source, and not at all once a source is final), sources are added and
 * never removed, and a terminal session is closed: only an identical repeat (a retry) is accepted.
 *
 * The catalog is bounded by `uploadSessionsMax` sessions and `uploadSourcesMax` sources: making
 * room evicts the least recently updated terminal sessions (`uploadSessionRemoved` deltas), so a
 * busy cluster keeps recording new sessions and keeps the most recent history. Live sessions are
 * never evicted; when they alone fill the catalog the command is RESOURCE_EXHAUSTED.
 */
export function upsertUploadSession(context: ApplyContext, command: UpsertUploadSessionCommand): UpsertUploadSessionOutput {
  const { state } = context;
  requireCurrentBroker(state, command.brokerId, command.brokerEpoch);
  validateUploadSessionFields(command);
  const where = `session "${command.deviceId}/${command.sessionId}"`;
  const key = uploadSessionKey(command.deviceId, command.sessionId);
  const existing = state.uploadSessions.get(key);
  if (existing === undefined) {
    requirePartition(requireTopic(state, command.topic, ''), command.partition);
  } else {
    if (terminalUploadSessionStates.has(existing.state)) {
      if (isRepeat(existing, command)) return { session: copyUploadSession(existing) };
      rejectCommand('SESSION_CLOSED', `${where} is ${existing.state} and accepts no more changes`);
    }
    checkProgress(where, existing, command);
  }
  const evicted = planEvictions(state, key, existing === undefined ? 1 : 0, command.sources.length - (existing?.sources.length ?? 0));
  for (const evictedKey of evicted) removeSession(context, evictedKey);
  const session: UploadSessionRecord = {
    deviceId: command.deviceId, sessionId: command.sessionId, state: command.state, topic: command.topic, partition: command.partition,
    committedLength: command.committedLength, digest: command.digest, createdAtMs: command.createdAtMs, updatedAtMs: command.nowMs,
    expiresAtMs: command.expiresAtMs, failure: command.failure, sources: command.sources.map((source) => ({ ...source })),
  };
  state.uploadSourceCount += session.sources.length - (existing?.sources.length ?? 0);
  state.uploadSessions.set(key, session);
  context.deltas.push({ kind: 'uploadSessionChanged', version: context.index, session: copyUploadSession(session) });
  return { session: copyUploadSession(session) };
}

/** A retry of the command that produced `existing`: everything equal but the time it was sent. */
function isRepeat(existing: UploadSessionRecord, command: UpsertUploadSessionCommand): boolean {
  return existing.state === command.state && existing.topic === command.topic && existing.partition === command.partition
    && existing.committedLength === command.committedLength && existing.digest === command.digest && existing.createdAtMs === command.createdAtMs
    && existing.expiresAtMs === command.expiresAtMs && existing.failure === command.failure && sameSources(existing.sources, command.sources);
}

function sameSources(left: readonly UploadSessionSource[], right: readonly UploadSessionSource[]): boolean {
  return left.length === right.length && left.every((source, index) => {
    const other = right[index] as UploadSessionSource;
    return source.name === other.name && source.contentType === other.contentType && source.payloadKind === other.payloadKind
      && source.committedBytes === other.committedBytes && source.final === other.final;
  });
}

function checkProgress(where: string, existing: UploadSessionRecord, command: UpsertUploadSessionCommand): void {
  if (existing.topic !== command.topic || existing.partition !== command.partition) {
    rejectCommand('INVALID_REQUEST', `${where} lives on ${existing.topic}/${existing.partition}; it cannot move to ${command.topic}/${command.partition}`);
  }
  if (uploadSessionStates.indexOf(command.state) < uploadSessionStates.indexOf(existing.state) && !terminalUploadSessionStates.has(command.state)) {
    rejectCommand('INVALID_REQUEST', `${where} is ${existing.state}; it cannot go back to ${command.state}`);
  }
  if (command.committedLength < existing.committedLength) {
    rejectCommand('OFFSET_MISMATCH', `${where} has ${existing.committedLength} committed bytes; ${command.committedLength} would go backwards`);
  }
  if (command.createdAtMs !== existing.createdAtMs) {
    rejectCommand('INVALID_REQUEST', `${where} was created at ${existing.createdAtMs} ms; its creation time cannot change to ${command.createdAtMs}`);
  }
  existing.sources.forEach((source, index) => checkSourceProgress(where, source, command.sources[index]));
}

/** Sources keep their declaration order, so the recorded ones are a prefix of every later list. */
function checkSourceProgress(where: string, existing: UploadSessionSource, next: UploadSessionSource | undefined): void {
  if (next?.name !== existing.name) {
    rejectCommand('INVALID_REQUEST', `${where} has source "${existing.name}" where the update has ${next === undefined ? 'none' : `"${next.name}"`}; sources are never removed or reordered`);
  }
  const source = `${where} source "${existing.name}"`;
  if (next.contentType !== existing.contentType || next.payloadKind !== existing.payloadKind) {
    rejectCommand('INVALID_REQUEST', `${source} is ${existing.payloadKind} "${existing.contentType}"; it cannot change to ${next.payloadKind} "${next.contentType}"`);
  }
  if (next.committedBytes < existing.committedBytes) {
    rejectCommand('OFFSET_MISMATCH', `${source} has ${existing.committedBytes} committed bytes; ${next.committedBytes} would go backwards`);
  }
  if (existing.final && (!next.final || next.committedBytes !== existing.committedBytes)) {
    rejectCommand('OFFSET_MISMATCH', `${source} is final at ${existing.committedBytes} bytes; it cannot change to ${next.committedBytes} bytes${next.final ? '' : ', not final'}`);
  }
}

/**
 * The keys of the terminal sessions to evict so that `sessionsAdded` sessions and `sourcesAdded`
 * sources fit, oldest update first (ties by key, so every replica picks the same). Rejects with
 * RESOURCE_EXHAUSTED, changing nothing, when evicting every terminal session would not be enough.
 * One scan per eviction: usually one, rarely more, and none until the catalog is full.
 */
function planEvictions(state: MetadataState, keepKey: string, sessionsAdded: number, sourcesAdded: number): string[] {
  const evicted = new Set<string>();
  let sessions = state.uploadSessions.size + sessionsAdded;
  let sources = state.uploadSourceCount + sourcesAdded;
  while (sessions > metadataLimits.uploadSessionsMax || sources > metadataLimits.uploadSourcesMax) {
    const victim = oldestTerminalSession(state, keepKey, evicted);
    if (victim === undefined) {
      rejectCommand('RESOURCE_EXHAUSTED', `upload session catalog: ${state.uploadSessions.size} sessions with ${state.uploadSourceCount} sources are live and `
        + `${sessionsAdded} session(s) with ${sourcesAdded} more source(s) would exceed the limits of ${metadataLimits.uploadSessionsMax} sessions and ${metadataLimits.uploadSourcesMax} sources`);
    }
    evicted.add(victim[0]);
    sessions -= 1;
    sources -= victim[1].sources.length;
  }
  return [...evicted];
}

function oldestTerminalSession(state: MetadataState, keepKey: string, evicted: ReadonlySet<string>): [string, UploadSessionRecord] | undefined {
  let oldest: [string, UploadSessionRecord] | undefined;
  for (const [key, session] of state.uploadSessions) {
    if (key === keepKey || evicted.has(key) || !terminalUploadSessionStates.has(session.state)) continue;
    const older = oldest === undefined || session.updatedAtMs < oldest[1].updatedAtMs || (session.updatedAtMs === oldest[1].updatedAtMs && key < oldest[0]);
    if (older) oldest = [key, session];
  }
  return oldest;
}

function removeSession(context: ApplyContext, key: string): void {
  const session = context.state.uploadSessions.get(key) as UploadSessionRecord;
  context.state.uploadSessions.delete(key);
  context.state.uploadSourceCount -= session.sources.length;
  context.deltas.push({ kind: 'uploadSessionRemoved', version: context.index, deviceId: session.deviceId, sessionId: session.sessionId });
}
