import { type ServerInterceptor, ServerInterceptingCall } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import { supportedApiMajorVersions } from '../api-version.js';
import { toGrpcStatus } from '../error-status.js';
import { parseRpcMethod } from './rpc-method.js';

/**
 * Methods that answer whatever major version the caller speaks: version discovery must work for
 * an incompatible client, or it could never learn why its other calls fail.
 */
const versionDiscoveryPaths: ReadonlySet<string> = new Set(['/tributary.pipeline.v1.PipelineService/GetVersion']);

interface VersionedRequest {
  header?: { apiVersion?: { major: number; minor: number } | undefined } | undefined;
}

/**
 * Enforces the wire contract's versioning rule (docs/PROTOCOL.md): the first request message of
 * every Tributary call carries `header.api_version`, and a major version this server does not
 * speak is refused with VERSION_MISMATCH before any handler sees the request. A streaming handler
 * starts before the first message; once the call is refused, the call registry drops its output.
 */
export const apiVersionInterceptor: ServerInterceptor = (methodDescriptor, call) => {
  if (!parseRpcMethod(methodDescriptor.path).isTributary) return new ServerInterceptingCall(call);
  let checked = false;
  let rejected = false;
  return new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMessage: (message: VersionedRequest, nextMessage) => {
          if (rejected) return;
          if (!checked) {
            checked = true;
            const error = versionError(methodDescriptor.path, message);
            if (error !== undefined) {
              rejected = true;
              call.sendStatus(toGrpcStatus(error));
              return;
            }
          }
          nextMessage(message);
        },
        onReceiveHalfClose: (nextHalfClose) => {
          if (!rejected) nextHalfClose();
        },
      }),
  });
};

function versionError(path: string, message: VersionedRequest): TributaryError | undefined {
  const apiVersion = message?.header?.apiVersion;
  if (apiVersion === undefined) {
    return new TributaryError('INVALID_REQUEST', `${path}: the request has no header.api_version; every Tributary request carries RequestHeader as field 1 (docs/PROTOCOL.md)`);
  }
  if (!supportedApiMajorVersions.has(apiVersion.major) && !versionDiscoveryPaths.has(path)) {
    const supported = [...supportedApiMajorVersions].join(', ');
    return new TributaryError('VERSION_MISMATCH', `${path}: api_version ${apiVersion.major}.${apiVersion.minor} is not supported; this server speaks major version(s) ${supported}`, { retriable: false });
  }
  return undefined;
}
