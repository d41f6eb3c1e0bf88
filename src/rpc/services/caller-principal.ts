import { createHash } from 'node:crypto';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { authorizationMetadataKey } from '../server/auth-interceptor.js';

/** The principal of a call that presents neither a bearer token nor a client certificate. */
export const anonymousPrincipal = 'anonymous';

/**
 * Who is calling, as far as this node can tell: the bearer token (by its SHA-256, so the token
 * itself is never kept) and the mTLS client certificate (by its SHA-256 fingerprint). The auth
 * interceptor has already checked the token when authentication is on; here it only names the
 * caller, so that a subscription's credit can be granted only by whoever opened it.
 */
export function callerPrincipal(call: Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'getAuthContext'>): string {
  const parts: string[] = [];
  const authorization = call.metadata.get(authorizationMetadataKey)[0];
  if (typeof authorization === 'string' && authorization.length > 0) parts.push(`token:${createHash('sha256').update(authorization, 'utf8').digest('hex')}`);
  const fingerprint = call.getAuthContext().sslPeerCertificate?.fingerprint256;
  if (fingerprint !== undefined && fingerprint.length > 0) parts.push(`certificate:${fingerprint}`);
  return parts.length === 0 ? anonymousPrincipal : parts.join(' ');
}
