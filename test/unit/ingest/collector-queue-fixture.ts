// Shared by the collector queue tests: temporary directories, small limits that make segments roll
// after a few entries, and a session with two binary sources.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { CollectorQueueLimits } from '../../../src/ingest/collector-queue-limits.js';
import { CollectorQueue, type CollectorSessionInput } from '../../../src/ingest/collector-queue.js';

/** Segments of 80 KiB hold a few 8 KiB entries; entryBytesMax leaves the required 64 KiB beside. */
export const smallLimits: Partial<CollectorQueueLimits> = { segmentBytesMax: 80 * 1024, entryBytesMax: 16 * 1024, queueBytesMax: 1024 * 1024 };

export const twoSourceSession: CollectorSessionInput = {
  sessionId: 'session-1',
  sources: [
    { name: 'mic', contentType: 'audio/wav', payloadKind: 'binary' },
    { name: 'notes', contentType: 'application/x-ndjson', payloadKind: 'json' },
  ],
  metadata: { trip: 'morning' },
  createdAtMs: 1_700_000_000_000,
};

const directories: string[] = [];
const openQueues = new Set<CollectorQueue>();

afterEach(async () => {
  await Promise.all([...openQueues].map((queue) => queue.close()));
  openQueues.clear();
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

export async function queueDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'tributary-collector-queue-'));
  directories.push(directory);
  return directory;
}

/** Opens a queue that the test's cleanup closes if the test does not. */
export async function openQueue(directory: string, limits: Partial<CollectorQueueLimits> = smallLimits): Promise<CollectorQueue> {
  const queue = await CollectorQueue.open(directory, limits);
  openQueues.add(queue);
  return queue;
}

export async function reopen(queue: CollectorQueue, limits: Partial<CollectorQueueLimits> = smallLimits): Promise<CollectorQueue> {
  await queue.close();
  openQueues.delete(queue);
  return openQueue(queue.directory, limits);
}

/** Deterministic bytes that differ by source and offset, so a misplaced byte shows. */
export function patternBytes(seed: number, offsetBytes: number, lengthBytes: number): Uint8Array {
  const bytes = new Uint8Array(lengthBytes);
  for (let index = 0; index < lengthBytes; index++) bytes[index] = (seed * 31 + (offsetBytes + index) * 7 + ((offsetBytes + index) >>> 8)) & 0xff;
  return bytes;
}
