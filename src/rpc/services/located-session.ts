import type { IngestPartition } from '../../ingest/ingest-partition.js';
import type { UploadSession } from '../../ingest/upload-session.js';
import type { IngestLeaders } from './ingest-leaders.js';
import type { Placement } from './ingest-mapping.js';
import { checkIdentifier } from './ingest-mapping.js';

/** A session found on the leader of its partition, on this broker. */
export interface LocatedSession {
  readonly partition: IngestPartition;
  readonly session: UploadSession;
  readonly placement: Placement;
}

/**
 * The session on this broker, once its declaration is committed: NOT_LEADER with the hint when
 * another broker leads its partition, SESSION_NOT_FOUND when nobody declared it, TIMEOUT when its
 * declaration does not commit before `deadlineMs`.
 */
export async function locateSession(leaders: IngestLeaders, deviceId: string, sessionId: string, deadlineMs: number, stop: AbortSignal): Promise<LocatedSession> {
  checkIdentifier('device id', deviceId);
  checkIdentifier('session id', sessionId);
  const located = await leaders.placementOfSession(deviceId, sessionId);
  const partition = await leaders.partitionAt(located);
  const session = partition.state.require(deviceId, sessionId);
  await partition.waitCommitted(session.declarationLogOffset, deadlineMs, stop);
  return { partition, session, placement: { ...located, leaderEpoch: partition.log.leaderEpoch } };
}
