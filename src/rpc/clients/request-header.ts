import { randomUUID } from 'node:crypto';
import { contractApiVersion } from '../api-version.js';
import type { RequestHeader } from '../generated/tributary/common/v1/common.js';

/** The header every request carries (docs/PROTOCOL.md): contract version, caller, fresh id. */
export function newRequestHeader(clientId: string, traceId = ''): RequestHeader {
  return { apiVersion: { ...contractApiVersion }, clientId, requestId: randomUUID(), traceId };
}
