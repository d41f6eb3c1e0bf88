import { TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import { formatPartition } from '../../storage/index.js';
import type { TopicPartition } from '../generated/tributary/common/v1/common.js';

/**
 * The error a per-partition result carries. A TributaryError goes to the client as it is; anything
 * else is a bug on this broker, logged here with its stack (a result, unlike a failed call, passes
 * no interceptor that would log it) and reported as UNKNOWN.
 */
export function reportedError(error: unknown, topicPartition: TopicPartition, logger: Logger, operation: string): TributaryError {
  if (!(error instanceof TributaryError)) logger.error({ err: error, partition: formatPartition(topicPartition) }, `${operation} failed unexpectedly`);
  return TributaryError.from(error);
}
