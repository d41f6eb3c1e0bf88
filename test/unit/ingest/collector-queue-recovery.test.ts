// Recovery on open: a torn or corrupt tail of the newest segment is cut off and reported; damage
// anywhere else is an error naming the file and byte position, never skipped.
import { createHash } from 'node:crypto';
import { open, readdir, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CollectorQueue } from '../../../src/ingest/collector-queue.js';
import { openQueue, patternBytes, queueDirectory, smallLimits, twoSourceSession } from './collector-queue-fixture.js';

const entryBytes = 8 * 1024;
/** Frame header, then the data header: two lengths, "session-1", "mic" and a u64 offset. */
const dataFrameBytes = 10 + 2 + 9 + 3 + 8 + entryBytes;

/** A closed queue in a new directory with `entries` appends to mic; returns the directory and its segment paths. */
async function closedQueue(entries: number): Promise<{ directory: string; segments: string[] }> {
  const directory = await queueDirectory();
  const queue = await openQueue(directory);
  await queue.declareSession(twoSourceSession);
  for (let index = 0; index < entries; index++) await queue.append('session-1', 'mic', patternBytes(1, index * entryBytes, entryBytes));
  await queue.close();
  const names = (await readdir(directory)).filter((name) => name.startsWith('segment-')).sort();
  return { directory, segments: names.map((name) => join(directory, name)) };
}

async function flipByte(path: string, position: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const byte = new Uint8Array(1);
    await handle.read(byte, 0, 1, position);
    byte[0] = (byte[0] as number) ^ 0x40;
    await handle.write(byte, 0, 1, position);
  } finally {
    await handle.close();
  }
}

describe('CollectorQueue recovery', () => {
  it('cuts a torn tail of the newest segment and reports it', async () => {
    const { directory, segments } = await closedQueue(3);
    const newest = segments.at(-1) as string;
    const sizeBytes = (await stat(newest)).size;
    await truncate(newest, sizeBytes - 100);
    const queue = await openQueue(directory);
    expect(queue.recovery.truncatedTail).toMatchObject({ file: newest, droppedBytes: dataFrameBytes - 100 });
    expect(queue.recovery.truncatedTail?.reason).toMatch(/remain/);
    expect(queue.sessions()[0]?.sources[0]?.appendedBytes).toBe(2 * entryBytes);
    expect((await queue.pending('session-1', 'mic', 0, 10 * entryBytes)).bytes).toEqual(patternBytes(1, 0, 2 * entryBytes));
    expect(await queue.append('session-1', 'mic', patternBytes(1, 2 * entryBytes, 10))).toBe(2 * entryBytes);
  });

  it('cuts a corrupt last frame of the newest segment', async () => {
    const { directory, segments } = await closedQueue(3);
    const newest = segments.at(-1) as string;
    await flipByte(newest, (await stat(newest)).size - 5);
    const queue = await openQueue(directory);
    expect(queue.recovery.truncatedTail?.reason).toBe('the frame fails its CRC-32C');
    expect(queue.sessions()[0]?.sources[0]?.appendedBytes).toBe(2 * entryBytes);
  });

  it('removes a newest segment whose checkpoint was torn, and still hashes the one before', async () => {
    const { directory } = await closedQueue(3);
    await (await openQueue(directory)).close();
    const names = (await readdir(directory)).filter((name) => name.startsWith('segment-')).sort();
    const newest = join(directory, names.at(-1) as string);
    await truncate(newest, 5);
    const queue = await openQueue(directory);
    expect(queue.recovery.truncatedTail).toMatchObject({ file: newest, positionBytes: 0, droppedBytes: 5 });
    const finished = await queue.finish('session-1', 'mic');
    expect(Buffer.from(finished.sha256).toString('hex')).toBe(createHash('sha256').update(patternBytes(1, 0, 3 * entryBytes)).digest('hex'));
  });

  it('removes an empty newest segment, so that the next open does not find it', async () => {
    const { directory, segments } = await closedQueue(3);
    await writeFile(join(directory, 'segment-00000000000000000099.log'), new Uint8Array(0));
    const queue = await openQueue(directory);
    expect(queue.recovery.truncatedTail?.reason).toBe('the newest segment is empty');
    await queue.close();
    const again = await openQueue(directory);
    expect(again.recovery.truncatedTail).toBeUndefined();
    expect(again.sessions()[0]?.sources[0]?.appendedBytes).toBe(3 * entryBytes);
    expect(segments).toHaveLength(1);
  });

  it('fails on damage in the middle of an older segment, naming file and position', async () => {
    const { directory, segments } = await closedQueue(20);
    expect(segments.length).toBeGreaterThan(2);
    const older = segments[0] as string;
    await flipByte(older, 5_000);
    await expect(CollectorQueue.open(directory, smallLimits)).rejects.toMatchObject({
      code: 'CORRUPT_RECORD',
      message: expect.stringMatching(new RegExp(`segment "${older}" is corrupt at byte \\d+: the frame fails its CRC-32C`)) as unknown,
    });
    // A failed open releases the lock.
    await expect(CollectorQueue.open(directory, smallLimits)).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
  });

  it('fails on a torn older segment, which a crash cannot leave', async () => {
    const { directory, segments } = await closedQueue(20);
    const older = segments[1] as string;
    await truncate(older, (await stat(older)).size - 3);
    await expect(CollectorQueue.open(directory, smallLimits)).rejects.toThrow(new RegExp(`segment "${older}" is corrupt at byte \\d+`));
  });

  it('fails when a segment holding unacknowledged bytes is missing', async () => {
    const { directory, segments } = await closedQueue(20);
    await unlink(segments[1] as string);
    await expect(CollectorQueue.open(directory, smallLimits)).rejects.toThrow(/is missing data: source "mic" of session "session-1" has \d+ bytes appended/);
  });

  it('detects a flipped byte when reading pending bytes back', async () => {
    const { directory, segments } = await closedQueue(2);
    const queue = await openQueue(directory);
    await flipByte(segments[0] as string, 3_000);
    await expect(queue.pending('session-1', 'mic', 0, entryBytes)).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
  });
});
