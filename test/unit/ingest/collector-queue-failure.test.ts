// Fail-stop: after a failed write or sync the queue accepts nothing more (frames after a lost one
// would leave holes in the offsets); reopening recovers what was durable.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { QueueSegment } from '../../../src/ingest/queue-segment.js';
import { openQueue, patternBytes, queueDirectory, twoSourceSession } from './collector-queue-fixture.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('CollectorQueue after a failed sync', () => {
  it('rejects the appends of the failed flush and every later call, and reopens with the durable bytes', async () => {
    const directory = await queueDirectory();
    const queue = await openQueue(directory);
    await queue.declareSession(twoSourceSession);
    await queue.append('session-1', 'mic', patternBytes(1, 0, 100));
    vi.spyOn(QueueSegment.prototype, 'datasync').mockRejectedValueOnce(new Error('EIO: i/o error, fdatasync'));
    const failed = await Promise.allSettled([queue.append('session-1', 'mic', patternBytes(1, 100, 10)), queue.append('session-1', 'mic', patternBytes(1, 110, 10))]);
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'NOT_AVAILABLE', message: expect.stringMatching(/failed to write or sync \(EIO: i\/o error, fdatasync\); it accepts nothing more: reopen it/) as unknown });
    await expect(queue.acknowledge('session-1', 'mic', 50)).rejects.toMatchObject({ code: 'NOT_AVAILABLE' });
    expect(queue.sessions()[0]?.sources[0]?.appendedBytes).toBe(100);
    await queue.close();
    vi.restoreAllMocks();
    const reopened = await openQueue(directory);
    const appendedBytes = reopened.sessions()[0]?.sources[0]?.appendedBytes ?? 0;
    // The failed frames were written before the sync failed, so they may well be on disk: the
    // promise said "not durable", not "not written". Either way the bytes are the ones appended.
    expect([100, 120]).toContain(appendedBytes);
    expect((await reopened.pending('session-1', 'mic', 0, 200)).bytes).toEqual(patternBytes(1, 0, appendedBytes));
  });
});
