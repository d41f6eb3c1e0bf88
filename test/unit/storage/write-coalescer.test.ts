// The queue in front of the RocksDB write thread: writes queued while one request is in flight go
// as ONE request (one batch, one sync) within named bounds, each caller settles only with the
// answer of the request that covered it, and a failed request rejects every caller it covered.
import { describe, expect, it } from 'vitest';
import { type CoalescedRequest, WriteCoalescer } from '../../../src/storage/rocksdb/write-coalescer.js';

const write = (bytes: number, sync = true) => ({ batch: { packed: new ArrayBuffer(bytes), values: [] }, sync });

function recordingCoalescer(bounds = { writesMax: 100, bytesMax: 1_000 }) {
  const sent: CoalescedRequest[] = [];
  const coalescer = new WriteCoalescer((request) => sent.push(request), bounds);
  return { coalescer, sent };
}

/** Which of `promises` have settled, as 'resolved' / 'rejected' / 'pending', after a turn. */
async function states(promises: readonly Promise<void>[]): Promise<string[]> {
  const seen = promises.map(() => 'pending');
  promises.forEach((promise, index) => {
    promise.then(
      () => (seen[index] = 'resolved'),
      () => (seen[index] = 'rejected'),
    );
  });
  await new Promise((resolve) => setImmediate(resolve));
  return seen;
}

describe('WriteCoalescer', () => {
  it('sends the first write at once and gathers the ones queued meanwhile into one request', async () => {
    const { coalescer, sent } = recordingCoalescer();
    const first = coalescer.write(write(10));
    const queued = [coalescer.write(write(20, false)), coalescer.write(write(30)), coalescer.write(write(40, false))];
    expect(sent.map((request) => request.writes.map((batch) => batch.packed.byteLength))).toEqual([[10]]);
    coalescer.answered(undefined);
    expect(await states([first, ...queued])).toEqual(['resolved', 'pending', 'pending', 'pending']);
    expect(sent[1]).toEqual({ writes: [20, 30, 40].map((bytes) => ({ packed: new ArrayBuffer(bytes), values: [] })), sync: true });
    coalescer.answered(undefined);
    expect(await states(queued)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(coalescer.idle).toBe(true);
  });

  it('syncs a request only when one of its writes asked', () => {
    const { coalescer, sent } = recordingCoalescer();
    void coalescer.write(write(1, true));
    void coalescer.write(write(1, false));
    void coalescer.write(write(1, false));
    coalescer.answered(undefined);
    expect(sent.map((request) => request.sync)).toEqual([true, false]);
  });

  it('keeps each request within the write count and byte bounds, a larger single write alone', () => {
    const { coalescer, sent } = recordingCoalescer({ writesMax: 2, bytesMax: 100 });
    void coalescer.write(write(1));
    for (const bytes of [10, 20, 30, 60, 500, 5]) void coalescer.write(write(bytes));
    for (let answer = 0; answer < 4; answer++) coalescer.answered(undefined);
    expect(sent.map((request) => request.writes.map((batch) => batch.packed.byteLength))).toEqual([[1], [10, 20], [30, 60], [500], [5]]);
  });

  it('rejects every caller a failed request covered with its error, and goes on with the next', async () => {
    const { coalescer, sent } = recordingCoalescer();
    const first = coalescer.write(write(1));
    const covered = [coalescer.write(write(1)), coalescer.write(write(1))];
    coalescer.answered(undefined);
    const later = coalescer.write(write(1));
    const failure = new Error('IO error: No space left on device');
    coalescer.answered(failure);
    await expect(Promise.all(covered.map((promise) => promise.catch((error: unknown) => error)))).resolves.toEqual([failure, failure]);
    expect(await states([first, later])).toEqual(['resolved', 'pending']);
    expect(sent).toHaveLength(3);
  });

  it('fails every accepted write when the thread is gone', async () => {
    const { coalescer } = recordingCoalescer();
    const accepted = [coalescer.write(write(1)), coalescer.write(write(1))];
    coalescer.failAll(new Error('the RocksDB write thread exited (code 1)'));
    expect(await states(accepted)).toEqual(['rejected', 'rejected']);
    expect(coalescer.pendingCount).toBe(0);
  });

  it('fails the callers of a request it could not send, and sends the next', async () => {
    let attempts = 0;
    const coalescer = new WriteCoalescer(() => {
      attempts++;
      if (attempts === 1) throw new Error('DataCloneError');
    }, { writesMax: 10, bytesMax: 10 });
    const unsent = coalescer.write(write(1));
    await expect(unsent).rejects.toThrow('DataCloneError');
    const next = coalescer.write(write(1));
    expect(attempts).toBe(2);
    coalescer.answered(undefined);
    await expect(next).resolves.toBeUndefined();
  });

  it('refuses bounds below one', () => {
    expect(() => new WriteCoalescer(() => undefined, { writesMax: 0, bytesMax: 10 })).toThrow('writesMax must be a positive integer, got 0');
  });
});
