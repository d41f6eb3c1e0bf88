import { TributaryError } from '../../errors/index.js';
import type { SessionState as DomainSessionState } from '../../ingest/ingest-types.js';
import type { CatalogEntry } from '../../ingest/session-catalog.js';
import type { ListSessionsRequest, ListSessionsResponse } from '../generated/tributary/ingest/v1/data_ingest_service.js';
import { PayloadKind, type SessionInfo, SessionState } from '../generated/tributary/ingest/v1/ingest_types.js';
import type { IngestLeaders } from './ingest-leaders.js';
import { placementToWire, sessionStateToWire } from './ingest-mapping.js';

const pageSizeDefault = 100;
const pageSizeMax = 1000;
const domainStateByWire = new Map<SessionState, DomainSessionState>([
  [SessionState.OPEN, 'open'], [SessionState.RECEIVING, 'receiving'], [SessionState.COMMITTING, 'committing'], [SessionState.COMPLETE, 'complete'],
  [SessionState.EXPIRED, 'expired'], [SessionState.FAILED, 'failed'], [SessionState.TERMINATED, 'terminated'],
]);
const payloadKindToWire = { binary: PayloadKind.BINARY, json: PayloadKind.JSON, sensor: PayloadKind.SENSOR } as const;

/**
 * ListSessions from the controller's catalog as this broker's metadata has it (any broker answers;
 * progress of active sessions lags the leader by the catalog's update interval). Pages are cut in
 * catalog order; the page token is the position of the last session returned, so a session
 * created meanwhile never makes a page repeat or skip another.
 */
export function listSessions(leaders: IngestLeaders, request: ListSessionsRequest): ListSessionsResponse {
  const pageSize = request.pageSize === 0 ? pageSizeDefault : request.pageSize;
  if (pageSize > pageSizeMax) throw new TributaryError('INVALID_REQUEST', `page_size ${request.pageSize} is more than ${pageSizeMax}`);
  const states = request.states.map((state) => {
    const domain = domainStateByWire.get(state);
    if (domain === undefined) throw new TributaryError('INVALID_REQUEST', `states: ${state} is not a session state`);
    return domain;
  });
  const after = request.pageToken === '' ? undefined : positionOf(request.pageToken);
  const matching = leaders.catalogSessions({ deviceIdPrefix: request.deviceId === '' ? undefined : request.deviceId, states: states.length === 0 ? undefined : states })
    .filter((entry) => request.deviceId === '' || entry.deviceId === request.deviceId)
    .filter((entry) => (request.createdAfterMs === 0 || entry.createdAtMs >= request.createdAfterMs) && (request.createdBeforeMs === 0 || entry.createdAtMs < request.createdBeforeMs))
    .filter((entry) => after === undefined || comparePosition(positionFrom(entry), after) > 0);
  const page = matching.slice(0, pageSize);
  const last = page.at(-1);
  return { sessions: page.map(sessionInfoFromCatalog), nextPageToken: matching.length > pageSize && last !== undefined ? tokenOf(positionFrom(last)) : '' };
}

type Position = readonly [string, number, string];

function positionFrom(entry: CatalogEntry): Position {
  return [entry.deviceId, entry.createdAtMs, entry.sessionId];
}

function comparePosition(left: Position, right: Position): number {
  if (left[0] !== right[0]) return left[0] < right[0] ? -1 : 1;
  if (left[1] !== right[1]) return left[1] - right[1];
  return left[2] === right[2] ? 0 : left[2] < right[2] ? -1 : 1;
}

function tokenOf(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function positionOf(token: string): Position {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 3 && typeof parsed[0] === 'string' && Number.isSafeInteger(parsed[1]) && typeof parsed[2] === 'string') return [parsed[0], parsed[1] as number, parsed[2]];
  } catch {
    // Reported below with the token.
  }
  throw new TributaryError('INVALID_REQUEST', `page_token "${token}" is not a token ListSessions returned`);
}

function sessionInfoFromCatalog(entry: CatalogEntry): SessionInfo {
  return {
    deviceId: entry.deviceId, sessionId: entry.sessionId, state: sessionStateToWire(entry.state),
    sources: entry.sources.map((source) => ({
      spec: { name: source.name, contentType: source.contentType, payloadKind: payloadKindToWire[source.payloadKind], declaredLengthBytes: undefined, sensor: undefined },
      committedOffsetBytes: source.committedBytes, final: source.final, sha256: Buffer.alloc(0), committedChunks: 0, lastCommitMs: 0,
    })),
    placement: placementToWire({ topic: entry.topic, partition: entry.partition, leaderNodeId: 0, leaderAddress: '', leaderEpoch: 0 }),
    metadata: {}, createdAtMs: entry.createdAtMs, updatedAtMs: entry.updatedAtMs, expiresAtMs: entry.expiresAtMs, idleTimeoutMs: 0,
    endedAtMs: 0, committedBytes: entry.committedLength, sessionSha256: Buffer.from(entry.digest, 'hex'), failure: undefined,
    terminationReason: entry.state === 'terminated' ? entry.failure : '',
  };
}
