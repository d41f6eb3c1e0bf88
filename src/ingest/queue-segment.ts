import { type FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const fileNamePattern = /^segment-(\d{20})\.log$/;

/** `segment-00000000000000000042.log`: zero-padded, so names sort in segment order. */
export function segmentFileName(segmentNumber: number): string {
  return `segment-${String(segmentNumber).padStart(20, '0')}.log`;
}

export function parseSegmentFileName(name: string): number | undefined {
  const match = fileNamePattern.exec(name);
  return match === null ? undefined : Number(match[1]);
}

/** fsync of a directory, so a file created, renamed or removed in it stays that way after a crash. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * One append-only segment file. Space is reserved when an entry is accepted (so positions and the
 * queue's size are known at once) and written later by the queue writer; a segment is read by
 * position for the uploader. A segment deleted while a read is in progress keeps its handle open
 * until that read ends: the unlinked file stays readable on POSIX systems.
 */
export class QueueSegment {
  readonly path: string;
  /** Bytes written or reserved. */
  reservedBytes: number;
  /** Highest end offset of each source's data in this segment, keyed `serial/source`. */
  readonly sourceEnds = new Map<string, number>();
  private handle: FileHandle | undefined;
  private readers = 0;
  private removed = false;

  private constructor(
    readonly directory: string,
    readonly segmentNumber: number,
    sizeBytes: number,
    handle: FileHandle | undefined,
  ) {
    this.path = join(directory, segmentFileName(segmentNumber));
    this.reservedBytes = sizeBytes;
    this.handle = handle;
  }

  /** A segment to be created by its first write. */
  static planned(directory: string, segmentNumber: number): QueueSegment {
    return new QueueSegment(directory, segmentNumber, 0, undefined);
  }

  /** An existing segment file of `sizeBytes`, opened for reading and writing, with the source ends recovery found. */
  static async openExisting(directory: string, segmentNumber: number, sizeBytes: number, sourceEnds: ReadonlyMap<string, number>): Promise<QueueSegment> {
    const handle = await open(join(directory, segmentFileName(segmentNumber)), 'r+');
    const segment = new QueueSegment(directory, segmentNumber, sizeBytes, handle);
    for (const [key, end] of sourceEnds) segment.sourceEnds.set(key, end);
    return segment;
  }

  /** Reserves `bytes` at the end; returns where they go. */
  reserve(bytes: number): number {
    const position = this.reservedBytes;
    this.reservedBytes += bytes;
    return position;
  }

  recordSourceEnd(key: string, endOffsetBytes: number): void {
    this.sourceEnds.set(key, Math.max(this.sourceEnds.get(key) ?? 0, endOffsetBytes));
  }

  /** Writes `buffers` at `position`, creating the file (and syncing its directory entry) first if needed. */
  async write(buffers: readonly Uint8Array[], position: number): Promise<void> {
    if (this.handle === undefined) {
      this.handle = await open(this.path, 'wx+');
      await syncDirectory(this.directory);
    }
    let written = 0;
    const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
    let pending = [...buffers];
    // writev may write less than asked (a signal, a full disk); the rest goes in another call.
    while (written < total) {
      const { bytesWritten } = await this.handle.writev(pending, position + written);
      if (bytesWritten === 0) throw new Error(`writing ${this.path} at byte ${position + written} made no progress`);
      written += bytesWritten;
      pending = skipBytes(pending, bytesWritten);
    }
  }

  async datasync(): Promise<void> {
    await this.handle?.datasync();
  }

  /** Keeps the file readable until release(), even if the segment is removed meanwhile. */
  retain(): void {
    this.readers++;
  }

  async release(): Promise<void> {
    this.readers--;
    if (this.removed && this.readers === 0) await this.close();
  }

  /** Reads `lengthBytes` at `position`; the caller holds a retain(). */
  async read(position: number, lengthBytes: number): Promise<Uint8Array> {
    const handle = this.handle;
    if (handle === undefined || this.readers === 0) throw new Error(`segment ${this.path} is read while not retained or before it was written`);
    const buffer = new Uint8Array(lengthBytes);
    let filled = 0;
    while (filled < lengthBytes) {
      const { bytesRead } = await handle.read(buffer, filled, lengthBytes - filled, position + filled);
      if (bytesRead === 0) throw new Error(`segment ${this.path} ends before byte ${position + lengthBytes}`);
      filled += bytesRead;
    }
    return buffer;
  }

  /** Deletes the file; the caller syncs the directory. */
  async remove(): Promise<void> {
    this.removed = true;
    await unlink(this.path);
    if (this.readers === 0) await this.close();
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

function skipBytes(buffers: readonly Uint8Array[], bytes: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let skip = bytes;
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}
