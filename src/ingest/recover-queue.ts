import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TributaryError } from '../errors/index.js';
import { decodeQueueEntry, type QueueEntry } from './queue-entry.js';
import { decodeQueueFrame, isQueueFrameDamage } from './queue-frame.js';
import { parseSegmentFileName, QueueSegment, segmentFileName, syncDirectory } from './queue-segment.js';
import { QueueState, sourceKey } from './queue-state.js';

/** The torn or corrupt end of the newest segment that recovery cut off. */
export interface TruncatedTail {
  readonly file: string;
  readonly positionBytes: number;
  readonly droppedBytes: number;
  readonly reason: string;
}

/** What opening a queue found, for the caller to log. */
export interface QueueRecoverySummary {
  readonly segmentsRead: number;
  readonly entriesRead: number;
  readonly bytesRead: number;
  /** Set when the newest segment ended in a torn or corrupt frame (a crash during a write). */
  readonly truncatedTail: TruncatedTail | undefined;
  /** Set when the lock of a dead process was taken over. */
  readonly lockTakenOverFromPid: number | undefined;
}

export interface RecoveredQueue {
  readonly state: QueueState;
  /** The surviving segments, oldest first, open. */
  readonly segments: QueueSegment[];
  readonly nextSegmentNumber: number;
  readonly summary: Omit<QueueRecoverySummary, 'lockTakenOverFromPid'>;
}

export function corruptSegment(path: string, position: number, reason: string): TributaryError {
  return new TributaryError('CORRUPT_RECORD', `collector queue segment "${path}" is corrupt at byte ${position}: ${reason}; move the directory aside to keep its data, or delete it`);
}

/**
 * Replays every segment, oldest first, into a QueueState, checking every frame. Only the newest
 * segment may end in a damaged frame (the writer syncs older segments before writing newer ones):
 * it is cut there first, and removed if nothing whole is left. Damage anywhere else, or entries
 * that contradict each other, is CORRUPT_RECORD naming the file and byte position.
 */
export async function recoverQueue(directory: string): Promise<RecoveredQueue> {
  const found = await listSegmentNumbers(directory);
  const newest = found.at(-1);
  const truncatedTail = newest === undefined ? undefined : await repairNewestSegment(join(directory, segmentFileName(newest)));
  const numbers = await listSegmentNumbers(directory);
  const state = new QueueState();
  const segments: QueueSegment[] = [];
  let entriesRead = 0;
  let bytesRead = 0;
  try {
    for (const [index, segmentNumber] of numbers.entries()) {
      const path = join(directory, segmentFileName(segmentNumber));
      const bytes = await readFile(path);
      bytesRead += bytes.length;
      const segment = QueueSegment.planned(directory, segmentNumber);
      state.hashing = index === numbers.length - 1;
      entriesRead += replaySegment(state, segment, bytes, path);
      segments.push(await QueueSegment.openExisting(directory, segmentNumber, bytes.length, segment.sourceEnds));
    }
    state.markAllDurable();
    const gap = state.findChunkGap();
    if (gap !== undefined) throw new TributaryError('CORRUPT_RECORD', `collector queue "${directory}" is missing data: ${gap}`);
  } catch (error) {
    await Promise.all(segments.map((segment) => segment.close()));
    throw error;
  }
  const nextSegmentNumber = (newest ?? 0) + 1;
  return { state, segments, nextSegmentNumber, summary: { segmentsRead: numbers.length, entriesRead, bytesRead, truncatedTail } };
}

async function listSegmentNumbers(directory: string): Promise<number[]> {
  return (await readdir(directory)).map(parseSegmentFileName).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
}

/**
 * Cuts the newest segment after its last whole frame (a crash tore the write in progress), or
 * removes it when no frame is whole: it was created and the crash came before its checkpoint.
 */
async function repairNewestSegment(path: string): Promise<TruncatedTail | undefined> {
  const bytes = await readFile(path);
  let position = 0;
  while (position < bytes.length) {
    const frame = decodeQueueFrame(bytes, position);
    if (isQueueFrameDamage(frame)) {
      if (!frame.torn) throw corruptSegment(path, position, frame.reason);
      await cutTail(path, position);
      return { file: path, positionBytes: position, droppedBytes: bytes.length - position, reason: frame.reason };
    }
    position += frame.frameBytes;
  }
  if (bytes.length > 0) return undefined;
  await cutTail(path, 0);
  return { file: path, positionBytes: 0, droppedBytes: 0, reason: 'the newest segment is empty' };
}

/** Applies each frame of a segment, which must all be whole; returns how many there were. */
function replaySegment(state: QueueState, segment: QueueSegment, bytes: Uint8Array, path: string): number {
  let position = 0;
  let entries = 0;
  while (position < bytes.length) {
    const frame = decodeQueueFrame(bytes, position);
    if (isQueueFrameDamage(frame)) throw corruptSegment(path, position, frame.reason);
    try {
      const entry = decodeQueueEntry(frame.kindCode, frame.body);
      if ((entries === 0) !== (entry.kind === 'checkpoint')) throw new Error('a checkpoint must be the first entry of a segment, and only there');
      applyFound(state, segment, entry, position, frame.frameBytes);
    } catch (error) {
      if (error instanceof TributaryError) throw error;
      throw corruptSegment(path, position, error instanceof Error ? error.message : String(error));
    }
    entries++;
    position += frame.frameBytes;
  }
  if (entries === 0) throw corruptSegment(path, 0, 'the segment is empty, and only the newest may be');
  return entries;
}

function applyFound(state: QueueState, segment: QueueSegment, entry: QueueEntry, framePosition: number, frameBytes: number): void {
  if (entry.kind !== 'data') {
    state.apply(entry);
    return;
  }
  const serial = state.liveSession(entry.sessionId)?.serial;
  if (serial === undefined) throw new Error(`data for session "${entry.sessionId}", which is not declared`);
  const location = { segmentNumber: segment.segmentNumber, framePosition, frameBytes, offsetBytes: entry.offsetBytes, lengthBytes: entry.bytes.length };
  state.apply(entry, location);
  segment.recordSourceEnd(sourceKey(serial, entry.source), entry.offsetBytes + entry.bytes.length);
}

/** Cuts the newest segment at its last whole frame; a segment left empty is removed. */
async function cutTail(path: string, validBytes: number): Promise<void> {
  if (validBytes === 0) {
    await unlink(path);
    await syncDirectory(join(path, '..'));
    return;
  }
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(validBytes);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
