import type { CheckpointSession, QueueCheckpoint, QueueEntry } from './queue-entry.js';
import type { CollectorSessionDeclaration, CollectorSourceDeclaration } from './collector-session-declaration.js';
import { Sha256State } from './sha256-state.js';

/** Names a source of one session incarnation, for per-segment bookkeeping. */
export function sourceKey(serial: number, source: string): string {
  return `${serial}/${source}`;
}

/** Where one data entry's bytes lie: a frame of a segment, holding source bytes [offset, offset + length). */
export interface ChunkLocation {
  readonly segmentNumber: number;
  readonly framePosition: number;
  readonly frameBytes: number;
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

/**
 * One source's progress. Each counter exists twice: as accepted (every entry handed to the writer,
 * which is what the next call is checked against and what a checkpoint records, since the log
 * holds those entries in that order) and as durable (fsynced), which is all readers may see.
 */
export interface SourceState {
  readonly declaration: CollectorSourceDeclaration;
  appendedBytes: number;
  acknowledgedBytes: number;
  finalSha256: Uint8Array | undefined;
  /** Over bytes [0, appendedBytes); dropped once the source is final. */
  digest: Sha256State | undefined;
  durableBytes: number;
  durableAcknowledgedBytes: number;
  durableFinal: boolean;
  /** Unacknowledged chunks in offset order, covering [acknowledgedBytes, appendedBytes). */
  chunks: ChunkLocation[];
}

export interface SessionState {
  readonly serial: number;
  readonly declaration: CollectorSessionDeclaration;
  readonly sources: Map<string, SourceState>;
  /** A drop was accepted; the session stays (its segments kept) until the drop is durable. */
  dropped: boolean;
}

/**
 * The queue's sessions as its entries describe them. `apply` is the only way state changes, both
 * for live calls (after the queue validated them) and when replaying segments on open; an entry
 * that contradicts the state throws an Error saying why, which replay reports as corruption.
 */
export class QueueState {
  /** Every session whose drop is not durable yet, by serial. */
  readonly sessions = new Map<number, SessionState>();
  /** Serials of the sessions not dropped, by session id. */
  private readonly live = new Map<string, number>();
  private nextSerial = 1;
  /**
   * Recovery turns hashing off for every segment but the newest: the next segment's checkpoint
   * replaces each digest anyway, so hashing older data again would only cost time (a JS SHA-256
   * runs at about 100 MiB/s). Without hashing, a final entry's digest is taken as written.
   */
  hashing = true;

  liveSession(sessionId: string): SessionState | undefined {
    const serial = this.live.get(sessionId);
    return serial === undefined ? undefined : this.sessions.get(serial);
  }

  liveSessionCount(): number {
    return this.live.size;
  }

  liveSessions(): SessionState[] {
    return [...this.live.values()].map((serial) => this.sessions.get(serial) as SessionState);
  }

  /** Applies an accepted entry; a data entry's location is where its frame goes or was found. */
  apply(entry: QueueEntry, location?: ChunkLocation): void {
    switch (entry.kind) {
      case 'checkpoint':
        return this.restore(entry.checkpoint);
      case 'session':
        return this.declare(entry.declaration);
      case 'data':
        return this.append(this.source(entry.sessionId, entry.source), entry.offsetBytes, entry.bytes, location);
      case 'final':
        return this.finish(this.source(entry.sessionId, entry.source), entry.lengthBytes, entry.sha256);
      case 'ack':
        return this.acknowledge(this.source(entry.sessionId, entry.source), entry.offsetBytes);
      case 'drop':
        return this.drop(entry.sessionId);
    }
  }

  /** Recovery: everything replayed was read back from disk, so it is durable. */
  markAllDurable(): void {
    for (const session of this.sessions.values()) {
      for (const source of session.sources.values()) {
        source.durableBytes = source.appendedBytes;
        source.durableAcknowledgedBytes = source.acknowledgedBytes;
        source.durableFinal = source.finalSha256 !== undefined;
      }
      if (session.dropped) this.forget(session.serial);
    }
  }

  /** The drop of this session is durable: its chunks go, and its segments may be deleted. */
  forget(serial: number): void {
    const session = this.sessions.get(serial);
    if (session?.dropped === true) this.sessions.delete(serial);
  }

  /** Why the chunks of some source do not cover its unacknowledged bytes exactly, if they do not. */
  findChunkGap(): string | undefined {
    for (const session of this.liveSessions()) {
      for (const [name, source] of session.sources) {
        let expected = source.acknowledgedBytes;
        for (const chunk of source.chunks) {
          if (chunk.offsetBytes > expected) break;
          expected = Math.max(expected, chunk.offsetBytes + chunk.lengthBytes);
        }
        if (expected < source.appendedBytes) {
          return `source "${name}" of session "${session.declaration.sessionId}" has ${source.appendedBytes} bytes appended and ${source.acknowledgedBytes} acknowledged, but the segments hold none of bytes ${expected} onwards (a segment file is missing)`;
        }
      }
    }
    return undefined;
  }

  /** Everything accepted so far, for the first frame of a new segment. */
  checkpoint(): QueueCheckpoint {
    const sessions = this.liveSessions().map(
      (session): CheckpointSession => ({
        serial: session.serial,
        declaration: session.declaration,
        sources: [...session.sources.entries()].map(([name, source]) => ({
          name,
          appendedBytes: source.appendedBytes,
          acknowledgedBytes: source.acknowledgedBytes,
          finalSha256: source.finalSha256,
          digest: source.digest?.snapshot(),
        })),
      }),
    );
    return { nextSerial: this.nextSerial, sessions };
  }

  private source(sessionId: string, name: string): SourceState {
    const session = this.liveSession(sessionId);
    if (session === undefined) throw new Error(`session "${sessionId}" is not declared`);
    const source = session.sources.get(name);
    if (source === undefined) throw new Error(`session "${sessionId}" has no source "${name}"`);
    return source;
  }

  private declare(declaration: CollectorSessionDeclaration): void {
    if (this.live.has(declaration.sessionId)) throw new Error(`session "${declaration.sessionId}" is declared twice`);
    const serial = this.nextSerial++;
    const sources = new Map(declaration.sources.map((spec) => [spec.name, newSource(spec)]));
    this.sessions.set(serial, { serial, declaration, sources, dropped: false });
    this.live.set(declaration.sessionId, serial);
  }

  private append(source: SourceState, offsetBytes: number, bytes: Uint8Array, location: ChunkLocation | undefined): void {
    if (source.finalSha256 !== undefined) throw new Error(`source "${source.declaration.name}" is final; data at offset ${offsetBytes} follows it`);
    if (offsetBytes !== source.appendedBytes) throw new Error(`data at offset ${offsetBytes} of source "${source.declaration.name}" does not follow its ${source.appendedBytes} appended bytes`);
    if (this.hashing) source.digest?.update(bytes);
    source.appendedBytes += bytes.length;
    if (location !== undefined && bytes.length > 0) source.chunks.push(location);
  }

  private finish(source: SourceState, lengthBytes: number, sha256: Uint8Array): void {
    const name = source.declaration.name;
    if (lengthBytes !== source.appendedBytes) throw new Error(`source "${name}" is final at ${lengthBytes} bytes but ${source.appendedBytes} were appended`);
    const digest = this.hashing ? source.digest?.digest() : sha256;
    if (digest === undefined || !Buffer.from(digest).equals(sha256)) throw new Error(`source "${name}" final SHA-256 does not match its bytes`);
    source.finalSha256 = sha256;
    source.digest = undefined;
  }

  private acknowledge(source: SourceState, offsetBytes: number): void {
    if (offsetBytes > source.appendedBytes) throw new Error(`acknowledgement of ${offsetBytes} bytes of source "${source.declaration.name}" is past its ${source.appendedBytes} appended bytes`);
    source.acknowledgedBytes = Math.max(source.acknowledgedBytes, offsetBytes);
    pruneChunks(source);
  }

  private drop(sessionId: string): void {
    const session = this.liveSession(sessionId);
    if (session === undefined) throw new Error(`session "${sessionId}" is dropped but not declared`);
    session.dropped = true;
    this.live.delete(sessionId);
  }

  /**
   * A checkpoint summarizes every entry before it, including those of segments since deleted, so it
   * replaces the state. Only the chunk locations of older surviving segments are carried over, for
   * the sessions it still holds (same serial: same incarnation).
   */
  private restore(checkpoint: QueueCheckpoint): void {
    const previous = new Map(this.sessions);
    this.sessions.clear();
    this.live.clear();
    this.nextSerial = checkpoint.nextSerial;
    for (const saved of checkpoint.sessions) {
      const sources = new Map<string, SourceState>();
      for (const spec of saved.declaration.sources) {
        const savedSource = saved.sources.find((candidate) => candidate.name === spec.name);
        if (savedSource === undefined) throw new Error(`the checkpoint has no progress for source "${spec.name}" of session "${saved.declaration.sessionId}"`);
        const source = newSource(spec);
        source.appendedBytes = source.durableBytes = savedSource.appendedBytes;
        source.acknowledgedBytes = source.durableAcknowledgedBytes = savedSource.acknowledgedBytes;
        source.finalSha256 = savedSource.finalSha256;
        source.durableFinal = savedSource.finalSha256 !== undefined;
        source.digest = savedSource.digest === undefined ? undefined : new Sha256State(savedSource.digest);
        source.chunks = previous.get(saved.serial)?.sources.get(spec.name)?.chunks ?? [];
        pruneChunks(source);
        sources.set(spec.name, source);
      }
      this.sessions.set(saved.serial, { serial: saved.serial, declaration: saved.declaration, sources, dropped: false });
      this.live.set(saved.declaration.sessionId, saved.serial);
    }
  }
}

function newSource(declaration: CollectorSourceDeclaration): SourceState {
  return {
    declaration,
    appendedBytes: 0,
    acknowledgedBytes: 0,
    finalSha256: undefined,
    digest: new Sha256State(),
    durableBytes: 0,
    durableAcknowledgedBytes: 0,
    durableFinal: false,
    chunks: [],
  };
}

/** Drops the chunk locations wholly below the acknowledged offset. */
function pruneChunks(source: SourceState): void {
  let covered = 0;
  while (covered < source.chunks.length) {
    const chunk = source.chunks[covered] as ChunkLocation;
    if (chunk.offsetBytes + chunk.lengthBytes > source.acknowledgedBytes) break;
    covered++;
  }
  if (covered > 0) source.chunks.splice(0, covered);
}
