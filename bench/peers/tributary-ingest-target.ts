// Tributary as the ingest benchmark's subject (bench/ingest.ts): three combined nodes
// (bench/peers/tributary-bench-cluster.ts, durability fsync) serving DataIngestService, whose
// default ingest topic ("ingest": 6 partitions, replication factor 3 with three brokers) is
// created by the first CreateSession. Each device uploads one binary source in equal chunks over
// the generated grpc-js client (src/rpc/generated/tributary/ingest/v1), as
// .scratch-exp/ingest-smoke.ts does; the SDK's IngestClient and SessionUploader were not in the
// tree when this was written. Sessions are created before the window (CreateSession sent to any
// node, following NOT_LEADER hints, retried while the topic's partitions open); in the window
// every device sends all its chunks in one Upload call to the leader its session's placement
// names, as fast as HTTP/2 flow control lets it (the broker stops reading while 32 MiB of a call
// await commit), the last chunk final with the source's SHA-256, and the call's answer comes once
// every chunk is committed on the in-sync replicas (fsynced on each) and the session completed.
// A failure while leadership moves (NOT_LEADER, NOT_AVAILABLE, NOT_ENOUGH_REPLICAS, SHUTTING_DOWN)
// resumes from the committed offset the failure's ack trailer (or GetOffset) reports, at the
// leader it hints, and is counted in the result; anything else, TIMEOUT included (an append not
// committed within the broker's 30 s), fails the run with the nodes' logs: a stall is a finding.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { Admin } from '../../src/client/index.js';
import { TributaryError } from '../../src/errors/index.js';
import { newRequestHeader } from '../../src/rpc/clients/request-header.js';
import { fromGrpcError } from '../../src/rpc/error-status.js';
import { type CreateSessionResponse, DataIngestServiceClient, type GetOffsetResponse, type UploadRequest, UploadResponse } from '../../src/rpc/generated/tributary/ingest/v1/data_ingest_service.js';
import { PayloadKind, SessionState } from '../../src/rpc/generated/tributary/ingest/v1/ingest_types.js';
import { uploadAckTrailer } from '../../src/rpc/services/upload-call.js';
import { transportChannelOptions } from '../../src/rpc/transport-windows.js';
import { crc32c } from '../../src/storage/crc32c.js';
import { TributaryBenchCluster } from './tributary-bench-cluster.js';
import { measureUploads, type UploadResult } from './upload-window.js';

export const ingestTopic = 'ingest';
export const replicationFactor = 3;
const clientId = 'bench-ingest';
const sourceName = 'recording';
/** Tries of one call (CreateSession, GetOffset, or an Upload resumed) before the run fails. */
const attemptsMax = 20;
/** The failures an Upload resumes after: leadership and replicas moving, not a stalled cluster. */
const uploadRetriedCodes: ReadonlySet<string> = new Set(['NOT_LEADER', 'NOT_AVAILABLE', 'NOT_ENOUGH_REPLICAS', 'SHUTTING_DOWN']);
const retryDelayMsMax = 500;
/** Deadline of a setup call; an Upload call's is `uploadCallDeadlineMs`. */
const unaryDeadlineMs = 30_000;
/** A device's whole source goes in one call: bound it well above a slow run's window. */
const uploadCallDeadlineMs = 600_000;
const connectTimeoutMs = 10_000;

export interface IngestUploadResult extends UploadResult {
  /** Retriable failures a device recovered from, by error code (none in a healthy run). */
  readonly retried: Record<string, number>;
  /** Sessions whose Upload answer said COMMITTING instead of COMPLETE (still completing). */
  readonly sessionsNotComplete: number;
}

interface DeviceSession {
  readonly deviceId: string;
  readonly sessionId: string;
  leaderAddress: string;
}

/** One chunk's payload reused for every chunk of every source: its CRC32C and the sources' digests are computed once, outside the window. */
interface SourceContent {
  readonly chunk: Buffer;
  readonly chunkCrc32c: number;
  readonly sourceBytes: number;
  readonly sha256: Buffer;
}

export class TributaryIngestTarget {
  private cluster: TributaryBenchCluster | undefined;
  /** Setup calls (CreateSession, GetOffset), one client per node. */
  private readonly setupClients = new Map<string, DataIngestServiceClient>();
  private measurements = 0;
  private topicSettings: Record<string, unknown> = {};

  constructor(private readonly profileDirectory: string | undefined) {}

  async start(): Promise<void> {
    this.cluster = await TributaryBenchCluster.start(this.profileDirectory);
    for (const address of this.cluster.addresses()) this.setupClients.set(address, newClient(address));
  }

  /** `devices` devices at once, each uploading one source of `chunksPerDevice` chunks of `chunkBytes`. */
  async measureUpload(devices: number, chunksPerDevice: number, chunkBytes: number): Promise<IngestUploadResult> {
    const cluster = this.requireCluster();
    const content = sourceContent(chunkBytes, chunksPerDevice);
    this.measurements += 1;
    const sessions = await Promise.all(Array.from({ length: devices }, (_, index) => this.createSession(`device-${index}`, `upload-${this.measurements}`, content.sourceBytes, index)));
    if (this.measurements === 1) this.topicSettings = await this.describeIngestTopic();
    const deviceClients = sessions.map(() => new Map<string, DataIngestServiceClient>());
    const retried: string[] = [];
    const states: SessionState[] = [];
    try {
      await Promise.all(sessions.map((session, index) => waitForReady(clientFor(deviceClients[index] as Map<string, DataIngestServiceClient>, session.leaderAddress))));
      const result = await measureUploads(devices, async (index) => {
        const response = await this.uploadSource(deviceClients[index] as Map<string, DataIngestServiceClient>, sessions[index] as DeviceSession, content, retried);
        states.push(response.state);
        return content.sourceBytes;
      });
      return { ...result, retried: countByCode(retried), sessionsNotComplete: states.filter((state) => state !== SessionState.COMPLETE).length };
    } catch (error) {
      throw new Error(`tributary: upload of ${devices} device(s) failed: ${String(error)}; whole node logs kept in ${cluster.saveLogs()}; their tails:\n${cluster.logTails()}`, { cause: error });
    } finally {
      for (const clients of deviceClients) for (const client of clients.values()) client.close();
    }
  }

  async stop(): Promise<void> {
    for (const client of this.setupClients.values()) client.close();
    this.setupClients.clear();
    await this.cluster?.stop();
  }

  settings(): Record<string, unknown> {
    return {
      processes: '3 combined nodes (trib node, roles [controller, broker]) on 127.0.0.1, started by trib cluster up, durability fsync',
      topic: { name: ingestTopic, ...this.topicSettings, createdBy: 'the first CreateSession (DataIngestService default ingest topic)' },
      acknowledgement: 'one Upload answer per device, once every chunk is committed on the in-sync replicas (each fsynced) and the session completed (state COMPLETE), SHA-256 checked by the broker',
      client: 'generated grpc-js DataIngestServiceClient (the SDK IngestClient/SessionUploader were not in the tree), one connection per device with Tributary\'s channel window, sessions created before the window, each source in one Upload call to its partition leader, chunks written as fast as the stream drains; chunk CRC32C and source SHA-256 precomputed outside the window (one random chunk repeated)',
    };
  }

  /** CreateSession at any node (spread by `index`), following NOT_LEADER hints and waiting while partitions open. */
  private async createSession(deviceId: string, sessionId: string, sourceBytes: number, index: number): Promise<DeviceSession> {
    const addresses = [...this.setupClients.keys()];
    const request = {
      header: newRequestHeader(clientId), deviceId, sessionId, metadata: {}, expiresAtMs: 0, idleTimeoutMs: 0, topic: '',
      sources: [{ name: sourceName, contentType: 'application/octet-stream', payloadKind: PayloadKind.BINARY, declaredLengthBytes: sourceBytes, sensor: undefined }],
    };
    const created = await this.routed(addresses[index % addresses.length] as string, (client) => unary<CreateSessionResponse>(client, 'createSession', request));
    const leaderAddress = created.session?.placement?.leaderAddress ?? '';
    if (!this.setupClients.has(leaderAddress)) throw new Error(`tributary: session ${deviceId}/${sessionId} was placed on "${leaderAddress}", not a node of this cluster`);
    return { deviceId, sessionId, leaderAddress };
  }

  /** Runs `call` at `address`, then wherever NOT_LEADER points; other retriable failures wait and retry. */
  private async routed<T>(address: string, call: (client: DataIngestServiceClient) => Promise<T>): Promise<T> {
    let target = address;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call(this.setupClients.get(target) as DataIngestServiceClient);
      } catch (error) {
        if (!(error instanceof TributaryError && error.retriable) || attempt >= attemptsMax) throw error;
        const hinted = error.leaderHint?.address ?? '';
        if (error.code === 'NOT_LEADER' && this.setupClients.has(hinted)) target = hinted;
        else await sleep(Math.min(retryDelayMsMax, 50 * attempt));
      }
    }
  }

  /** Uploads the source from its committed offset until its Upload call succeeds; retriable failures resume, others fail the run. */
  private async uploadSource(clients: Map<string, DataIngestServiceClient>, session: DeviceSession, content: SourceContent, retried: string[]): Promise<UploadResponse> {
    let fromBytes = 0;
    for (let attempt = 1; ; attempt++) {
      const outcome: UploadResponse | Error = await uploadCall(clientFor(clients, session.leaderAddress), session, content, fromBytes).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
      if (!(outcome instanceof Error)) return checkedAnswer(outcome, session, content);
      if (!(outcome instanceof UploadFailure) || !uploadRetriedCodes.has(outcome.error.code) || attempt >= attemptsMax) throw outcome instanceof UploadFailure ? outcome.error : outcome;
      retried.push(outcome.error.code);
      const hinted = outcome.error.leaderHint?.address ?? '';
      if (this.setupClients.has(hinted)) session.leaderAddress = hinted;
      fromBytes = outcome.ack?.sources[0]?.committedOffsetBytes ?? (await this.committedOffset(session));
      if (fromBytes % content.chunk.length !== 0) throw new Error(`tributary: ${session.deviceId}/${session.sessionId} committed ${fromBytes} bytes, not a whole number of ${content.chunk.length}-byte chunks`);
      // All bytes committed but the call failed before its answer: send the final chunk again (a repeat is acknowledged).
      if (fromBytes === content.sourceBytes) fromBytes -= content.chunk.length;
      await sleep(Math.min(retryDelayMsMax, 50 * attempt));
    }
  }

  private async committedOffset(session: DeviceSession): Promise<number> {
    const request = { header: newRequestHeader(clientId), deviceId: session.deviceId, sessionId: session.sessionId, sources: [], knownOffsetBytes: {}, maxWaitMs: 0 };
    const offsets = await this.routed(session.leaderAddress, (client) => unary<GetOffsetResponse>(client, 'getOffset', request));
    return offsets.sources[0]?.committedOffsetBytes ?? 0;
  }

  /** Replicas, min ISR and partitions of the ingest topic, and a check that it has the replication factor measured. */
  private async describeIngestTopic(): Promise<Record<string, unknown>> {
    const admin = new Admin({ bootstrap: this.requireCluster().addresses(), deadlineMs: unaryDeadlineMs });
    try {
      const { topics } = await admin.describeTopics([ingestTopic]);
      const topic = topics[0]?.topic;
      if (topic === undefined) throw new Error(`tributary: the ingest topic "${ingestTopic}" is not in the metadata after CreateSession: ${String(topics[0]?.error)}`);
      const replicas = new Set(topic.partitions.map((partition) => partition.replicas.length));
      if (replicas.size !== 1 || !replicas.has(replicationFactor)) throw new Error(`tributary: ingest topic partitions have ${[...replicas].join(', ')} replicas; the benchmark measures replication factor ${replicationFactor}`);
      return { partitions: topic.partitions.length, replicationFactor: topic.config.replicationFactor, minInSyncReplicas: topic.config.minInSyncReplicas, leaders: topic.partitions.map((partition) => partition.leader) };
    } finally {
      admin.close();
    }
  }

  private requireCluster(): TributaryBenchCluster {
    if (this.cluster === undefined) throw new Error('tributary ingest target: not started');
    return this.cluster;
  }
}

class UploadFailure extends Error {
  constructor(readonly error: TributaryError, readonly ack: UploadResponse | undefined) {
    super(error.message, { cause: error });
  }
}

/**
 * One Upload call of the source's chunks from `fromBytes`: written as fast as the stream drains,
 * half-closed after the final chunk, answered once all are committed. Rejects with UploadFailure.
 */
async function uploadCall(client: DataIngestServiceClient, session: DeviceSession, content: SourceContent, fromBytes: number): Promise<UploadResponse> {
  let answered = false;
  let call: ReturnType<DataIngestServiceClient['upload']> | undefined;
  const answer = new Promise<UploadResponse>((resolve, reject) => {
    call = client.upload(new Metadata(), { deadline: Date.now() + uploadCallDeadlineMs }, (error: ServiceError | null, response: UploadResponse) => {
      answered = true;
      if (error === null) return resolve(response);
      const trailer = error.metadata?.get(uploadAckTrailer)[0];
      reject(new UploadFailure(fromGrpcError(error), trailer instanceof Buffer ? UploadResponse.decode(trailer) : undefined));
    });
  });
  if (call === undefined) throw new Error('tributary: no Upload call started');
  const settled = answer.then(() => undefined, () => undefined);
  const { chunk, chunkCrc32c, sourceBytes, sha256 } = content;
  for (let offset = fromBytes; offset < sourceBytes && !answered; offset += chunk.length) {
    const final = offset + chunk.length === sourceBytes;
    const first = offset === fromBytes;
    const request: UploadRequest = {
      header: first ? newRequestHeader(clientId) : undefined, deviceId: first ? session.deviceId : '', sessionId: first ? session.sessionId : '',
      source: sourceName, offsetBytes: offset, crc32c: chunkCrc32c, final, sha256: final ? sha256 : Buffer.alloc(0), payload: { $case: 'binary', value: chunk },
    };
    // A failed call may never drain again: stop waiting once it is answered.
    if (!call.write(request)) await Promise.race([once(call, 'drain').catch(() => undefined), settled]);
  }
  call.end();
  return answer;
}

/** The answer must acknowledge the whole source as final: anything less means the window counted bytes that were not committed. */
function checkedAnswer(response: UploadResponse, session: DeviceSession, content: SourceContent): UploadResponse {
  const progress = response.sources[0];
  if (progress?.committedOffsetBytes !== content.sourceBytes || !progress.final) {
    throw new Error(`tributary: the Upload answer of ${session.deviceId}/${session.sessionId} acknowledged ${JSON.stringify(progress)}, not all ${content.sourceBytes} bytes final`);
  }
  return response;
}

function sourceContent(chunkBytes: number, chunks: number): SourceContent {
  const chunk = randomBytes(chunkBytes);
  const hash = createHash('sha256');
  for (let index = 0; index < chunks; index++) hash.update(chunk);
  return { chunk, chunkCrc32c: crc32c(chunk), sourceBytes: chunkBytes * chunks, sha256: hash.digest() };
}

/** A device's connection: a local subchannel pool, else grpc-js would share one connection between the devices' clients. */
function newClient(address: string): DataIngestServiceClient {
  return new DataIngestServiceClient(address, credentials.createInsecure(), { ...transportChannelOptions, 'grpc.use_local_subchannel_pool': 1 });
}

function clientFor(clients: Map<string, DataIngestServiceClient>, address: string): DataIngestServiceClient {
  let client = clients.get(address);
  if (client === undefined) {
    client = newClient(address);
    clients.set(address, client);
  }
  return client;
}

function waitForReady(client: DataIngestServiceClient): Promise<void> {
  return new Promise((resolve, reject) => client.waitForReady(Date.now() + connectTimeoutMs, (error) => (error === undefined || error === null ? resolve() : reject(error))));
}

function unary<Response>(client: DataIngestServiceClient, method: 'createSession' | 'getOffset', request: object): Promise<Response> {
  return new Promise((resolve, reject) => {
    const invoke = client[method].bind(client) as (request: object, metadata: Metadata, options: object, callback: (error: ServiceError | null, response: Response) => void) => unknown;
    invoke(request, new Metadata(), { deadline: Date.now() + unaryDeadlineMs }, (error, response) => (error === null ? resolve(response) : reject(fromGrpcError(error))));
  });
}

function countByCode(codes: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}
