import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin } from '../../src/client/index.js';
import { TributaryError } from '../../src/errors/index.js';
import { SessionState } from '../../src/rpc/generated/tributary/ingest/v1/ingest_types.js';
import { binarySource, chunksOf, IngestCalls, UploadFailure } from '../support/ingest-calls.js';
import type { LocalCluster } from '../support/local-cluster.js';
import { startSdkCluster } from '../support/sdk-cluster.js';

const devices = 1_000;
const sourceBytes = 24 * 1024;
const chunkBytes = 8 * 1024;
/** Tries of one call while leaders move or partitions open; each waits a little longer. */
const attemptsMax = 40;

/**
 * Runs `call` against the broker that leads the session, as a client would: any broker first,
 * then the leader hint of NOT_LEADER; NOT_AVAILABLE (partitions still opening) waits and retries.
 */
async function routed<T>(clients: Map<string, IngestCalls>, start: string, call: (calls: IngestCalls) => Promise<T>): Promise<T> {
  let address = start;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call(clients.get(address) as IngestCalls);
    } catch (caught) {
      const error = caught instanceof UploadFailure ? caught.error : caught;
      if (!(error instanceof TributaryError) || !error.retriable || attempt >= attemptsMax) throw caught;
      const hinted = error.leaderHint?.address ?? '';
      if (error.code === 'NOT_LEADER' && clients.has(hinted)) address = hinted;
      else await new Promise((resolve) => setTimeout(resolve, 50 * Math.min(attempt, 10)));
    }
  }
}

/**
 * Uploads what is not committed yet, as a collector does: from GetOffset, again after a retriable
 * failure, following a NOT_LEADER hint to the new leader.
 */
async function uploadResuming(clients: Map<string, IngestCalls>, start: string, deviceId: string, bytes: Buffer, retried: string[]): Promise<void> {
  let address = start;
  for (let attempt = 1; ; attempt += 1) {
    const offsets = await routed(clients, address, (calls) => calls.getOffset(deviceId, 'day-1'));
    const source = offsets.sources[0];
    if (source?.final === true) return;
    try {
      await (clients.get(address) as IngestCalls).upload(deviceId, 'day-1', chunksOf('mic', bytes, chunkBytes, source?.committedOffsetBytes ?? 0));
      return;
    } catch (caught) {
      if (!(caught instanceof UploadFailure) || !caught.error.retriable || attempt >= attemptsMax) throw caught;
      retried.push(caught.error.code);
      const hinted = caught.error.leaderHint?.address ?? '';
      if (clients.has(hinted)) address = hinted;
    }
  }
}

describe('1,000 concurrent device sessions on a three-node cluster (separate processes)', () => {
  let cluster: LocalCluster;
  let admin: Admin;
  const clients = new Map<string, IngestCalls>();

  beforeAll(async () => {
    ({ cluster, admin } = await startSdkCluster({ controllers: 3, combined: true }, 3));
    for (const address of cluster.bootstrap.split(',')) clients.set(address, new IngestCalls(address));
  }, 120_000);

  afterAll(async () => {
    for (const calls of clients.values()) calls.close();
    admin?.close();
    await cluster?.destroy();
  });

  it('creates, uploads and completes every session without an error, each stored exactly once', async () => {
    const startedMs = Date.now();
    const addresses = [...clients.keys()];
    const sources = Array.from({ length: devices }, () => randomBytes(sourceBytes));
    const retried: string[] = [];
    const results = await Promise.all(sources.map(async (bytes, index) => {
      const deviceId = `fleet-${index}`;
      const start = addresses[index % addresses.length] as string;
      await routed(clients, start, (calls) => calls.createSession(deviceId, 'day-1', [binarySource('mic', sourceBytes)]));
      await uploadResuming(clients, start, deviceId, bytes, retried);
      return { deviceId };
    }));
    // Retriable answers (a leader moving, a partition still opening) are part of a client's life; nothing else may fail.
    expect(retried.filter((code) => !['NOT_LEADER', 'NOT_AVAILABLE', 'TIMEOUT', 'SHUTTING_DOWN', 'NOT_ENOUGH_REPLICAS'].includes(code))).toEqual([]);

    const states = await Promise.all(results.map(async ({ deviceId }, index) => {
      const session = await routed(clients, addresses[index % addresses.length] as string, (calls) => calls.getSession(deviceId, 'day-1'));
      return { deviceId, state: session.state, committed: session.committedBytes, chunks: session.sources[0]?.committedChunks };
    }));
    // A session whose Upload answer raced a leader change may still be completing: give its actor time.
    const notComplete = states.filter(({ state }) => state !== SessionState.COMPLETE).map(({ deviceId }) => deviceId);
    for (const deviceId of notComplete) {
      const index = Number(deviceId.slice('fleet-'.length));
      await routed(clients, addresses[index % addresses.length] as string, async (calls) => {
        const session = await calls.getSession(deviceId, 'day-1');
        if (session.state !== SessionState.COMPLETE) throw new TributaryError('NOT_AVAILABLE', `${deviceId} is ${session.state}`, { retriable: true });
        return session;
      });
    }
    expect(states.filter(({ committed, chunks }) => committed !== sourceBytes || chunks !== sourceBytes / chunkBytes)).toEqual([]);
    console.log(JSON.stringify({ devices, seconds: (Date.now() - startedMs) / 1000, retried: Object.fromEntries([...new Set(retried)].map((code) => [code, retried.filter((seen) => seen === code).length])), notCompleteAtFirstLook: notComplete.length }));
  }, 240_000);
});
