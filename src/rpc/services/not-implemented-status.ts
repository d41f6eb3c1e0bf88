import { status as GrpcStatus, type StatusObject } from '@grpc/grpc-js';
import { TributaryError } from '../../errors/index.js';
import { toGrpcStatus } from '../error-status.js';

/**
 * The answer to a method of the contract that a later issue builds: gRPC UNIMPLEMENTED, so generic
 * tools see what it is, with the ErrorDetail a client would make of a bare UNIMPLEMENTED
 * (non-retriable NOT_AVAILABLE, docs/PROTOCOL.md §3), whose message says which issue brings it and
 * what to use meanwhile.
 */
export function notImplementedStatus(method: string, issue: number, meanwhile: string): StatusObject {
  const error = new TributaryError('NOT_AVAILABLE', `${method} is not implemented yet (issue #${issue}); ${meanwhile}`, { retriable: false });
  return { ...toGrpcStatus(error), code: GrpcStatus.UNIMPLEMENTED };
}
