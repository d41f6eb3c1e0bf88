import type { UploadSessionRecord } from '../../controller/index.js';

/**
 * One device upload session as the controller's catalog records it and every broker's metadata
 * view holds it: deviceId, sessionId, state ('open' | 'receiving' | 'committing' | 'complete' |
 * 'expired' | 'failed' | 'terminated'), topic and partition, committedLength, digest (lowercase hex
 * SHA-256, '' until complete), createdAtMs / updatedAtMs / expiresAtMs (0: never), failure ('' when
 * none) and sources ({ name, contentType, payloadKind, committedBytes, final }). The controller's
 * record is plain data already, so clients use it as it is.
 */
export type UploadSessionCatalogEntry = UploadSessionRecord;

/** The catalog's order: by device, then creation time, then session id. */
export function compareUploadSessions(left: UploadSessionCatalogEntry, right: UploadSessionCatalogEntry): number {
  if (left.deviceId !== right.deviceId) return left.deviceId < right.deviceId ? -1 : 1;
  if (left.createdAtMs !== right.createdAtMs) return left.createdAtMs - right.createdAtMs;
  if (left.sessionId === right.sessionId) return 0;
  return left.sessionId < right.sessionId ? -1 : 1;
}
