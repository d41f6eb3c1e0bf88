import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/broker/partition-for-key.js';
import { TributaryError } from '../../src/errors/index.js';
import { SessionState } from '../../src/rpc/generated/tributary/ingest/v1/ingest_types.js';
import { Acks } from '../../src/rpc/generated/tributary/client/v1/producer_service.js';
import { batchOf, dataPlaneClients, failureOf as dataPlaneFailureOf, header as dataPlaneHeader, unary } from '../support/data-plane-calls.js';
import { eventually } from '../support/eventually.js';
import { binarySource, chunksOf, IngestCalls, sha256, UploadFailure } from '../support/ingest-calls.js';
import { startTestNode } from '../support/test-node.js';

type Node = Awaited<ReturnType<typeof startTestNode>>;

async function failureOf(work: Promise<unknown>): Promise<UploadFailure> {
  try {
    await work;
  } catch (error) {
    if (error instanceof UploadFailure) return error;
    throw error;
  }
  throw new Error('the upload succeeded');
}

async function errorOf(work: Promise<unknown>): Promise<TributaryError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof TributaryError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

/** The session digest as ingest_types.proto defines it, computed independently of the server. */
function sessionDigest(sources: Array<{ name: string; bytes: Buffer }>): string {
  const hash = createHash('sha256');
  for (const { name, bytes } of [...sources].sort((left, right) => Buffer.compare(Buffer.from(left.name), Buffer.from(right.name)))) {
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(bytes.length));
    hash.update(Buffer.from(name)).update(Buffer.from([0])).update(length).update(sha256(bytes));
  }
  return hash.digest('hex');
}

describe('DataIngestService on a combined node (real gRPC and RocksDB)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trib-ingest-'));
  let node: Node;
  let calls: IngestCalls;

  beforeAll(async () => {
    node = await startTestNode({ dataDir });
    calls = new IngestCalls(node.grpcAddress);
  }, 60_000);

  afterAll(async () => {
    calls?.close();
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('places a session by its device id, stores chunks once committed, reads them back and completes with the session digest', async () => {
    const mic = randomBytes(300_000);
    const imu = randomBytes(70_000);
    const created = await calls.createSession('device-a', 'walk-1', [binarySource('mic', mic.length), binarySource('imu')]);
    expect(created.created).toBe(true);
    expect(created.session?.state).toBe(SessionState.OPEN);
    expect(created.session?.placement?.topicPartition).toEqual({ topic: 'ingest', partition: partitionForKey(Buffer.from('device-a'), 6) });
    expect((await calls.createSession('device-a', 'walk-1', [binarySource('mic', mic.length), binarySource('imu')])).created).toBe(false);
    expect((await errorOf(calls.createSession('device-a', 'walk-1', [binarySource('mic')]))).code).toBe('INVALID_REQUEST');

    const interleaved = [...chunksOf('mic', mic, 64 * 1024), ...chunksOf('imu', imu, 16 * 1024)].sort((left, right) => left.offsetBytes - right.offsetBytes);
    const answer = await calls.upload('device-a', 'walk-1', interleaved);
    expect(answer).toMatchObject({ state: SessionState.COMPLETE, committedBytes: mic.length + imu.length, duplicateBytes: 0, chunksReceived: interleaved.length });
    expect(answer.sources).toEqual([{ source: 'mic', committedOffsetBytes: mic.length, final: true }, { source: 'imu', committedOffsetBytes: imu.length, final: true }]);

    const pieces = await calls.readSession('device-a', 'walk-1', 'mic');
    expect(Buffer.concat(pieces.map((piece) => piece.payload)).equals(mic)).toBe(true);
    expect(pieces[0]?.sourceInfo?.sha256.toString('hex')).toBe(sha256(mic).toString('hex'));
    expect(pieces.at(-1)?.final).toBe(true);
    const session = await calls.getSession('device-a', 'walk-1');
    expect(session.sessionSha256.toString('hex')).toBe(sessionDigest([{ name: 'mic', bytes: mic }, { name: 'imu', bytes: imu }]));
    const listed = await eventually(async () => {
      const { sessions } = await calls.listSessions('device-a');
      return sessions.find((entry) => entry.sessionId === 'walk-1' && entry.state === SessionState.COMPLETE);
    }, 10_000, 'the catalog to record the completed session');
    expect(listed.sessionSha256.toString('hex')).toBe(session.sessionSha256.toString('hex'));
    expect(listed.committedBytes).toBe(mic.length + imu.length);
  });

  it('acknowledges repeated committed bytes without storing them again, and stores only the new tail of an overlap', async () => {
    const bytes = randomBytes(40_000);
    await calls.createSession('device-b', 'repeat', [binarySource('mic')]);
    await calls.upload('device-b', 'repeat', [{ source: 'mic', offsetBytes: 0, payload: bytes.subarray(0, 20_000) }]);
    const repeat = await calls.upload('device-b', 'repeat', [{ source: 'mic', offsetBytes: 0, payload: bytes.subarray(0, 20_000) }, { source: 'mic', offsetBytes: 10_000, payload: bytes.subarray(10_000, 30_000) }]);
    expect(repeat).toMatchObject({ committedBytes: 10_000, duplicateBytes: 30_000 });
    const info = await calls.getSession('device-b', 'repeat');
    expect(info.sources[0]).toMatchObject({ committedOffsetBytes: 30_000, committedChunks: 2 });
  });

  it('refuses a bad CRC, a gap, a mismatching overlap and a wrong SHA-256 with the reason and the committed offsets', async () => {
    const bytes = randomBytes(10_000);
    await calls.createSession('device-c', 'bad', [binarySource('mic')]);
    await calls.upload('device-c', 'bad', [{ source: 'mic', offsetBytes: 0, payload: bytes.subarray(0, 4_000) }]);

    const corrupt = await failureOf(calls.upload('device-c', 'bad', [{ source: 'mic', offsetBytes: 4_000, payload: bytes.subarray(4_000, 6_000), crc32c: 1 }]));
    expect(corrupt.error.code).toBe('CHECKSUM_MISMATCH');
    expect(corrupt.ack?.sources).toEqual([{ source: 'mic', committedOffsetBytes: 4_000, final: false }]);
    const gap = await failureOf(calls.upload('device-c', 'bad', [{ source: 'mic', offsetBytes: 5_000, payload: bytes.subarray(5_000, 6_000) }]));
    expect(gap.error.code).toBe('OFFSET_MISMATCH');
    expect(gap.error.message).toContain('continues at byte 4000');
    const altered = Buffer.from(bytes.subarray(2_000, 6_000));
    altered[10] = (altered[10] as number) ^ 0xff;
    expect((await failureOf(calls.upload('device-c', 'bad', [{ source: 'mic', offsetBytes: 2_000, payload: altered }]))).error.code).toBe('OFFSET_MISMATCH');
    expect((await failureOf(calls.upload('device-c', 'bad', [{ source: 'nope', offsetBytes: 0, payload: bytes }]))).error.code).toBe('INVALID_REQUEST');

    const wrongDigest = await failureOf(calls.upload('device-c', 'bad', [{ source: 'mic', offsetBytes: 4_000, payload: bytes.subarray(4_000), final: true, sha256: sha256(Buffer.from('other')) }]));
    expect(wrongDigest.error.code).toBe('DIGEST_MISMATCH');
    const failed = await eventually(async () => {
      const session = await calls.getSession('device-c', 'bad');
      return session.state === SessionState.FAILED ? session : undefined;
    }, 10_000, 'the session to fail');
    expect(failed.failure?.message).toContain('SHA-256');
    expect(failed.sources[0]?.committedOffsetBytes).toBe(4_000);
    expect((await failureOf(calls.upload('device-c', 'bad', [{ source: 'mic', offsetBytes: 4_000, payload: bytes.subarray(4_000, 5_000) }]))).error.code).toBe('SESSION_CLOSED');
  });

  it('answers unknown, terminated and idle-expired sessions with a clear error', async () => {
    expect((await errorOf(calls.getOffset('device-d', 'never'))).code).toBe('SESSION_NOT_FOUND');
    await calls.createSession('device-d', 'stop', [binarySource('mic')]);
    const { session } = await calls.terminate('device-d', 'stop', 'user cancelled');
    expect(session.state).toBe(SessionState.TERMINATED);
    expect(session.terminationReason).toBe('ingest-test: user cancelled');
    const closed = await failureOf(calls.upload('device-d', 'stop', [{ source: 'mic', offsetBytes: 0, payload: Buffer.from('x') }]));
    expect(closed.error.code).toBe('SESSION_CLOSED');

    await calls.createSession('device-d', 'idle', [binarySource('mic')], { idleTimeoutMs: 1_000 });
    await calls.upload('device-d', 'idle', [{ source: 'mic', offsetBytes: 0, payload: Buffer.from('first') }]);
    const expired = await eventually(async () => {
      const offsets = await calls.getOffset('device-d', 'idle');
      return offsets.state === SessionState.EXPIRED ? offsets : undefined;
    }, 15_000, 'the idle session to expire');
    expect(expired.sources).toEqual([{ source: 'mic', committedOffsetBytes: 5, final: false }]);
  });

  it('long-polls GetOffset until a chunk commits', async () => {
    await calls.createSession('device-e', 'poll', [binarySource('mic')]);
    const waiting = calls.getOffset('device-e', 'poll', { knownOffsetBytes: { mic: 0 }, maxWaitMs: 10_000 });
    await calls.upload('device-e', 'poll', [{ source: 'mic', offsetBytes: 0, payload: Buffer.from('hello') }]);
    expect((await waiting).sources).toEqual([{ source: 'mic', committedOffsetBytes: 5, final: false }]);
  });

  it('refuses producers on the ingest topic: its records come from uploads only', async () => {
    const clients = dataPlaneClients(node.grpcAddress);
    try {
      const produce = unary(clients.producer.produce.bind(clients.producer), {
        header: dataPlaneHeader(), partitionBatch: { topicPartition: { topic: 'ingest', partition: 0 }, batch: batchOf(['forged']), currentLeaderEpoch: 0 }, acks: Acks.ALL, timeoutMs: 0,
      });
      const refused = await dataPlaneFailureOf(produce);
      expect(refused.code).toBe('INVALID_REQUEST');
      expect(refused.message).toContain('ingest topic');
    } finally {
      clients.close();
    }
  });

  it('counts committed bytes, chunk results and active sessions in its metrics', async () => {
    const scraped = await (await fetch(`http://${node.metricsAddress}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(scraped)?.[1] ?? Number.NaN);
    expect(value(/^trib_upload_bytes_committed_total (\d+)/m)).toBeGreaterThanOrEqual(300_000 + 70_000);
    expect(value(/^trib_upload_duplicate_bytes_total (\d+)/m)).toBeGreaterThanOrEqual(30_000);
    expect(value(/^trib_upload_chunks_total\{result="CHECKSUM_MISMATCH"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^trib_upload_chunks_total\{result="DIGEST_MISMATCH"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    // device-e's session is still receiving: its actor is live.
    expect(value(/^trib_upload_sessions_active (\d+)/m)).toBeGreaterThanOrEqual(1);
  });

  it('rebuilds sessions from the log after a restart, and the upload resumes where it was committed', async () => {
    const bytes = randomBytes(200_000);
    await calls.createSession('device-f', 'resume', [binarySource('mic', bytes.length)]);
    await calls.upload('device-f', 'resume', chunksOf('mic', bytes, 50_000).slice(0, 2));
    calls.close();
    await node.stop();
    node = await startTestNode({ dataDir });
    calls = new IngestCalls(node.grpcAddress);
    const offsets = await eventually(async () => {
      try {
        return await calls.getOffset('device-f', 'resume');
      } catch (error) {
        if (error instanceof TributaryError && error.retriable) return undefined;
        throw error;
      }
    }, 30_000, 'the restarted node to serve the session');
    expect(offsets.sources).toEqual([{ source: 'mic', committedOffsetBytes: 100_000, final: false }]);
    // As a collector would: resume from the committed offset after a retriable failure (the
    // restarted broker may take a new leader epoch while it re-registers).
    const answer = await eventually(async () => {
      try {
        const offsets = await calls.getOffset('device-f', 'resume');
        const { sources } = offsets;
        if (sources[0]?.final === true) return offsets;
        return await calls.upload('device-f', 'resume', chunksOf('mic', bytes, 50_000, sources[0]?.committedOffsetBytes ?? 0));
      } catch (error) {
        const cause = error instanceof UploadFailure ? error.error : error;
        if (cause instanceof TributaryError && cause.retriable) return undefined;
        throw error;
      }
    }, 30_000, 'the resumed upload');
    expect(answer.sources).toEqual([{ source: 'mic', committedOffsetBytes: bytes.length, final: true }]);
    // The restarted broker may still be re-registering (the catalog refuses it until then) or
    // take a new leader epoch meanwhile: the session's device-session actor completes it then.
    await eventually(async () => ((await calls.getSession('device-f', 'resume')).state === SessionState.COMPLETE ? true : undefined), 30_000, 'the session to complete');
    const pieces = await calls.readSession('device-f', 'resume', 'mic');
    expect(sha256(Buffer.concat(pieces.map((piece) => piece.payload))).equals(sha256(bytes))).toBe(true);
    // Sessions completed before the restart are still served, complete.
    expect((await calls.getSession('device-a', 'walk-1')).state).toBe(SessionState.COMPLETE);
  }, 90_000);
});
