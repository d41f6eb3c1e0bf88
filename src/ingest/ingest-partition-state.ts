import { TributaryError } from '../errors/index.js';
import type { IngestRecord } from './ingest-record.js';
import type { HashFactory } from './ingest-types.js';
import { UploadSession } from './upload-session.js';

/** Bounds of one ingest partition's session state on its leader. */
export interface IngestPartitionLimits {
  /** Sessions one partition keeps (every state, until retention removes their records). */
  readonly sessionsPerPartitionMax: number;
  /** Chunks one source may have: each costs an index entry on the leader. */
  readonly chunksPerSourceMax: number;
}

export const ingestPartitionDefaults: IngestPartitionLimits = { sessionsPerPartitionMax: 100_000, chunksPerSourceMax: 1_048_576 };

/**
 * The upload sessions of one ingest partition, as its records say: `apply` takes every record in
 * log order, whether the live path just appended it or a new leader reads the log back. Pure.
 */
export class IngestPartitionState {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(
    readonly partition: string,
    private readonly createHash: HashFactory,
    private readonly limits: IngestPartitionLimits,
  ) {}

  get(deviceId: string, sessionId: string): UploadSession | undefined {
    return this.sessions.get(sessionKey(deviceId, sessionId));
  }

  /** The session, or SESSION_NOT_FOUND naming it. */
  require(deviceId: string, sessionId: string): UploadSession {
    const session = this.get(deviceId, sessionId);
    if (session === undefined) throw new TributaryError('SESSION_NOT_FOUND', `session "${deviceId}/${sessionId}" does not exist on partition "${this.partition}"; create it first (CreateSession)`);
    return session;
  }

  all(): UploadSession[] {
    return [...this.sessions.values()];
  }

  /** RESOURCE_EXHAUSTED when one more session would pass the bound. */
  assertRoom(): void {
    if (this.sessions.size >= this.limits.sessionsPerPartitionMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `partition "${this.partition}" holds ${this.sessions.size} upload sessions, the most it keeps; retry after older ones age out of retention`, { retriable: true });
    }
  }

  /**
   * Applies the record stored at `logOffset`; CORRUPT_RECORD when it does not fit the sessions so
   * far. False for a record of a session no earlier record declares: retention deleted the start
   * of that session (it deletes whole batches from the front), and what is left cannot be served.
   */
  apply(record: IngestRecord, logOffset: number, timestampMs: number): boolean {
    if (record.kind === 'session') {
      const { deviceId, sessionId } = record.declaration;
      if (this.get(deviceId, sessionId) !== undefined) {
        throw new TributaryError('CORRUPT_RECORD', `partition "${this.partition}": the record at log offset ${logOffset} declares session "${deviceId}/${sessionId}" a second time`);
      }
      this.sessions.set(sessionKey(deviceId, sessionId), new UploadSession(record.declaration, logOffset, this.createHash, this.limits.chunksPerSourceMax));
      return true;
    }
    const session = this.get(record.deviceId, record.sessionId);
    if (session === undefined) return false;
    if (record.kind === 'chunk') session.applyChunk(record, logOffset, timestampMs);
    else session.applyEnd(record, logOffset);
    return true;
  }
}

function sessionKey(deviceId: string, sessionId: string): string {
  return `${deviceId}\u0000${sessionId}`;
}
