// Final digests: the queue hashes each source as it is appended and keeps the running state in
// every segment's checkpoint, so the digest is right after a reopen even once early bytes are gone.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256State } from '../../../src/ingest/sha256-state.js';
import { openQueue, patternBytes, queueDirectory, reopen, twoSourceSession } from './collector-queue-fixture.js';

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('Sha256State', () => {
  it('matches node:crypto, across every split and a snapshot restored at each step', () => {
    for (const lengthBytes of [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 70_000]) {
      const bytes = randomBytes(lengthBytes);
      let state = new Sha256State();
      for (let offset = 0; offset < lengthBytes; offset += 37) {
        state.update(bytes.subarray(offset, offset + 37));
        state = new Sha256State(state.snapshot());
      }
      expect(Buffer.from(state.digest()).toString('hex')).toBe(sha256Hex(bytes));
      expect(state.hashedBytes).toBe(lengthBytes);
    }
  });

  it('refuses an inconsistent snapshot', () => {
    expect(() => new Sha256State({ words: [1, 2, 3, 4, 5, 6, 7, 8], lengthBytes: 65, tail: new Uint8Array(2) })).toThrow(/tail of lengthBytes % 64/);
  });
});

describe('CollectorQueue final digests', () => {
  it('finishes with the SHA-256 of the source, checking a given one', async () => {
    const queue = await openQueue(await queueDirectory());
    await queue.declareSession(twoSourceSession);
    const bytes = patternBytes(5, 0, 20_000);
    await queue.append('session-1', 'mic', bytes.subarray(0, 7_000));
    await queue.append('session-1', 'mic', bytes.subarray(7_000));
    const wrong = new Uint8Array(32);
    await expect(queue.finish('session-1', 'mic', wrong)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH', message: expect.stringContaining(sha256Hex(bytes)) as unknown });
    const finished = await queue.finish('session-1', 'mic', createHash('sha256').update(bytes).digest());
    expect(finished.lengthBytes).toBe(20_000);
    expect(Buffer.from(finished.sha256).toString('hex')).toBe(sha256Hex(bytes));
    expect(await queue.finish('session-1', 'mic')).toEqual(finished);
  });

  it('produces the right digest after reopening, once early bytes were acknowledged and deleted', async () => {
    const directory = await queueDirectory();
    let queue = await openQueue(directory);
    await queue.declareSession(twoSourceSession);
    const bytes = patternBytes(6, 0, 40 * 8_000 + 11);
    for (let offset = 0; offset < 30 * 8_000; offset += 8_000) await queue.append('session-1', 'mic', bytes.subarray(offset, offset + 8_000));
    await queue.acknowledge('session-1', 'mic', 30 * 8_000);
    queue = await reopen(queue);
    expect(queue.segmentCount()).toBeLessThan(3);
    for (let offset = 30 * 8_000; offset < bytes.length; offset += 8_000) await queue.append('session-1', 'mic', bytes.subarray(offset, offset + 8_000));
    queue = await reopen(queue);
    const finished = await queue.finish('session-1', 'mic');
    expect(Buffer.from(finished.sha256).toString('hex')).toBe(sha256Hex(bytes));
  });
});
