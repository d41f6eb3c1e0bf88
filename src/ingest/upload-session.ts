import { TributaryError } from '../errors/index.js';
import type { ChunkRecord, EndRecord } from './ingest-record.js';
import type { HashFactory, SessionDeclaration, SessionEnd, SessionState, SourceProgress, SourceSpec } from './ingest-types.js';
import { sessionDigestHex } from './session-digest.js';
import { UploadSource } from './upload-source.js';

/** A session's end record and where it is in the log. */
interface StoredEnd {
  readonly end: SessionEnd;
  readonly logOffset: number;
}

/**
 * One upload session on its partition's leader: the declaration, a source per declared name and,
 * once one is stored, the record that ended it. Its state is a function of the stored records and
 * the high watermark (what is committed), so it needs no state of its own that a rebuild could
 * miss. Pure, like UploadSource.
 */
export class UploadSession {
  readonly where: string;
  private readonly sources = new Map<string, UploadSource>();
  private stored: StoredEnd | undefined;
  private lastActivity: number;
  /** When each source last had a chunk stored (the record's time). */
  private readonly lastChunkAt = new Map<string, number>();

  constructor(
    readonly declaration: SessionDeclaration,
    /** Log offset of the session record: the session exists for readers once it is committed. */
    readonly declarationLogOffset: number,
    createHash: HashFactory,
    chunksPerSourceMax: number,
  ) {
    this.where = `session "${declaration.deviceId}/${declaration.sessionId}"`;
    for (const spec of declaration.sources) this.sources.set(spec.name, new UploadSource(spec, `${this.where} source "${spec.name}"`, createHash, chunksPerSourceMax));
    this.lastActivity = declaration.createdAtMs;
  }

  /** When a record of this session was last stored (idle expiry counts from here). */
  get lastActivityMs(): number {
    return this.lastActivity;
  }

  /** The end record, once stored (committed or not): the session takes no more chunks from then on. */
  get end(): SessionEnd | undefined {
    return this.stored?.end;
  }

  get endLogOffset(): number | undefined {
    return this.stored?.logOffset;
  }

  /** The source named `name`; INVALID_REQUEST naming the declared sources otherwise. */
  source(name: string): UploadSource {
    const source = this.sources.get(name);
    if (source === undefined) throw new TributaryError('INVALID_REQUEST', `${this.where} has no source "${name}"; its sources are ${[...this.sources.keys()].map((known) => `"${known}"`).join(', ')}`);
    return source;
  }

  /** When `source` last had a chunk stored; 0 before its first. */
  lastChunkAtMs(source: string): number {
    return this.lastChunkAt.get(source) ?? 0;
  }

  allSources(): UploadSource[] {
    return [...this.sources.values()];
  }

  /**
   * Why the session takes no chunks now (SESSION_CLOSED), or undefined when it does. A complete
   * (or completing) session still answers chunks: every source is final, so a repeat of its bytes
   * is acknowledged (a collector that crashed before its last answer resends them) and anything
   * else is refused by the source as immutable.
   */
  refusal(nowMs: number): TributaryError | undefined {
    const ended = this.stored?.end.state;
    if (ended === 'complete' || (ended === undefined && this.allFinalAppended())) return undefined;
    if (ended !== undefined) return new TributaryError('SESSION_CLOSED', `${this.where} is ${ended} and accepts no more chunks`);
    if (nowMs >= this.declaration.expiresAtMs) return new TributaryError('SESSION_CLOSED', `${this.where} expired at ${new Date(this.declaration.expiresAtMs).toISOString()} and accepts no more chunks`);
    if (nowMs >= this.lastActivity + this.declaration.idleTimeoutMs) {
      return new TributaryError('SESSION_CLOSED', `${this.where} expired: nothing was stored for ${this.declaration.idleTimeoutMs} ms (its idle timeout)`);
    }
    return undefined;
  }

  /** The state readers see: committed records only. */
  state(highWatermark: number): SessionState {
    if (this.stored !== undefined && this.stored.logOffset < highWatermark) return this.stored.end.state;
    const sources = this.allSources();
    if (sources.every((source) => source.finalCommitted(highWatermark))) return 'committing';
    return sources.some((source) => source.committedChunks(highWatermark) > 0) ? 'receiving' : 'open';
  }

  /** Whether every source's final chunk is stored: the session can complete once they commit. */
  allFinalAppended(): boolean {
    return this.allSources().every((source) => source.finalAppended);
  }

  /** The session digest, once every source is final. */
  digestHex(createHash: HashFactory): string {
    if (!this.allFinalAppended()) throw new Error(`${this.where}: the session digest needs every source final`);
    return sessionDigestHex(this.allSources().map((source) => ({ name: source.spec.name, lengthBytes: source.appendedBytes, sha256Hex: source.sha256Hex })), createHash);
  }

  progress(highWatermark: number): SourceProgress[] {
    return this.allSources().map((source) => ({ source: source.spec.name, committedBytes: source.committedBytes(highWatermark), final: source.finalCommitted(highWatermark) }));
  }

  committedBytes(highWatermark: number): number {
    return this.allSources().reduce((total, source) => total + source.committedBytes(highWatermark), 0);
  }

  applyChunk(record: ChunkRecord, logOffset: number, timestampMs: number): void {
    if (this.stored !== undefined) throw corrupt(this.where, logOffset, `a chunk follows the session's end record at log offset ${this.stored.logOffset}`);
    const source = this.sources.get(record.source);
    if (source === undefined) throw corrupt(this.where, logOffset, `its chunk names source "${record.source}", which the session does not declare`);
    source.apply(record, logOffset);
    this.lastActivity = Math.max(this.lastActivity, timestampMs);
    this.lastChunkAt.set(record.source, timestampMs);
  }

  applyEnd(record: EndRecord, logOffset: number): void {
    if (this.stored !== undefined) throw corrupt(this.where, logOffset, `a second end record follows the one at log offset ${this.stored.logOffset}`);
    this.stored = { end: record.end, logOffset };
  }
}

/** Whether a repeated CreateSession declares the same sources (then it answers the existing session). */
export function sameSources(left: readonly SourceSpec[], right: readonly SourceSpec[]): boolean {
  return left.length === right.length && left.every((spec, index) => canonicalSpec(spec) === canonicalSpec(right[index] as SourceSpec));
}

function canonicalSpec(spec: SourceSpec): string {
  const { name, contentType, payloadKind, declaredLengthBytes, sensor } = spec;
  return JSON.stringify([name, contentType, payloadKind, declaredLengthBytes ?? null, sensor === undefined ? null : [sensor.kind, sensor.channelCount, sensor.units, sensor.channelNames, sensor.nominalRateHz]]);
}

function corrupt(where: string, logOffset: number, what: string): TributaryError {
  return new TributaryError('CORRUPT_RECORD', `${where}: the ingest record at log offset ${logOffset} does not fit: ${what}`);
}
