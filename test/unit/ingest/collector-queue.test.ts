// The collector queue's basic contract: appends come back from pending() byte-exact at the offsets
// append() returned, per source, and survive closing and reopening.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import { openQueue, patternBytes, queueDirectory, reopen, twoSourceSession } from './collector-queue-fixture.js';

describe('CollectorQueue', () => {
  it('returns appended bytes from pending, spanning entries', async () => {
    const queue = await openQueue(await queueDirectory());
    await queue.declareSession(twoSourceSession);
    expect(await queue.append('session-1', 'mic', patternBytes(1, 0, 1000))).toBe(0);
    expect(await queue.append('session-1', 'mic', patternBytes(1, 1000, 500))).toBe(1000);
    const pending = await queue.pending('session-1', 'mic', 0, 10_000);
    expect(pending.offsetBytes).toBe(0);
    expect(pending.bytes).toEqual(patternBytes(1, 0, 1500));
    expect(pending.reachesFinal).toBe(false);
    const middle = await queue.pending('session-1', 'mic', 900, 200);
    expect(middle).toEqual({ offsetBytes: 900, bytes: patternBytes(1, 900, 200), reachesFinal: false });
  });

  it('keeps offsets per source, contiguous from 0, under concurrent appends', async () => {
    const queue = await openQueue(await queueDirectory());
    await queue.declareSession(twoSourceSession);
    const offsets = await Promise.all([
      queue.append('session-1', 'mic', new Uint8Array(100)),
      queue.append('session-1', 'notes', new Uint8Array(7)),
      queue.append('session-1', 'mic', new Uint8Array(50)),
      queue.append('session-1', 'notes', new Uint8Array(3)),
    ]);
    expect(offsets).toEqual([0, 0, 100, 7]);
    const sources = queue.sessions()[0]?.sources;
    expect(sources?.map((source) => [source.name, source.appendedBytes])).toEqual([['mic', 150], ['notes', 10]]);
  });

  it('keeps sessions, bytes, acknowledgements and final digests across close and reopen', async () => {
    let queue = await openQueue(await queueDirectory());
    await queue.declareSession(twoSourceSession);
    const bytes = patternBytes(2, 0, 40_000);
    for (let offset = 0; offset < bytes.length; offset += 8_000) await queue.append('session-1', 'mic', bytes.subarray(offset, offset + 8_000));
    await queue.acknowledge('session-1', 'mic', 12_345);
    await queue.append('session-1', 'notes', new TextEncoder().encode('{"a":1}\n'));
    await queue.finish('session-1', 'notes');
    queue = await reopen(queue);
    expect(queue.recovery.truncatedTail).toBeUndefined();
    const [session] = queue.sessions();
    expect(session?.declaration).toEqual(twoSourceSession);
    expect(session?.sources[0]).toEqual({ name: 'mic', appendedBytes: 40_000, acknowledgedBytes: 12_345, final: false, sha256: undefined });
    expect(session?.sources[1]?.final).toBe(true);
    expect(Buffer.from(session?.sources[1]?.sha256 ?? []).toString('hex')).toBe(createHash('sha256').update('{"a":1}\n').digest('hex'));
    const pending = await queue.pending('session-1', 'mic', 0, 100_000);
    expect(pending.offsetBytes).toBe(12_345);
    expect(pending.bytes).toEqual(bytes.subarray(12_345));
    expect(await queue.append('session-1', 'mic', new Uint8Array(1))).toBe(40_000);
  });

  it('marks the pending bytes that end a final source', async () => {
    const queue = await openQueue(await queueDirectory());
    await queue.declareSession(twoSourceSession);
    await queue.append('session-1', 'notes', new TextEncoder().encode('{}\n'));
    await queue.finish('session-1', 'notes');
    expect((await queue.pending('session-1', 'notes', 0, 2)).reachesFinal).toBe(false);
    expect((await queue.pending('session-1', 'notes', 0, 3)).reachesFinal).toBe(true);
    await expect(queue.append('session-1', 'notes', new Uint8Array(1))).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
  });

  it('treats an identical declaration as a no-op and a different one as an error', async () => {
    const queue = await openQueue(await queueDirectory());
    await queue.declareSession(twoSourceSession);
    await queue.declareSession({ ...twoSourceSession, createdAtMs: 5 });
    await expect(queue.declareSession({ ...twoSourceSession, metadata: {} })).rejects.toThrow(/already declared with other sources or metadata/);
    expect(queue.sessions()).toHaveLength(1);
  });

  it('names unknown sessions and sources and bad declarations', async () => {
    const queue = await openQueue(await queueDirectory());
    await expect(queue.append('nope', 'mic', new Uint8Array(1))).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND', message: expect.stringContaining('"nope"') as unknown });
    await queue.declareSession(twoSourceSession);
    await expect(queue.append('session-1', 'camera', new Uint8Array(1))).rejects.toThrow(/has no source "camera"; its sources are mic, notes/);
    const sensorWithoutShape = { sessionId: 's2', sources: [{ name: 'imu', contentType: 'application/x-tributary-sensor', payloadKind: 'sensor' as const }] };
    await expect(queue.declareSession(sensorWithoutShape)).rejects.toThrow(/sensor shape is required/);
    await expect(queue.declareSession({ sessionId: 'bad id', sources: twoSourceSession.sources })).rejects.toBeInstanceOf(TributaryError);
  });

  it('forgets a dropped session, and a new incarnation of its id starts from 0', async () => {
    let queue = await openQueue(await queueDirectory());
    await queue.declareSession(twoSourceSession);
    await queue.append('session-1', 'mic', patternBytes(3, 0, 100));
    await queue.dropSession('session-1');
    expect(queue.sessions()).toEqual([]);
    await queue.declareSession(twoSourceSession);
    expect(await queue.append('session-1', 'mic', patternBytes(4, 0, 10))).toBe(0);
    queue = await reopen(queue);
    expect((await queue.pending('session-1', 'mic', 0, 1000)).bytes).toEqual(patternBytes(4, 0, 10));
  });

  it('rejects calls after close', async () => {
    const queue = await openQueue(await queueDirectory());
    await queue.close();
    expect(() => queue.sessions()).not.toThrow();
    await expect(queue.declareSession(twoSourceSession)).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
  });
});
