import assert from 'node:assert/strict';
import type { SnapshotMetadata } from '../raft/raft-types.js';
import { checksumValue } from './checksummed-value.js';
import { crc32c } from './crc32c.js';
import type { KeyValueOperation } from './key-value-store.js';
import { packValue } from './packed-value.js';
import { SerialQueue } from './serial-queue.js';
import type { SnapshotSink, StoredSnapshotMetadata } from './snapshot-store.js';
import { snapshotChunkKey, snapshotMetadataKey, snapshotPendingKey } from './storage-keys.js';
import type { StorageWriter } from './storage-writer.js';

/** What the metadata key holds: the listed metadata plus how many chunks to expect. */
export interface SnapshotRecord extends StoredSnapshotMetadata {
  readonly chunkCount: number;
}

/** A stored chunk's payload starts with its number, so a missing chunk is caught where it is missing. */
export const chunkNumberBytes = 4;

/**
 * Writes a snapshot's data as fixed-size stored chunks while a `06 <index>` marker says it is
 * unfinished; commit writes the metadata and removes the marker in one atomic write, so a crash
 * at any point leaves either a listed, complete snapshot or chunks the next open deletes.
 */
export class KeyValueSnapshotSink implements SnapshotSink {
  private readonly queue = new SerialQueue();
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private chunkCount = 0;
  private sizeBytes = 0;
  private checksum = 0;
  private ended = false;

  constructor(
    private readonly writer: StorageWriter,
    private readonly metadata: SnapshotMetadata,
    private readonly chunkBytes: number,
    /** Called once the sink is committed or aborted, so the store can accept this index again. */
    private readonly onEnd: () => void,
  ) {
    assert.ok(Number.isSafeInteger(chunkBytes) && chunkBytes > 0, `chunkBytes must be a positive integer, got ${chunkBytes}`);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.assertOpen('write to');
    return this.queue.run(async () => {
      // A copy: the caller may reuse its buffer once this resolves, before the bytes are stored.
      this.buffered.push(chunk.slice());
      this.bufferedBytes += chunk.byteLength;
      while (this.bufferedBytes >= this.chunkBytes) await this.storeChunk(this.chunkBytes);
    });
  }

  async commit(): Promise<StoredSnapshotMetadata> {
    this.assertOpen('commit');
    this.ended = true;
    return this.queue.run(async () => {
      if (this.bufferedBytes > 0) await this.storeChunk(this.bufferedBytes);
      const { index, term, membership } = this.metadata;
      const stored: StoredSnapshotMetadata = { index, term, membership, sizeBytes: this.sizeBytes, crc32c: this.checksum };
      const record: SnapshotRecord = { ...stored, chunkCount: this.chunkCount };
      await this.writer.write([
        { type: 'put', key: snapshotMetadataKey(index), value: packValue(record) },
        { type: 'del', key: snapshotPendingKey(index) },
      ]);
      this.onEnd();
      return stored;
    });
  }

  async abort(): Promise<void> {
    this.assertOpen('abort');
    this.ended = true;
    return this.queue.run(async () => {
      const operations: KeyValueOperation[] = [{ type: 'del', key: snapshotPendingKey(this.metadata.index) }];
      for (let chunkNumber = 0; chunkNumber < this.chunkCount; chunkNumber++) {
        operations.push({ type: 'del', key: snapshotChunkKey(this.metadata.index, chunkNumber) });
      }
      await this.writer.write(operations);
      this.onEnd();
    });
  }

  /** Stores the first `bytes` buffered bytes as the next chunk. */
  private async storeChunk(bytes: number): Promise<void> {
    const joined = concat(this.buffered, this.bufferedBytes);
    const data = joined.subarray(0, bytes);
    const payload = new Uint8Array(chunkNumberBytes + bytes);
    new DataView(payload.buffer).setUint32(0, this.chunkCount);
    payload.set(data, chunkNumberBytes);
    await this.writer.write([{ type: 'put', key: snapshotChunkKey(this.metadata.index, this.chunkCount), value: checksumValue(payload) }]);
    this.checksum = crc32c(data, this.checksum);
    this.sizeBytes += bytes;
    this.chunkCount += 1;
    this.buffered = joined.byteLength > bytes ? [joined.subarray(bytes)] : [];
    this.bufferedBytes = joined.byteLength - bytes;
  }

  private assertOpen(action: string): void {
    assert.ok(!this.ended, `cannot ${action} the snapshot at index ${this.metadata.index}: it is already committed or aborted`);
  }
}

function concat(parts: readonly Uint8Array[], totalBytes: number): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const bytes = new Uint8Array(totalBytes);
  let position = 0;
  for (const part of parts) {
    bytes.set(part, position);
    position += part.byteLength;
  }
  return bytes;
}
