/**
 * Every failure a Tributary user can see, by name. The names and their meaning mirror
 * `tributary.common.v1.ErrorCode` (proto/tributary/common/v1/common.proto); domain code uses these
 * names so it never depends on generated protobuf code, and `src/rpc/error-status.ts` maps them to
 * the wire. A test asserts both lists stay identical.
 */
export const errorCodes = [
  'UNKNOWN',
  'INVALID_REQUEST',
  'NOT_LEADER',
  'NOT_AVAILABLE',
  'TIMEOUT',
  'DUPLICATE_REQUEST',
  'STALE_EPOCH',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'TOPIC_NOT_FOUND',
  'PARTITION_NOT_FOUND',
  'OFFSET_OUT_OF_RANGE',
  'OFFSET_MISMATCH',
  'CHECKSUM_MISMATCH',
  'NOT_ENOUGH_REPLICAS',
  'RESOURCE_EXHAUSTED',
  'VERSION_MISMATCH',
  'CORRUPT_RECORD',
  'TOPIC_ALREADY_EXISTS',
  'SESSION_NOT_FOUND',
  'SESSION_CLOSED',
  'OUT_OF_ORDER_SEQUENCE',
  'FENCED',
  'UNKNOWN_MEMBER',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'SHUTTING_DOWN',
  'NODE_NOT_FOUND',
  'DIGEST_MISMATCH',
  'SUBSCRIPTION_NOT_FOUND',
  'UNKNOWN_PRODUCER_ID',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/**
 * Codes whose request may succeed if sent again unchanged, after a backoff or a redirect.
 * CHECKSUM_MISMATCH is here because the sender still holds the bytes and can resend them intact.
 */
const retriableCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'NOT_LEADER',
  'NOT_AVAILABLE',
  'TIMEOUT',
  'NOT_ENOUGH_REPLICAS',
  'RESOURCE_EXHAUSTED',
  'REBALANCE_IN_PROGRESS',
  'SHUTTING_DOWN',
  'CHECKSUM_MISMATCH',
]);

export function isRetriableByDefault(code: ErrorCode): boolean {
  return retriableCodes.has(code);
}

export function isErrorCode(value: string): value is ErrorCode {
  return (errorCodes as readonly string[]).includes(value);
}
