import { TributaryError } from '../errors/index.js';
import type { CatalogEntry, SessionCatalog } from './session-catalog.js';
import { decodeIngestRecord, encodeIngestRecord, type IngestRecord } from './ingest-record.js';
import type { IngestLog } from './ingest-log.js';
import { IngestPartitionState, type IngestPartitionLimits } from './ingest-partition-state.js';
import type { HashFactory, SessionDeclaration, SessionEnd, TerminalSessionState } from './ingest-types.js';
import type { UploadSession } from './upload-session.js';
import type { UploadSource } from './upload-source.js';

/** A chunk of an Upload call, its CRC checked and its payload in source bytes. */
export interface UploadChunk {
  readonly source: string;
  readonly offsetBytes: number;
  readonly payload: Uint8Array;
  readonly final: boolean;
  /** Lowercase hex SHA-256 of the whole source on a final chunk; '' otherwise. */
  readonly sha256Hex: string;
}

/** What one chunk did, once committed. */
export interface ChunkOutcome {
  /** Bytes this chunk added to its source. */
  readonly storedBytes: number;
  /** Bytes of this chunk that repeated stored ones (acknowledged, not stored again). */
  readonly duplicateBytes: number;
}

export interface IngestPartitionOptions {
  readonly log: IngestLog;
  readonly createHash: HashFactory;
  readonly limits: IngestPartitionLimits;
  readonly catalog: SessionCatalog;
  readonly nowMs: () => number;
  /** Bytes per read while a new leader replays the partition. */
  readonly replayReadBytes: number;
  /** Told about records a replay skipped (sessions whose start retention deleted). */
  readonly onOrphans: (count: number) => void;
  /** How long completing or expiring a session waits for its end record to commit. */
  readonly commitWaitMs: number;
}

/** Never aborted: lifecycle waits end by their deadline, not by a caller going away. */
const lifecycleStop = new AbortController().signal;

/** Times a chunk is compared with stored bytes before giving up: each pass covers bytes appended meanwhile. */
const compareRoundsMax = 8;

/**
 * The upload sessions of one ingest partition on its leader, for one leadership: replays the log
 * when the leadership starts, then decides each call against the sessions' state, appends the
 * records that carry the decision, and answers once they are committed. Every state change goes
 * through IngestPartitionState.apply right after the append that stored it, the same function the
 * replay uses, so a new leader rebuilds exactly this state. Time comes in through `nowMs`.
 */
export class IngestPartition {
  readonly state: IngestPartitionState;
  /** Completions under way, by session: concurrent final chunks share one. */
  private readonly completing = new Map<UploadSession, Promise<void>>();
  private readonly watchers = new Set<(session: UploadSession) => void>();

  private constructor(private readonly options: IngestPartitionOptions) {
    this.state = new IngestPartitionState(options.log.partition, options.createHash, options.limits);
  }

  get log(): IngestLog {
    return this.options.log;
  }

  /** The partition's sessions as its whole log says, uncommitted records included (they are this leader's to commit). */
  static async open(options: IngestPartitionOptions): Promise<IngestPartition> {
    const partition = new IngestPartition(options);
    await partition.replay();
    return partition;
  }

  /** Calls `watcher` after each of a session's records commits (its device-session actor re-reads its state then). */
  onSessionChanged(watcher: (session: UploadSession) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** CreateSession: the existing session when the same one was declared before (created false). */
  async create(declaration: SessionDeclaration, deadlineMs: number, stop: AbortSignal): Promise<{ session: UploadSession; created: boolean }> {
    const existing = this.state.get(declaration.deviceId, declaration.sessionId);
    if (existing !== undefined) {
      await this.waitCommitted(existing.declarationLogOffset, deadlineMs, stop);
      return { session: existing, created: false };
    }
    this.state.assertRoom();
    const { committed } = this.store({ kind: 'session', declaration });
    await committed;
    const session = this.state.require(declaration.deviceId, declaration.sessionId);
    this.changed(session);
    await this.options.catalog.record(this.catalogEntry(session));
    return { session, created: true };
  }

  /**
   * Decides one chunk of an Upload call and stores what it adds. Resolves once that is decided and
   * stored, so the call's next chunk is decided against it (chunks of a call are decided in
   * order, and commit in parallel); `committed` resolves once what the chunk covers is committed.
   * Rejects with the chunk's refusal (OFFSET_MISMATCH, DIGEST_MISMATCH, SESSION_CLOSED, ...).
   */
  async upload(session: UploadSession, chunk: UploadChunk, deadlineMs: number, stop: AbortSignal): Promise<{ committed: Promise<ChunkOutcome> }> {
    let verifiedToBytes = chunk.offsetBytes;
    for (let round = 0; round < compareRoundsMax; round += 1) {
      const refusal = session.refusal(this.options.nowMs());
      if (refusal !== undefined) throw refusal;
      const source = session.source(chunk.source);
      const decision = source.decide({ ...chunk, verifiedToBytes });
      switch (decision.kind) {
        case 'reject':
          // The chunk's own error is the answer even when storing the failure did not work out:
          // the session then stays open and the same final chunk fails it again.
          if (decision.failsSession) await this.end(session, { state: 'failed', reason: decision.error.message, failureCode: decision.error.code }).catch(() => undefined);
          throw decision.error;
        case 'duplicate': {
          const outcome = { storedBytes: 0, duplicateBytes: chunk.payload.byteLength };
          return { committed: this.waitCommitted(decision.waitLogOffset, deadlineMs, stop).then(() => outcome) };
        }
        case 'compare':
          await this.compare(session, chunk, decision.fromBytes, decision.toBytes);
          verifiedToBytes = decision.toBytes;
          break;
        case 'append': {
          const { offsetBytes, payload, final, sha256Hex } = decision;
          const { deviceId, sessionId } = session.declaration;
          const outcome = { storedBytes: payload.byteLength, duplicateBytes: chunk.payload.byteLength - payload.byteLength };
          const stored = this.store({ kind: 'chunk', deviceId, sessionId, source: chunk.source, offsetBytes, payload, final, sha256Hex });
          return { committed: stored.committed.then(() => {
            this.changed(session);
            return outcome;
          }) };
        }
      }
    }
    throw new TributaryError('RESOURCE_EXHAUSTED', `${session.where} source "${chunk.source}": the chunk at byte ${chunk.offsetBytes} overlapped bytes still being appended after ${compareRoundsMax} comparisons; retry it`, { retriable: true });
  }

  /**
   * Completes a session whose every source is final and committed: records it in the controller's
   * catalog, then stores its end record. Concurrent callers share one completion. Resolves once
   * the session's end record (this one, or one stored before) is committed; at once when the
   * session is not committing.
   */
  complete(session: UploadSession): Promise<void> {
    const endLogOffset = session.endLogOffset;
    if (endLogOffset !== undefined) return this.waitCommitted(endLogOffset, this.options.nowMs() + this.options.commitWaitMs, lifecycleStop);
    if (session.state(this.options.log.highWatermark()) !== 'committing') return Promise.resolve();
    let completion = this.completing.get(session);
    if (completion === undefined) {
      completion = this.runCompletion(session).finally(() => this.completing.delete(session));
      this.completing.set(session, completion);
    }
    return completion;
  }

  /** Stores an expired end for a session past its deadline or idle timeout; resolves once its end record is committed. */
  async expire(session: UploadSession): Promise<void> {
    const refusal = session.refusal(this.options.nowMs());
    if (session.end === undefined && refusal !== undefined && !session.allFinalAppended()) {
      await this.end(session, { state: 'expired', reason: refusal.message, failureCode: 'SESSION_CLOSED' });
      return;
    }
    const endLogOffset = session.endLogOffset;
    if (endLogOffset !== undefined) await this.waitCommitted(endLogOffset, this.options.nowMs() + this.options.commitWaitMs, lifecycleStop);
  }

  /** Records the session's progress in the catalog (its actor does, while chunks commit). */
  recordProgress(session: UploadSession): Promise<void> {
    return this.options.catalog.record(this.catalogEntry(session));
  }

  /** TerminateSession: ends an open or receiving session; a terminated one is returned unchanged. */
  async terminate(session: UploadSession, reason: string, deadlineMs: number, stop: AbortSignal): Promise<void> {
    const ended = session.end;
    if (ended?.state === 'terminated') return this.waitCommitted(session.endLogOffset as number, deadlineMs, stop);
    if (ended !== undefined) throw new TributaryError('SESSION_CLOSED', `${session.where} is ${ended.state}; only an open or receiving session can be terminated`);
    if (session.allFinalAppended()) throw new TributaryError('SESSION_CLOSED', `${session.where} is committing (every source is final); it can no longer be terminated`);
    await this.end(session, { state: 'terminated', reason, failureCode: '' });
  }

  /** Resolves once the record at `logOffset` is committed; TIMEOUT at the deadline, SHUTTING_DOWN on `stop`. */
  async waitCommitted(logOffset: number, deadlineMs: number, stop: AbortSignal): Promise<void> {
    const { log } = this.options;
    while (log.highWatermark() <= logOffset) {
      log.assertLeading();
      const outcome = await log.waitForChange(deadlineMs, stop);
      if (outcome === 'stopped') throw new TributaryError('SHUTTING_DOWN', `partition "${log.partition}": the broker is shutting down`, { retriable: true });
      if (outcome === 'deadline' && log.highWatermark() <= logOffset) {
        throw new TributaryError('TIMEOUT', `partition "${log.partition}": log offset ${logOffset} was not committed in time (high watermark ${log.highWatermark()}); it may still commit`, { retriable: true });
      }
    }
  }

  /** The stored bytes of `source` from `fromBytes` to `toBytes` (exclusive), uncommitted ones included. */
  async readSource(source: UploadSource, fromBytes: number, toBytes: number, uncommitted: boolean): Promise<Uint8Array[]> {
    const pieces: Uint8Array[] = [];
    for (const entry of source.covering(fromBytes, toBytes)) {
      const payload = await this.readChunk(entry.logOffset, uncommitted);
      const start = Math.max(fromBytes, entry.offsetBytes) - entry.offsetBytes;
      const end = Math.min(toBytes, entry.offsetBytes + entry.lengthBytes) - entry.offsetBytes;
      pieces.push(payload.subarray(start, end));
    }
    return pieces;
  }

  /** The catalog entry of `session` as committed now. */
  catalogEntry(session: UploadSession): CatalogEntry {
    const { log } = this.options;
    const highWatermark = log.highWatermark();
    const { declaration } = session;
    const end = session.end !== undefined && (session.endLogOffset as number) < highWatermark ? session.end : undefined;
    return {
      deviceId: declaration.deviceId, sessionId: declaration.sessionId, state: session.state(highWatermark), topic: log.topic, partition: log.partitionIndex,
      committedLength: session.committedBytes(highWatermark), digest: end?.sessionSha256Hex ?? '', createdAtMs: declaration.createdAtMs,
      updatedAtMs: session.lastActivityMs, expiresAtMs: declaration.expiresAtMs, failure: end?.reason ?? '',
      sources: session.allSources().map((source) => ({
        name: source.spec.name, contentType: source.spec.contentType, payloadKind: source.spec.payloadKind, committedBytes: source.committedBytes(highWatermark), final: source.finalCommitted(highWatermark),
      })),
    };
  }

  private async runCompletion(session: UploadSession): Promise<void> {
    const sessionSha256Hex = session.digestHex(this.options.createHash);
    // The catalog first: a leader that crashes before the end record is stored finds the session
    // committing when it replays, and records it again (the catalog takes identical repeats).
    await this.options.catalog.record({ ...this.catalogEntry(session), state: 'complete', digest: sessionSha256Hex });
    const { committed } = this.store({ kind: 'end', deviceId: session.declaration.deviceId, sessionId: session.declaration.sessionId, end: endOf('complete', '', '', sessionSha256Hex, this.options.nowMs()) });
    await committed;
    this.changed(session);
  }

  private async end(session: UploadSession, how: { state: Exclude<TerminalSessionState, 'complete'>; reason: string; failureCode: string }): Promise<void> {
    if (session.end !== undefined) return;
    const { committed } = this.store({ kind: 'end', deviceId: session.declaration.deviceId, sessionId: session.declaration.sessionId, end: endOf(how.state, how.reason, how.failureCode, '', this.options.nowMs()) });
    await committed;
    this.changed(session);
    // The catalog lags until the session's actor records it again; GetSession on the leader stays exact.
    await this.options.catalog.record(this.catalogEntry(session)).catch(() => undefined);
  }

  private changed(session: UploadSession): void {
    for (const watcher of this.watchers) watcher(session);
  }

  /** Appends `record` and applies it at once, so the next decision sees it; a refused append changes nothing. */
  private store(record: IngestRecord): { committed: Promise<void> } {
    const { logOffset, committed } = this.options.log.append(encodeIngestRecord(record), this.options.nowMs());
    if (logOffset !== undefined) this.state.apply(record, logOffset, this.options.nowMs());
    return { committed };
  }

  private async compare(session: UploadSession, chunk: UploadChunk, fromBytes: number, toBytes: number): Promise<void> {
    const source = session.source(chunk.source);
    const stored = await this.readSource(source, fromBytes, toBytes, true);
    let position = fromBytes - chunk.offsetBytes;
    for (const piece of stored) {
      const sent = chunk.payload.subarray(position, position + piece.byteLength);
      if (!equalBytes(sent, piece)) {
        throw new TributaryError('OFFSET_MISMATCH', `${session.where} source "${chunk.source}": the chunk at byte ${chunk.offsetBytes} differs from the stored bytes ${fromBytes}..${toBytes}; the source continues at byte ${source.appendedBytes}`);
      }
      position += piece.byteLength;
    }
  }

  private async readChunk(logOffset: number, uncommitted: boolean): Promise<Uint8Array> {
    const { log } = this.options;
    const records = await log.read(logOffset, 1, uncommitted);
    const found = records.find((stored) => stored.offset === logOffset);
    if (found === undefined) throw new TributaryError('OFFSET_OUT_OF_RANGE', `partition "${log.partition}": the chunk record at log offset ${logOffset} is no longer stored (retention deleted it)`);
    const record = decodeIngestRecord(found.record, `at offset ${logOffset} of partition "${log.partition}"`);
    if (record.kind !== 'chunk') throw new TributaryError('CORRUPT_RECORD', `partition "${log.partition}": log offset ${logOffset} holds a ${record.kind} record where the session index has a chunk`);
    return record.payload;
  }

  private async replay(): Promise<void> {
    const { log, replayReadBytes } = this.options;
    const endOffset = log.logEndOffset();
    let orphans = 0;
    for (let offset = log.logStartOffset(); offset < endOffset;) {
      const records = await log.read(offset, replayReadBytes, true);
      if (records.length === 0) break;
      for (const stored of records) {
        if (stored.offset < offset || stored.offset >= endOffset) continue;
        const record = decodeIngestRecord(stored.record, `at offset ${stored.offset} of partition "${log.partition}"`);
        if (!this.state.apply(record, stored.offset, stored.timestampMs)) orphans += 1;
      }
      offset = (records.at(-1) as { offset: number }).offset + 1;
    }
    if (orphans > 0) this.options.onOrphans(orphans);
  }
}

function endOf(state: TerminalSessionState, reason: string, failureCode: string, sessionSha256Hex: string, endedAtMs: number): SessionEnd {
  return { state, reason, failureCode, sessionSha256Hex, endedAtMs };
}

function equalBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.byteLength !== right.byteLength) return false;
  for (let index = 0; index < left.byteLength; index += 1) if (left[index] !== right[index]) return false;
  return true;
}
