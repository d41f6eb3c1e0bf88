import { mkdir } from 'node:fs/promises';
import { TributaryError } from '../errors/index.js';
import { type CollectorQueueLimits, resolveCollectorQueueLimits } from './collector-queue-limits.js';
import { decodeQueueEntry, encodeQueueEntry, frameByteLength, type QueueEntry } from './queue-entry.js';
import { decodeQueueFrame, isQueueFrameDamage } from './queue-frame.js';
import { acquireQueueLock, type QueueLock } from './queue-lock.js';
import { QueueSegment, syncDirectory } from './queue-segment.js';
import { type ChunkLocation, type QueueState, type SessionState, type SourceState, sourceKey } from './queue-state.js';
import { QueueWriter } from './queue-writer.js';
import { corruptSegment, type QueueRecoverySummary, recoverQueue } from './recover-queue.js';
import { type CollectorSessionDeclaration, type CollectorSourceDeclaration, requireSessionId, sameDeclaration, validateSessionDeclaration } from './collector-session-declaration.js';

/** What declareSession takes; metadata defaults to none and createdAtMs to now. */
export interface CollectorSessionInput {
  readonly sessionId: string;
  readonly sources: readonly CollectorSourceDeclaration[];
  readonly metadata?: Readonly<Record<string, string>>;
  readonly createdAtMs?: number;
}

/** One source's durable state, as the uploader sees it. */
export interface QueuedSource {
  readonly name: string;
  /** Durable bytes: the source's length so far; pending() serves up to here. */
  readonly appendedBytes: number;
  /** Highest offset the cluster acknowledged; bytes below it may be deleted. */
  readonly acknowledgedBytes: number;
  /** Whether finish() made the source final (durably); appendedBytes is then its length. */
  readonly final: boolean;
  /** The source's SHA-256, once final. */
  readonly sha256: Uint8Array | undefined;
}

export interface QueuedSession {
  readonly declaration: CollectorSessionDeclaration;
  readonly sources: readonly QueuedSource[];
}

/** Unacknowledged bytes of one source, for one chunk of an Upload call. */
export interface PendingBytes {
  /** Source offset of bytes[0]. */
  readonly offsetBytes: number;
  readonly bytes: Uint8Array;
  /** True when the bytes end at the end of a final source: the chunk to send with final and sha256. */
  readonly reachesFinal: boolean;
}

/** What finish() fixed: the source's length and SHA-256. */
export interface FinishedSource {
  readonly lengthBytes: number;
  readonly sha256: Uint8Array;
}

/**
 * A fully acknowledged active segment is rolled over (so it can be deleted) only once it is at
 * least this share of segmentBytesMax, so that frequent acknowledgements of a small trickle do not
 * write a checkpoint each.
 */
const rollAcknowledgedSegmentFraction = 8;

/**
 * The collector SDK's disk-backed queue (DESIGN.md §7, docs/INGEST.md "Collector queue"): devices
 * record sessions into it and the uploader drains it to the cluster. Entries go into append-only
 * segment files, each frame checksummed; every promise resolves only once its entry is fsynced
 * (group commit: concurrent calls share a sync). Whole segments are deleted once every byte in
 * them is acknowledged by the cluster or belongs to a dropped session, never before.
 */
export class CollectorQueue {
  private readonly segments = new Map<number, QueueSegment>();
  private readonly writer: QueueWriter;
  private active: QueueSegment;
  /** Entries in the active segment after its checkpoint; a segment with none never rolls. */
  private activeEntries = 0;
  private nextSegmentNumber: number;
  /** The newest segment whose checkpoint is durable: older segments are summarized by it. */
  private durableSegmentNumber = 0;
  private queueBytes = 0;
  private pruning: Promise<void> | undefined;
  private pruneAgain = false;
  private failure: TributaryError | undefined;
  private closed = false;

  private constructor(
    readonly directory: string,
    readonly limits: CollectorQueueLimits,
    private readonly lock: QueueLock,
    private readonly state: QueueState,
    segments: readonly QueueSegment[],
    nextSegmentNumber: number,
    /** What opening found: entries read and any torn tail cut off, for the caller to log. */
    readonly recovery: QueueRecoverySummary,
  ) {
    for (const segment of segments) {
      this.segments.set(segment.segmentNumber, segment);
      this.queueBytes += segment.reservedBytes;
    }
    this.nextSegmentNumber = nextSegmentNumber;
    this.writer = new QueueWriter(directory, limits.flushBytesMax);
    this.active = this.roll();
  }

  /**
   * Opens (creating if needed) the queue in `directory`, taking its lock and recovering whatever a
   * crash left; see `recovery` for what was found.
   */
  static async open(directory: string, limits: Partial<CollectorQueueLimits> = {}): Promise<CollectorQueue> {
    const resolved = resolveCollectorQueueLimits(limits);
    await mkdir(directory, { recursive: true });
    const lock = await acquireQueueLock(directory, process.pid);
    let recovered;
    try {
      recovered = await recoverQueue(directory);
    } catch (error) {
      await lock.release();
      throw error;
    }
    const recovery = { ...recovered.summary, lockTakenOverFromPid: lock.takenOverFromPid };
    const queue = new CollectorQueue(directory, resolved, lock, recovered.state, recovered.segments, recovered.nextSegmentNumber, recovery);
    await queue.writer.idle();
    const failure = queue.writer.failed;
    if (failure !== undefined) {
      await queue.close();
      throw failure;
    }
    return queue;
  }

  /** Declares a session; declaring the same session again is a no-op, differently an error. */
  async declareSession(input: CollectorSessionInput): Promise<void> {
    this.requireUsable();
    const declaration: CollectorSessionDeclaration = {
      sessionId: input.sessionId,
      sources: input.sources.map((source) => ({ ...source })),
      metadata: { ...input.metadata },
      createdAtMs: input.createdAtMs ?? Date.now(),
    };
    validateSessionDeclaration(declaration);
    const existing = this.state.liveSession(declaration.sessionId);
    if (existing !== undefined) {
      if (sameDeclaration(existing.declaration, declaration)) return;
      throw new TributaryError('INVALID_REQUEST', `session "${declaration.sessionId}" is already declared with other sources or metadata`);
    }
    if (this.state.liveSessionCount() >= this.limits.sessionsMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `collector queue "${this.directory}" holds sessionsMax ${this.limits.sessionsMax} sessions; drop finished ones before declaring "${declaration.sessionId}"`);
    }
    await this.writeControl({ kind: 'session', declaration });
  }

  /**
   * Appends `bytes` to a source and resolves with the source offset they start at, once they are
   * durable. Offsets of a source are contiguous from 0. The bytes are copied at once.
   */
  async append(sessionId: string, sourceName: string, bytes: Uint8Array): Promise<number> {
    this.requireUsable();
    const session = this.requireSession(sessionId);
    const source = requireSource(session, sourceName);
    this.requireAppendable(session, source, bytes.length);
    const entry = { kind: 'data', sessionId, source: sourceName, offsetBytes: source.appendedBytes, bytes: bytes.slice() } as const;
    const buffers = encodeQueueEntry(entry);
    const frameBytes = frameByteLength(buffers);
    if (this.queueBytes + frameBytes > this.limits.queueBytesMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `collector queue "${this.directory}" is full: ${this.queueBytes} of queueBytesMax ${this.limits.queueBytesMax} bytes used, and an append of ${bytes.length} bytes needs ${frameBytes}; wait for acknowledgements or drop sessions`);
    }
    const { segment, position } = this.reserve(frameBytes);
    const endBytes = entry.offsetBytes + bytes.length;
    this.state.apply(entry, { segmentNumber: segment.segmentNumber, framePosition: position, frameBytes, offsetBytes: entry.offsetBytes, lengthBytes: bytes.length });
    segment.recordSourceEnd(sourceKey(session.serial, sourceName), endBytes);
    await this.writer.write(segment, position, buffers, frameBytes);
    source.durableBytes = Math.max(source.durableBytes, endBytes);
    return entry.offsetBytes;
  }

  /**
   * Makes a source final and resolves with its length and SHA-256 once that is durable. The queue
   * hashed the bytes as they were appended; a given `sha256` must match (DIGEST_MISMATCH otherwise).
   */
  async finish(sessionId: string, sourceName: string, sha256?: Uint8Array): Promise<FinishedSource> {
    this.requireUsable();
    const session = this.requireSession(sessionId);
    const source = requireSource(session, sourceName);
    const where = `source "${sourceName}" of session "${sessionId}"`;
    const digest = source.finalSha256 ?? (source.digest as NonNullable<SourceState['digest']>).digest();
    if (sha256 !== undefined && !Buffer.from(digest).equals(sha256)) {
      throw new TributaryError('DIGEST_MISMATCH', `${where} has SHA-256 ${hex(digest)} over its ${source.appendedBytes} bytes, not the given ${hex(sha256)}`);
    }
    const declared = source.declaration.declaredLengthBytes;
    if (declared !== undefined && source.appendedBytes !== declared) {
      throw new TributaryError('INVALID_REQUEST', `${where} was declared ${declared} bytes long but has ${source.appendedBytes}; it cannot be final yet`);
    }
    if (source.finalSha256 === undefined) {
      await this.writeControl({ kind: 'final', sessionId, source: sourceName, lengthBytes: source.appendedBytes, sha256: digest });
      source.durableFinal = true;
    }
    return { lengthBytes: source.appendedBytes, sha256: digest };
  }

  /**
   * Records that the cluster committed the source up to `committedOffsetBytes`, durably, and
   * deletes the segments this frees. An offset at or below the current one is ignored (resolves
   * false); one past the source's durable bytes is OFFSET_OUT_OF_RANGE.
   */
  async acknowledge(sessionId: string, sourceName: string, committedOffsetBytes: number): Promise<boolean> {
    this.requireUsable();
    const session = this.requireSession(sessionId);
    const source = requireSource(session, sourceName);
    requireByteCount('committedOffsetBytes', committedOffsetBytes);
    if (committedOffsetBytes > source.durableBytes) {
      throw new TributaryError('OFFSET_OUT_OF_RANGE', `acknowledged offset ${committedOffsetBytes} of source "${sourceName}" of session "${sessionId}" is past its ${source.durableBytes} appended bytes`);
    }
    if (committedOffsetBytes <= source.acknowledgedBytes) return false;
    await this.writeControl({ kind: 'ack', sessionId, source: sourceName, offsetBytes: committedOffsetBytes });
    source.durableAcknowledgedBytes = Math.max(source.durableAcknowledgedBytes, committedOffsetBytes);
    this.afterRelease();
    return true;
  }

  /** Forgets a session (uploaded and complete, or given up): its bytes may be deleted, acknowledged or not. */
  async dropSession(sessionId: string): Promise<void> {
    this.requireUsable();
    const session = this.requireSession(sessionId);
    await this.writeControl({ kind: 'drop', sessionId });
    this.state.forget(session.serial);
    this.afterRelease();
  }

  /**
   * Up to `maxBytes` durable, unacknowledged bytes of a source from `fromOffsetBytes` (or from the
   * acknowledged offset, if that is higher), read back and checked against their frames' CRC.
   */
  async pending(sessionId: string, sourceName: string, fromOffsetBytes: number, maxBytes: number): Promise<PendingBytes> {
    this.requireUsable();
    const source = requireSource(this.requireSession(sessionId), sourceName);
    requireByteCount('fromOffsetBytes', fromOffsetBytes);
    requireByteCount('maxBytes', maxBytes);
    if (fromOffsetBytes > source.durableBytes) {
      throw new TributaryError('OFFSET_OUT_OF_RANGE', `offset ${fromOffsetBytes} of source "${sourceName}" of session "${sessionId}" is past its ${source.durableBytes} appended bytes`);
    }
    const startBytes = Math.max(fromOffsetBytes, source.acknowledgedBytes);
    const endBytes = Math.min(source.durableBytes, startBytes + maxBytes);
    const chunks = overlappingChunks(source.chunks, startBytes, endBytes);
    const segments = chunks.map((chunk) => this.segments.get(chunk.segmentNumber) as QueueSegment);
    for (const segment of segments) segment.retain();
    try {
      const parts = await Promise.all(chunks.map((chunk, index) => readChunk(segments[index] as QueueSegment, chunk, startBytes, endBytes)));
      const bytes = Buffer.concat(parts);
      return { offsetBytes: startBytes, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), reachesFinal: source.durableFinal && endBytes === source.appendedBytes };
    } finally {
      await Promise.all(segments.map((segment) => segment.release()));
    }
  }

  /** Every declared, undropped session with its sources' durable progress. */
  sessions(): QueuedSession[] {
    return this.state.liveSessions().map((session) => ({
      declaration: session.declaration,
      sources: [...session.sources.entries()].map(([name, source]) => ({
        name,
        appendedBytes: source.durableBytes,
        acknowledgedBytes: source.acknowledgedBytes,
        final: source.durableFinal,
        sha256: source.durableFinal ? source.finalSha256 : undefined,
      })),
    }));
  }

  /** Bytes of segment files, written or being written: what counts against queueBytesMax. */
  sizeBytes(): number {
    return this.queueBytes;
  }

  /** Segment files on disk, for tests and status reports. */
  segmentCount(): number {
    return this.segments.size;
  }

  /** Waits for every accepted entry to be written and for deletions to finish, then releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writer.idle();
      await this.pruning;
      // Deletes what the last durable writes released, which no scheduled prune will now do.
      if (this.writer.failed === undefined && this.failure === undefined) await this.prune();
    } finally {
      await Promise.all([...this.segments.values()].map((segment) => segment.close()));
      await this.lock.release();
    }
  }

  private requireUsable(): void {
    if (this.closed) throw new TributaryError('SHUTTING_DOWN', `collector queue "${this.directory}" is closed`);
    const failure = this.failure ?? this.writer.failed;
    if (failure !== undefined) throw failure;
  }

  private requireSession(sessionId: string): SessionState {
    requireSessionId(sessionId);
    const session = this.state.liveSession(sessionId);
    if (session === undefined) throw new TributaryError('SESSION_NOT_FOUND', `session "${sessionId}" is not declared in collector queue "${this.directory}"`);
    return session;
  }

  private requireAppendable(session: SessionState, source: SourceState, lengthBytes: number): void {
    const where = `source "${source.declaration.name}" of session "${session.declaration.sessionId}"`;
    if (source.finalSha256 !== undefined) throw new TributaryError('SESSION_CLOSED', `${where} is final at ${source.appendedBytes} bytes; nothing more can be appended`);
    if (lengthBytes > this.limits.entryBytesMax) {
      throw new TributaryError('INVALID_REQUEST', `an append of ${lengthBytes} bytes to ${where} exceeds entryBytesMax ${this.limits.entryBytesMax}; split it`);
    }
    const declared = source.declaration.declaredLengthBytes;
    if (declared !== undefined && source.appendedBytes + lengthBytes > declared) {
      throw new TributaryError('INVALID_REQUEST', `an append of ${lengthBytes} bytes to ${where} at offset ${source.appendedBytes} goes past its declared length of ${declared} bytes`);
    }
  }

  /** Writes a small entry that is not source data; these never count against queueBytesMax, so an acknowledgement can always free space. */
  private async writeControl(entry: QueueEntry): Promise<void> {
    const buffers = encodeQueueEntry(entry);
    const frameBytes = frameByteLength(buffers);
    const { segment, position } = this.reserve(frameBytes);
    this.state.apply(entry);
    await this.writer.write(segment, position, buffers, frameBytes);
  }

  /** Space for a frame at the end of the active segment, rolling over first if it is full. */
  private reserve(frameBytes: number): { segment: QueueSegment; position: number } {
    if (this.activeEntries > 0 && this.active.reservedBytes + frameBytes > this.limits.segmentBytesMax) this.roll();
    this.activeEntries++;
    this.queueBytes += frameBytes;
    return { segment: this.active, position: this.active.reserve(frameBytes) };
  }

  /**
   * Starts a new segment whose first frame is a checkpoint of everything accepted so far, so that
   * older segments can be deleted without losing declarations, progress or digests.
   */
  private roll(): QueueSegment {
    const segment = QueueSegment.planned(this.directory, this.nextSegmentNumber++);
    this.segments.set(segment.segmentNumber, segment);
    this.active = segment;
    this.activeEntries = 0;
    const buffers = encodeQueueEntry({ kind: 'checkpoint', checkpoint: this.state.checkpoint() });
    const frameBytes = frameByteLength(buffers);
    this.queueBytes += frameBytes;
    this.writer.write(segment, segment.reserve(frameBytes), buffers, frameBytes).then(
      () => {
        this.durableSegmentNumber = Math.max(this.durableSegmentNumber, segment.segmentNumber);
        this.schedulePrune();
      },
      // The writer is fail-stop: it rejects every later call with this error, which surfaces there.
      () => undefined,
    );
    return segment;
  }

  /** After an acknowledgement or a drop: roll a fully released active segment, delete what is free. */
  private afterRelease(): void {
    if (this.closed) return;
    const large = this.active.reservedBytes * rollAcknowledgedSegmentFraction >= this.limits.segmentBytesMax;
    if (this.activeEntries > 0 && large && this.isReleased(this.active)) this.roll();
    this.schedulePrune();
  }

  /** Whether every data byte in the segment is durably acknowledged or durably dropped. */
  private isReleased(segment: QueueSegment): boolean {
    for (const [key, endBytes] of segment.sourceEnds) {
      const [serial, name] = splitSourceKey(key);
      const source = this.state.sessions.get(serial)?.sources.get(name);
      if (source !== undefined && source.durableAcknowledgedBytes < endBytes) return false;
    }
    return true;
  }

  private schedulePrune(): void {
    if (this.closed) return;
    if (this.pruning !== undefined) {
      this.pruneAgain = true;
      return;
    }
    this.pruning = this.prune()
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        this.failure = new TributaryError('NOT_AVAILABLE', `collector queue "${this.directory}" failed to delete a segment (${message}); reopen it`, { retriable: false, cause: error });
      })
      .finally(() => {
        this.pruning = undefined;
      });
  }

  /** Deletes every segment older than the newest durable checkpoint whose bytes are all released. */
  private async prune(): Promise<void> {
    do {
      this.pruneAgain = false;
      const doomed = [...this.segments.values()].filter((segment) => segment.segmentNumber < this.durableSegmentNumber && this.isReleased(segment));
      for (const segment of doomed) {
        this.segments.delete(segment.segmentNumber);
        this.queueBytes -= segment.reservedBytes;
        await segment.remove();
      }
      if (doomed.length > 0) await syncDirectory(this.directory);
    } while (this.pruneAgain && !this.closed);
  }
}

function requireSource(session: SessionState, name: string): SourceState {
  const source = session.sources.get(name);
  if (source === undefined) {
    const names = [...session.sources.keys()].join(', ');
    throw new TributaryError('INVALID_REQUEST', `session "${session.declaration.sessionId}" has no source "${name}"; its sources are ${names}`);
  }
  return source;
}

function requireByteCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TributaryError('INVALID_REQUEST', `${name} must be a non-negative integer, got ${value}`);
}

function splitSourceKey(key: string): [number, string] {
  const slash = key.indexOf('/');
  return [Number(key.slice(0, slash)), key.slice(slash + 1)];
}

/** The chunks holding any of bytes [start, end), by binary search for the first. */
function overlappingChunks(chunks: readonly ChunkLocation[], startBytes: number, endBytes: number): ChunkLocation[] {
  let low = 0;
  let high = chunks.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const chunk = chunks[middle] as ChunkLocation;
    if (chunk.offsetBytes + chunk.lengthBytes <= startBytes) low = middle + 1;
    else high = middle;
  }
  const result: ChunkLocation[] = [];
  for (let index = low; index < chunks.length && (chunks[index] as ChunkLocation).offsetBytes < endBytes; index++) result.push(chunks[index] as ChunkLocation);
  return result;
}

/** Reads a chunk's whole frame, checks its CRC and offset, and returns its part of [start, end). */
async function readChunk(segment: QueueSegment, chunk: ChunkLocation, startBytes: number, endBytes: number): Promise<Uint8Array> {
  const frameBytes = await segment.read(chunk.framePosition, chunk.frameBytes);
  const frame = decodeQueueFrame(frameBytes, 0);
  if (isQueueFrameDamage(frame)) throw corruptSegment(segment.path, chunk.framePosition, frame.reason);
  const entry = decodeQueueEntry(frame.kindCode, frame.body);
  if (entry.kind !== 'data' || entry.offsetBytes !== chunk.offsetBytes || entry.bytes.length !== chunk.lengthBytes) {
    throw corruptSegment(segment.path, chunk.framePosition, `expected data at offset ${chunk.offsetBytes}, found another entry`);
  }
  const from = Math.max(startBytes, chunk.offsetBytes) - chunk.offsetBytes;
  const to = Math.min(endBytes, chunk.offsetBytes + chunk.lengthBytes) - chunk.offsetBytes;
  return entry.bytes.subarray(from, to);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
