import { TributaryError } from '../errors/index.js';
import type { ChunkRecord } from './ingest-record.js';
import { hexOf } from './session-digest.js';
import type { HashFactory, IncrementalHash, SourceSpec } from './ingest-types.js';

/** One stored chunk of a source: its bytes in the source, and the log offset of its record. */
export interface ChunkEntry {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  readonly logOffset: number;
}

/** A chunk as a device sent it, its CRC already checked. */
export interface IncomingChunk {
  readonly offsetBytes: number;
  readonly payload: Uint8Array;
  readonly final: boolean;
  /** The source's SHA-256, lowercase hex, on a final chunk; '' otherwise. */
  readonly sha256Hex: string;
  /**
   * The chunk's bytes below this source offset were compared equal to the stored ones (the host
   * did a `compare` decision's read); the offset itself or less means none were.
   */
  readonly verifiedToBytes: number;
}

/** What to do with an incoming chunk. */
export type ChunkDecision =
  /** Store these bytes (the part of the chunk past what the source holds) as one chunk record. */
  | { readonly kind: 'append'; readonly offsetBytes: number; readonly payload: Uint8Array; readonly final: boolean; readonly sha256Hex: string }
  /** Everything in the chunk is stored already; it is committed once the high watermark passes `waitLogOffset`. */
  | { readonly kind: 'duplicate'; readonly waitLogOffset: number }
  /** The chunk overlaps stored bytes: read `chunks`, compare `fromBytes`..`toBytes` with the chunk, decide again. */
  | { readonly kind: 'compare'; readonly fromBytes: number; readonly toBytes: number; readonly chunks: readonly ChunkEntry[] }
  /** Refused; `failsSession` when the session cannot complete any more (a digest mismatch). */
  | { readonly kind: 'reject'; readonly error: TributaryError; readonly failsSession: boolean };

/**
 * One source of an upload session on its partition's leader: the chunks stored for it in log
 * order (contiguous in the source, each starting where the previous ended), a running SHA-256 of
 * those bytes, and whether its final chunk is stored. Pure: the host reads and appends. State
 * changes only through `apply`, for chunks the live path appends and chunks a rebuild reads back
 * alike, so a new leader that replays the log has exactly the state the old one had.
 */
export class UploadSource {
  private readonly chunks: ChunkEntry[] = [];
  private readonly hash: IncrementalHash;
  private appended = 0;
  private finalLogOffset: number | undefined;
  private finalSha256Hex = '';

  constructor(
    readonly spec: SourceSpec,
    private readonly where: string,
    createHash: HashFactory,
    private readonly chunksMax: number,
  ) {
    this.hash = createHash();
  }

  /** Bytes stored in the log, committed or not. */
  get appendedBytes(): number {
    return this.appended;
  }

  get finalAppended(): boolean {
    return this.finalLogOffset !== undefined;
  }

  /** The verified SHA-256 of a source whose final chunk is stored; '' before. */
  get sha256Hex(): string {
    return this.finalSha256Hex;
  }

  /** Decides what an incoming chunk means against the bytes this source holds. */
  decide(chunk: IncomingChunk): ChunkDecision {
    const endBytes = chunk.offsetBytes + chunk.payload.byteLength;
    const declared = this.spec.declaredLengthBytes;
    if (chunk.payload.byteLength === 0 && !chunk.final) return reject('INVALID_REQUEST', `${this.where}: only a final chunk may be empty (chunk at byte ${chunk.offsetBytes})`);
    if (chunk.offsetBytes > this.appended) {
      return reject('OFFSET_MISMATCH', `${this.where}: a chunk at byte ${chunk.offsetBytes} would leave a gap; the source continues at byte ${this.appended}`);
    }
    if (declared !== undefined && endBytes > declared) {
      return reject('INVALID_REQUEST', `${this.where}: a chunk ending at byte ${endBytes} passes the source's declared length of ${declared} bytes`);
    }
    const overlapEndBytes = Math.min(endBytes, this.appended);
    const verifiedToBytes = Math.max(chunk.offsetBytes, chunk.verifiedToBytes);
    if (verifiedToBytes < overlapEndBytes) {
      return { kind: 'compare', fromBytes: verifiedToBytes, toBytes: overlapEndBytes, chunks: this.covering(verifiedToBytes, overlapEndBytes) };
    }
    const tail = chunk.payload.subarray(Math.max(0, this.appended - chunk.offsetBytes));
    if (tail.byteLength === 0 && !chunk.final) return { kind: 'duplicate', waitLogOffset: this.logOffsetHolding(endBytes) };
    if (this.finalLogOffset !== undefined) return this.afterFinal(chunk, endBytes, tail);
    if (chunk.final) return this.closing(chunk, endBytes, tail);
    if (this.chunks.length >= this.chunksMax) return reject('RESOURCE_EXHAUSTED', `${this.where} already has ${this.chunks.length} chunks, the most a source may have; send larger chunks`);
    return { kind: 'append', offsetBytes: this.appended, payload: tail, final: false, sha256Hex: '' };
  }

  /** Records a chunk stored at `logOffset`: the live path right after appending it, a rebuild as it reads it. */
  apply(record: ChunkRecord, logOffset: number): void {
    if (record.offsetBytes !== this.appended) throw corrupt(this.where, logOffset, `its chunk starts at byte ${record.offsetBytes}, but the source holds ${this.appended} bytes`);
    if (this.finalLogOffset !== undefined) throw corrupt(this.where, logOffset, `its chunk follows the source's final chunk at log offset ${this.finalLogOffset}`);
    this.hash.update(record.payload);
    if (record.final) {
      const digestHex = hexOf(this.hash.copy().digest());
      if (digestHex !== record.sha256Hex) throw corrupt(this.where, logOffset, `the final chunk's SHA-256 ${record.sha256Hex} is not that of the stored bytes, ${digestHex}`);
      this.finalLogOffset = logOffset;
      this.finalSha256Hex = digestHex;
    }
    this.chunks.push({ offsetBytes: record.offsetBytes, lengthBytes: record.payload.byteLength, logOffset });
    this.appended += record.payload.byteLength;
  }

  /** Length of the committed prefix: the chunks whose records are below the high watermark. */
  committedBytes(highWatermark: number): number {
    const last = this.lastCommitted(highWatermark);
    return last === undefined ? 0 : last.offsetBytes + last.lengthBytes;
  }

  committedChunks(highWatermark: number): number {
    return this.committedCount(highWatermark);
  }

  finalCommitted(highWatermark: number): boolean {
    return this.finalLogOffset !== undefined && this.finalLogOffset < highWatermark;
  }

  /** The stored chunks overlapping source bytes `fromBytes`..`toBytes` (exclusive), in order. */
  covering(fromBytes: number, toBytes: number): ChunkEntry[] {
    const covered: ChunkEntry[] = [];
    for (let index = this.firstEndingAfter(fromBytes); index < this.chunks.length; index += 1) {
      const entry = this.chunks[index] as ChunkEntry;
      if (entry.offsetBytes >= toBytes) break;
      covered.push(entry);
    }
    return covered;
  }

  private afterFinal(chunk: IncomingChunk, endBytes: number, tail: Uint8Array): ChunkDecision {
    const repeatsFinal = tail.byteLength === 0 && endBytes === this.appended && chunk.sha256Hex === this.finalSha256Hex;
    if (repeatsFinal) return { kind: 'duplicate', waitLogOffset: this.finalLogOffset as number };
    return reject('INVALID_REQUEST', `${this.where} is final at ${this.appended} bytes and immutable; a chunk ending at byte ${endBytes}${chunk.final ? ' with a different SHA-256' : ''} cannot change it`);
  }

  private closing(chunk: IncomingChunk, endBytes: number, tail: Uint8Array): ChunkDecision {
    const declared = this.spec.declaredLengthBytes;
    if (endBytes < this.appended) return reject('INVALID_REQUEST', `${this.where}: a final chunk ending at byte ${endBytes} would cut the ${this.appended} bytes already stored`);
    if (declared !== undefined && endBytes !== declared) return reject('INVALID_REQUEST', `${this.where}: the final chunk ends at byte ${endBytes}, not at the source's declared length of ${declared} bytes`);
    const hash = this.hash.copy();
    hash.update(tail);
    const digestHex = hexOf(hash.digest());
    if (digestHex !== chunk.sha256Hex) {
      return { kind: 'reject', error: new TributaryError('DIGEST_MISMATCH', `${this.where}: the device's SHA-256 ${chunk.sha256Hex} is not that of the source's ${endBytes} bytes, ${digestHex}; the session has failed`), failsSession: true };
    }
    return { kind: 'append', offsetBytes: this.appended, payload: tail, final: true, sha256Hex: digestHex };
  }

  /** Log offset of the chunk holding the byte before `endBytes` (the chunk that must commit). */
  private logOffsetHolding(endBytes: number): number {
    const entry = this.chunks[this.firstEndingAfter(endBytes - 1)];
    if (entry === undefined) throw new Error(`${this.where}: no stored chunk holds byte ${endBytes - 1}`);
    return entry.logOffset;
  }

  /** Index of the first chunk that ends after source byte `byte` (binary search; chunks are in source order). */
  private firstEndingAfter(byte: number): number {
    let low = 0;
    let high = this.chunks.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const entry = this.chunks[middle] as ChunkEntry;
      if (entry.offsetBytes + entry.lengthBytes > byte) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  private lastCommitted(highWatermark: number): ChunkEntry | undefined {
    const count = this.committedCount(highWatermark);
    return count === 0 ? undefined : this.chunks[count - 1];
  }

  /** How many chunks have records below `highWatermark` (their log offsets increase). */
  private committedCount(highWatermark: number): number {
    let low = 0;
    let high = this.chunks.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.chunks[middle] as ChunkEntry).logOffset < highWatermark) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

function reject(code: 'OFFSET_MISMATCH' | 'INVALID_REQUEST' | 'RESOURCE_EXHAUSTED', message: string): ChunkDecision {
  return { kind: 'reject', error: new TributaryError(code, message), failsSession: false };
}

function corrupt(where: string, logOffset: number, what: string): TributaryError {
  return new TributaryError('CORRUPT_RECORD', `${where}: the ingest record at log offset ${logOffset} does not continue the source: ${what}`);
}
