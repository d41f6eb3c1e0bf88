import { Metadata, status as GrpcStatus, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { type ErrorCode, isErrorCode, TributaryError } from '../errors/index.js';
import {
  ErrorCode as WireErrorCode,
  ErrorDetail,
} from './generated/tributary/common/v1/common.js';

/** The trailer that carries a binary `tributary.common.v1.ErrorDetail` on every failed call. */
export const errorDetailTrailer = 'tributary-error-bin';

/**
 * The gRPC status each Tributary code travels under. Clients read the ErrorDetail trailer for
 * the precise code; the status is chosen so that generic gRPC tooling still draws the right
 * conclusion (retry UNAVAILABLE, don't retry INVALID_ARGUMENT).
 */
const grpcStatusByCode: Record<ErrorCode, GrpcStatus> = {
  UNKNOWN: GrpcStatus.UNKNOWN,
  INVALID_REQUEST: GrpcStatus.INVALID_ARGUMENT,
  NOT_LEADER: GrpcStatus.UNAVAILABLE,
  NOT_AVAILABLE: GrpcStatus.UNAVAILABLE,
  TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  DUPLICATE_REQUEST: GrpcStatus.ALREADY_EXISTS,
  STALE_EPOCH: GrpcStatus.FAILED_PRECONDITION,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  TOPIC_NOT_FOUND: GrpcStatus.NOT_FOUND,
  PARTITION_NOT_FOUND: GrpcStatus.NOT_FOUND,
  OFFSET_OUT_OF_RANGE: GrpcStatus.OUT_OF_RANGE,
  OFFSET_MISMATCH: GrpcStatus.FAILED_PRECONDITION,
  CHECKSUM_MISMATCH: GrpcStatus.INVALID_ARGUMENT,
  NOT_ENOUGH_REPLICAS: GrpcStatus.UNAVAILABLE,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  VERSION_MISMATCH: GrpcStatus.FAILED_PRECONDITION,
  CORRUPT_RECORD: GrpcStatus.DATA_LOSS,
  TOPIC_ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  SESSION_NOT_FOUND: GrpcStatus.NOT_FOUND,
  SESSION_CLOSED: GrpcStatus.FAILED_PRECONDITION,
  OUT_OF_ORDER_SEQUENCE: GrpcStatus.FAILED_PRECONDITION,
  FENCED: GrpcStatus.FAILED_PRECONDITION,
  UNKNOWN_MEMBER: GrpcStatus.FAILED_PRECONDITION,
  ILLEGAL_GENERATION: GrpcStatus.FAILED_PRECONDITION,
  REBALANCE_IN_PROGRESS: GrpcStatus.ABORTED,
  SHUTTING_DOWN: GrpcStatus.UNAVAILABLE,
  NODE_NOT_FOUND: GrpcStatus.NOT_FOUND,
  DIGEST_MISMATCH: GrpcStatus.FAILED_PRECONDITION,
  SUBSCRIPTION_NOT_FOUND: GrpcStatus.NOT_FOUND,
  UNKNOWN_PRODUCER_ID: GrpcStatus.FAILED_PRECONDITION,
};

/**
 * What a client concludes from a failed call that carries no ErrorDetail trailer: the failure
 * happened before any Tributary code ran (connection refused, local deadline, a proxy, an
 * unimplemented method).
 */
const codeByBareGrpcStatus: Partial<Record<GrpcStatus, ErrorCode>> = {
  [GrpcStatus.UNAVAILABLE]: 'NOT_AVAILABLE',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'TIMEOUT',
  [GrpcStatus.INVALID_ARGUMENT]: 'INVALID_REQUEST',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
  [GrpcStatus.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [GrpcStatus.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [GrpcStatus.UNIMPLEMENTED]: 'NOT_AVAILABLE',
};

/** The gRPC status a Tributary code travels under. */
export function grpcStatusFor(code: ErrorCode): GrpcStatus {
  return grpcStatusByCode[code];
}

/** Encodes an error as the ErrorDetail message of the wire contract. */
export function toErrorDetail(error: TributaryError): ErrorDetail {
  return {
    code: WireErrorCode[error.code],
    message: error.message,
    retriable: error.retriable,
    retryAfterMs: error.retryAfterMs,
    leaderHint: error.leaderHint,
  };
}

/** Decodes a wire ErrorDetail; a detail with an unknown or unspecified code becomes UNKNOWN. */
export function fromErrorDetail(detail: ErrorDetail): TributaryError {
  const name = WireErrorCode[detail.code] as string | undefined;
  if (name === undefined || !isErrorCode(name)) {
    return new TributaryError('UNKNOWN', `malformed error detail (code ${detail.code}): ${detail.message}`, {
      retriable: false,
    });
  }
  return new TributaryError(name, detail.message, {
    retriable: detail.retriable,
    retryAfterMs: detail.retryAfterMs,
    leaderHint: detail.leaderHint,
  });
}

/**
 * The status object a server handler passes to its callback or `call.emit('error')`: the gRPC
 * code, the human message, and the ErrorDetail trailer. Anything that is not a TributaryError is
 * reported as UNKNOWN (the caller logs the original with its stack).
 */
export function toGrpcStatus(error: unknown): StatusObject {
  const tributaryError = TributaryError.from(error);
  const metadata = new Metadata();
  metadata.set(errorDetailTrailer, Buffer.from(ErrorDetail.encode(toErrorDetail(tributaryError)).finish()));
  return {
    code: grpcStatusFor(tributaryError.code),
    details: `${tributaryError.code}: ${tributaryError.message}`,
    metadata,
  };
}

/** Turns a failed client call back into the TributaryError the server raised. */
export function fromGrpcError(error: ServiceError): TributaryError {
  const trailer = error.metadata?.get(errorDetailTrailer)[0];
  if (trailer instanceof Buffer) {
    try {
      return fromErrorDetail(ErrorDetail.decode(trailer));
    } catch (decodeError) {
      return new TributaryError('UNKNOWN', `undecodable ${errorDetailTrailer} trailer: ${String(decodeError)}`, {
        retriable: false,
        cause: error,
      });
    }
  }
  const code = codeByBareGrpcStatus[error.code] ?? 'UNKNOWN';
  // A method the server does not implement stays unimplemented however often it is retried.
  const retriable = error.code === GrpcStatus.UNIMPLEMENTED ? false : undefined;
  return new TributaryError(code, error.details || error.message, { retriable, cause: error });
}
