// The queue's bounds: validated on open, and each one that an operation would exceed fails it with
// an error naming the sizes, leaving the queue as it was.
import { describe, expect, it } from 'vitest';
import { collectorQueueDefaults, resolveCollectorQueueLimits } from '../../../src/ingest/collector-queue-limits.js';
import { openQueue, queueDirectory, twoSourceSession } from './collector-queue-fixture.js';

describe('CollectorQueue limits', () => {
  it('has named defaults and validates overrides', () => {
    expect(resolveCollectorQueueLimits()).toEqual(collectorQueueDefaults);
    expect(() => resolveCollectorQueueLimits({ sessionsMax: 0 })).toThrow(/sessionsMax must be an integer from 1/);
    expect(() => resolveCollectorQueueLimits({ entryBytesMax: 1024 * 1024, segmentBytesMax: 1024 * 1024 })).toThrow(/segmentBytesMax must be an integer from 1114112/);
    expect(() => resolveCollectorQueueLimits({ queueBytesMax: 1, segmentBytesMax: 1024 * 1024, entryBytesMax: 1024 })).toThrow(/queueBytesMax/);
    expect(() => resolveCollectorQueueLimits({ flushBytesMax: 1.5 })).toThrow(/flushBytesMax/);
  });

  it('fails an append that does not fit with RESOURCE_EXHAUSTED naming the sizes', async () => {
    const queue = await openQueue(await queueDirectory(), { segmentBytesMax: 80 * 1024, entryBytesMax: 16 * 1024, queueBytesMax: 100 * 1024 });
    await queue.declareSession(twoSourceSession);
    const entry = new Uint8Array(16 * 1024);
    let appended = 0;
    let failure: unknown;
    while (failure === undefined) {
      await queue.append('session-1', 'mic', entry).then(() => appended++, (error: unknown) => (failure = error));
    }
    expect(appended).toBeGreaterThan(3);
    expect(failure).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retriable: true, message: expect.stringMatching(/is full: \d+ of queueBytesMax 102400 bytes used, and an append of 16384 bytes needs \d+/) as unknown });
    expect(queue.sessions()[0]?.sources[0]?.appendedBytes).toBe(appended * entry.length);
    await queue.acknowledge('session-1', 'mic', appended * entry.length);
    await queue.close();
  });

  it('rejects an entry above entryBytesMax', async () => {
    const queue = await openQueue(await queueDirectory());
    await queue.declareSession(twoSourceSession);
    await expect(queue.append('session-1', 'mic', new Uint8Array(16 * 1024 + 1))).rejects.toThrow(/append of 16385 bytes .* exceeds entryBytesMax 16384/);
  });

  it('rejects a session beyond sessionsMax until one is dropped', async () => {
    const queue = await openQueue(await queueDirectory(), { segmentBytesMax: 80 * 1024, entryBytesMax: 16 * 1024, queueBytesMax: 1024 * 1024, sessionsMax: 2 });
    await queue.declareSession({ ...twoSourceSession, sessionId: 'a' });
    await queue.declareSession({ ...twoSourceSession, sessionId: 'b' });
    await expect(queue.declareSession({ ...twoSourceSession, sessionId: 'c' })).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('sessionsMax 2') as unknown });
    await queue.dropSession('a');
    await queue.declareSession({ ...twoSourceSession, sessionId: 'c' });
  });

  it('holds a source to its declared length', async () => {
    const queue = await openQueue(await queueDirectory());
    await queue.declareSession({ sessionId: 'fixed', sources: [{ name: 'file', contentType: 'video/mp4', payloadKind: 'binary', declaredLengthBytes: 10 }] });
    await queue.append('fixed', 'file', new Uint8Array(6));
    await expect(queue.append('fixed', 'file', new Uint8Array(5))).rejects.toThrow(/goes past its declared length of 10 bytes/);
    await expect(queue.finish('fixed', 'file')).rejects.toThrow(/declared 10 bytes long but has 6/);
    await queue.append('fixed', 'file', new Uint8Array(4));
    expect((await queue.finish('fixed', 'file')).lengthBytes).toBe(10);
  });

  it('rejects bad offsets and sizes by name', async () => {
    const queue = await openQueue(await queueDirectory());
    await queue.declareSession(twoSourceSession);
    await expect(queue.pending('session-1', 'mic', -1, 10)).rejects.toThrow(/fromOffsetBytes must be a non-negative integer, got -1/);
    await expect(queue.pending('session-1', 'mic', 1, 10)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await expect(queue.acknowledge('session-1', 'mic', 0.5)).rejects.toThrow(/committedOffsetBytes/);
  });
});
