import { createHash, timingSafeEqual } from 'node:crypto';
import { type ServerInterceptor, ServerInterceptingCall } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import { toGrpcStatus } from '../error-status.js';
import { parseRpcMethod } from './rpc-method.js';

/** Metadata key carrying `Bearer <token>`, as in HTTP. */
export const authorizationMetadataKey = 'authorization';

/** Health checks stay open so load balancers and probes need no credentials. */
const unauthenticatedServices: ReadonlySet<string> = new Set(['grpc.health.v1.Health']);

const sha256Bytes = 32;

/**
 * Bearer-token authentication. The server holds only SHA-256 hashes of the tokens (a stolen
 * config reveals no usable token) and compares the presented token's hash against every one of
 * them in constant time, so timing tells an attacker nothing about how close a guess came.
 */
export function createAuthInterceptor(tokenHashesHex: readonly string[]): ServerInterceptor {
  if (tokenHashesHex.length === 0) throw new Error('authentication needs at least one token hash');
  const hashes = tokenHashesHex.map((hex) => Buffer.from(hex, 'hex'));
  if (hashes.some((hash) => hash.length !== sha256Bytes)) throw new Error('every token hash must be 64 hex characters (SHA-256)');
  return (methodDescriptor, call) => {
    if (unauthenticatedServices.has(parseRpcMethod(methodDescriptor.path).service)) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const presented = metadata.get(authorizationMetadataKey)[0];
            const failure = authenticationFailure(typeof presented === 'string' ? presented : undefined, hashes);
            if (failure === undefined) nextMetadata(metadata);
            else call.sendStatus(toGrpcStatus(failure));
          },
        }),
    });
  };
}

function authenticationFailure(authorization: string | undefined, hashes: readonly Buffer[]): TributaryError | undefined {
  const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
  if (token === undefined) {
    return new TributaryError('UNAUTHENTICATED', 'this node requires a bearer token: send metadata "authorization: Bearer <token>"', { retriable: false });
  }
  const presented = createHash('sha256').update(token, 'utf8').digest();
  // Compare against every hash, never stopping early: the loop's duration must not depend on which matched.
  const matched = hashes.reduce((found, hash) => timingSafeEqual(presented, hash) || found, false);
  return matched ? undefined : new TributaryError('UNAUTHENTICATED', 'the bearer token is not valid for this node', { retriable: false });
}
