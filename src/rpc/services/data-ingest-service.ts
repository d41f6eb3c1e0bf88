import type { handleClientStreamingCall, handleServerStreamingCall } from '@grpc/grpc-js';
import type { Clock } from '../../actors/clock.js';
import { TributaryError } from '../../errors/index.js';
import { sameSources } from '../../ingest/upload-session.js';
import type { Logger, MetricsRegistry } from '../../observability/index.js';
import {
  type CreateSessionRequest, type CreateSessionResponse, DataIngestServiceService, type GetOffsetRequest, type GetOffsetResponse, type GetSessionRequest,
  type GetSessionResponse, type ListSessionsRequest, type ReadSessionRequest, type ReadSessionResponse, type TerminateSessionRequest, type TerminateSessionResponse, type UploadRequest,
  type UploadResponse,
} from '../generated/tributary/ingest/v1/data_ingest_service.js';
import type { RpcService } from '../server/rpc-server.js';
import type { BrokerPartitions } from './broker-partitions.js';
import { type IngestBroker, IngestLeaders } from './ingest-leaders.js';
import { declarationOf, progressToWire, sessionInfoOf, sessionStateToWire } from './ingest-mapping.js';
import { type IngestSettings } from './ingest-settings.js';
import { LeaderChanges } from './leader-changes.js';
import { listSessions } from './list-sessions.js';
import { locateSession, type LocatedSession } from './located-session.js';
import { ReadSessionStream } from './read-session-stream.js';
import { registerIngestMetrics } from './ingest-metrics.js';
import { serveUnary } from './serve-unary.js';
import { UploadByteBudget } from './upload-byte-budget.js';
import { UploadCall } from './upload-call.js';

export interface DataIngestServiceOptions {
  readonly partitions: BrokerPartitions;
  readonly broker: () => IngestBroker | undefined;
  readonly settings: IngestSettings;
  readonly batchBytesMax: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
}

const terminationReasonLengthMax = 1024;

/**
 * `tributary.ingest.v1.DataIngestService` on a broker (docs/INGEST.md): resumable uploads of
 * device sessions into ingest topics, served by the leader of each session's partition.
 */
export function createDataIngestService(options: DataIngestServiceOptions): RpcService {
  const { partitions, settings, clock, logger } = options;
  const leaders = new IngestLeaders({ ...options, changes: new LeaderChanges() });
  const metrics = registerIngestMetrics(options.metrics);
  const budget = new UploadByteBudget(settings.nodeUncommittedBytesMax);
  const stop = partitions.shutdownSignal;
  const deadlineMs = () => clock.nowMs() + settings.appendTimeoutMs;
  const upload: handleClientStreamingCall<UploadRequest, UploadResponse> = (call, callback) => new UploadCall(call, callback, { leaders, budget, metrics, clock, stop, logger }).start();
  const readSession: handleServerStreamingCall<ReadSessionRequest, ReadSessionResponse> = (call) => new ReadSessionStream(call, { leaders, clock, stop }).start();
  return {
    definition: DataIngestServiceService,
    implementation: {
      createSession: serveUnary((request: CreateSessionRequest) => createSession(leaders, request, clock, deadlineMs(), stop)),
      upload,
      getOffset: serveUnary((request: GetOffsetRequest) => getOffset(leaders, request, clock, stop)),
      getSession: serveUnary(async (request: GetSessionRequest): Promise<GetSessionResponse> => {
        const located = await locateSession(leaders, request.deviceId, request.sessionId, deadlineMs(), stop);
        return { session: sessionInfoOf(located.partition, located.session, located.placement) };
      }),
      listSessions: serveUnary((request: ListSessionsRequest) => Promise.resolve(listSessions(leaders, request))),
      terminateSession: serveUnary((request: TerminateSessionRequest) => terminateSession(leaders, request, deadlineMs(), stop)),
      readSession,
    },
  };
}

async function createSession(leaders: IngestLeaders, request: CreateSessionRequest, clock: Clock, deadlineMs: number, stop: AbortSignal): Promise<CreateSessionResponse> {
  const { settings } = leaders;
  const declaration = declarationOf(request, settings, clock.nowMs());
  const placement = await leaders.placementOf(request.topic === '' ? settings.defaultTopic : request.topic, declaration.deviceId);
  const partition = await leaders.partitionAt(placement);
  const { session, created } = await partition.create(declaration, deadlineMs, stop);
  if (!created && !sameSources(session.declaration.sources, declaration.sources)) {
    throw new TributaryError('INVALID_REQUEST', `${session.where} exists with different sources; a repeated CreateSession must declare the same ones`);
  }
  return {
    session: sessionInfoOf(partition, session, { ...placement, leaderEpoch: partition.log.leaderEpoch }),
    created,
    maxChunkBytes: settings.maxChunkBytes,
    recommendedCallBytes: settings.recommendedCallBytes,
  };
}

/** GetOffset, optionally a long poll: answers once a listed source moved past what the caller knows. */
async function getOffset(leaders: IngestLeaders, request: GetOffsetRequest, clock: Clock, stop: AbortSignal): Promise<GetOffsetResponse> {
  const waitMs = Math.min(request.maxWaitMs, leaders.settings.getOffsetWaitMsMax);
  const deadlineMs = clock.nowMs() + Math.max(waitMs, leaders.settings.appendTimeoutMs);
  const located = await locateSession(leaders, request.deviceId, request.sessionId, deadlineMs, stop);
  for (const name of request.sources) located.session.source(name);
  const pollDeadlineMs = clock.nowMs() + waitMs;
  while (waitMs > 0 && !movedPast(located, request) && clock.nowMs() < pollDeadlineMs) {
    const outcome = await located.partition.log.waitForChange(pollDeadlineMs, stop);
    if (outcome !== 'changed') break;
  }
  return offsetsOf(located, request.sources);
}

function offsetsOf(located: LocatedSession, sources: readonly string[]): GetOffsetResponse {
  const highWatermark = located.partition.log.highWatermark();
  const progress = located.session.progress(highWatermark).filter((entry) => sources.length === 0 || sources.includes(entry.source));
  return { state: sessionStateToWire(located.session.state(highWatermark)), sources: progressToWire(progress) };
}

/** Whether the long poll has news: a source past its known offset or final, or the session ended. */
function movedPast(located: LocatedSession, request: GetOffsetRequest): boolean {
  const highWatermark = located.partition.log.highWatermark();
  const { session } = located;
  if (['complete', 'expired', 'failed', 'terminated'].includes(session.state(highWatermark))) return true;
  const known = Object.entries(request.knownOffsetBytes);
  const progress = session.progress(highWatermark);
  if (known.length === 0) return false;
  return known.some(([source, offset]) => {
    const entry = progress.find((candidate) => candidate.source === source);
    return entry !== undefined && (entry.committedBytes > offset || entry.final);
  });
}

async function terminateSession(leaders: IngestLeaders, request: TerminateSessionRequest, deadlineMs: number, stop: AbortSignal): Promise<TerminateSessionResponse> {
  if (request.reason.length < 1 || request.reason.length > terminationReasonLengthMax) {
    throw new TributaryError('INVALID_REQUEST', `a termination reason is 1-${terminationReasonLengthMax} characters; got ${request.reason.length}`);
  }
  const located = await locateSession(leaders, request.deviceId, request.sessionId, deadlineMs, stop);
  const clientId = request.header?.clientId ?? '';
  await located.partition.terminate(located.session, clientId === '' ? request.reason : `${clientId}: ${request.reason}`, deadlineMs, stop);
  return { session: sessionInfoOf(located.partition, located.session, located.placement) };
}
