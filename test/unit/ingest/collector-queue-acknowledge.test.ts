// Acknowledgements: persisted, never backwards, never past the appended bytes; whole segments are
// deleted once every byte in them is acknowledged or dropped, and never while one is not.
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { openQueue, patternBytes, queueDirectory, reopen, twoSourceSession } from './collector-queue-fixture.js';

const entryBytes = 8 * 1024;

async function segmentFiles(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.startsWith('segment-')).sort();
}

async function appendEntries(queue: Awaited<ReturnType<typeof openQueue>>, source: string, count: number): Promise<void> {
  for (let index = 0; index < count; index++) await queue.append('session-1', source, patternBytes(source.length, index * entryBytes, entryBytes));
}

describe('CollectorQueue acknowledgements', () => {
  it('persists acknowledgements and ignores older ones', async () => {
    let queue = await openQueue(await queueDirectory());
    await queue.declareSession(twoSourceSession);
    await appendEntries(queue, 'mic', 3);
    expect(await queue.acknowledge('session-1', 'mic', 10_000)).toBe(true);
    expect(await queue.acknowledge('session-1', 'mic', 5_000)).toBe(false);
    expect(await queue.acknowledge('session-1', 'mic', 10_000)).toBe(false);
    queue = await reopen(queue);
    expect(queue.sessions()[0]?.sources[0]?.acknowledgedBytes).toBe(10_000);
    expect((await queue.pending('session-1', 'mic', 0, 100)).offsetBytes).toBe(10_000);
  });

  it('rejects an acknowledgement past the appended bytes, naming both', async () => {
    const queue = await openQueue(await queueDirectory());
    await queue.declareSession(twoSourceSession);
    await queue.append('session-1', 'mic', new Uint8Array(100));
    await expect(queue.acknowledge('session-1', 'mic', 101)).rejects.toMatchObject({
      code: 'OFFSET_OUT_OF_RANGE',
      message: expect.stringMatching(/offset 101 .* past its 100 appended bytes/) as unknown,
    });
  });

  it('deletes whole segments once acknowledged, and only those', async () => {
    const directory = await queueDirectory();
    const queue = await openQueue(directory);
    await queue.declareSession(twoSourceSession);
    await appendEntries(queue, 'mic', 30);
    const before = await segmentFiles(directory);
    expect(before.length).toBeGreaterThan(3);
    await queue.acknowledge('session-1', 'mic', 15 * entryBytes);
    await queue.close();
    const after = await segmentFiles(directory);
    expect(after.length).toBeLessThan(before.length);
    expect(after.length).toBeGreaterThan(1);
    const reopened = await openQueue(directory);
    const pending = await reopened.pending('session-1', 'mic', 0, 30 * entryBytes);
    expect(pending.offsetBytes).toBe(15 * entryBytes);
    expect(pending.bytes.length).toBe(15 * entryBytes);
  });

  it('never deletes a segment holding an unacknowledged byte of any source', async () => {
    const directory = await queueDirectory();
    let queue = await openQueue(directory);
    await queue.declareSession(twoSourceSession);
    await queue.append('session-1', 'notes', patternBytes(9, 0, 10));
    await appendEntries(queue, 'mic', 30);
    await queue.acknowledge('session-1', 'mic', 30 * entryBytes);
    queue = await reopen(queue);
    expect((await queue.pending('session-1', 'notes', 0, 100)).bytes).toEqual(patternBytes(9, 0, 10));
    await queue.acknowledge('session-1', 'notes', 10);
    queue = await reopen(queue);
    await queue.close();
    expect(await segmentFiles(directory)).toHaveLength(1);
  });

  it('keeps a segment while its last byte is unacknowledged', async () => {
    const directory = await queueDirectory();
    let queue = await openQueue(directory);
    await queue.declareSession(twoSourceSession);
    await queue.append('session-1', 'mic', patternBytes(7, 0, 100));
    await queue.acknowledge('session-1', 'mic', 99);
    queue = await reopen(queue);
    queue = await reopen(queue);
    expect(await queue.pending('session-1', 'mic', 0, 100)).toMatchObject({ offsetBytes: 99, bytes: patternBytes(7, 99, 1) });
  });

  it('deletes the segments of a dropped session whether acknowledged or not', async () => {
    const directory = await queueDirectory();
    let queue = await openQueue(directory);
    await queue.declareSession(twoSourceSession);
    await appendEntries(queue, 'mic', 30);
    const sizeBytes = queue.sizeBytes();
    await queue.dropSession('session-1');
    queue = await reopen(queue);
    await queue.close();
    expect(queue.sizeBytes()).toBeLessThan(sizeBytes / 10);
    expect(await segmentFiles(directory)).toHaveLength(1);
  });

  it('rolls a large fully acknowledged active segment over so it can be deleted', async () => {
    const directory = await queueDirectory();
    const queue = await openQueue(directory);
    await queue.declareSession(twoSourceSession);
    await appendEntries(queue, 'mic', 3);
    await queue.acknowledge('session-1', 'mic', 3 * entryBytes);
    await queue.close();
    const files = await segmentFiles(directory);
    expect(files).toHaveLength(1);
    expect(queue.sizeBytes()).toBeLessThan(entryBytes);
  });
});
