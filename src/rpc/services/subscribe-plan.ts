import { TributaryError } from '../../errors/index.js';
import type { TopicPartition } from '../generated/tributary/common/v1/common.js';
import type { SubscribeRequest } from '../generated/tributary/client/v1/consumer_service.js';
import type { BrokerServiceSettings } from './broker-service-settings.js';
import { checkRequestPartitions } from './request-partitions.js';

/** One partition of a subscription and where it has got to. */
export interface SubscribedPartition {
  readonly topicPartition: TopicPartition;
  /** 0 skips the leader-epoch check, as on the wire. */
  readonly currentLeaderEpoch: number;
  /** Offset of the first record not yet sent: after the last batch sent, or the start offset. */
  nextOffset: number;
  /** Set once its SubscribePartitionEnd was sent. */
  ended: boolean;
}

/** A SubscribeRequest checked and clamped to the server's bounds. */
export interface SubscribePlan {
  readonly partitions: SubscribedPartition[];
  /** The window as requested: 0 for the default; CreditWindow clamps it. */
  readonly windowBytesRequested: number;
  /** Most record bytes in one SubscribeData (a single larger batch still goes, alone). */
  readonly messageBytesMax: number;
}

/** The request as a plan; INVALID_REQUEST naming the field for a malformed partition list or offset. */
export function subscribePlanOf(request: SubscribeRequest, settings: BrokerServiceSettings): SubscribePlan {
  const topicPartitions = checkRequestPartitions({ method: 'Subscribe', field: 'partitions' }, request.partitions.map((entry) => entry.topicPartition), settings.requestPartitionsMax);
  const partitions = request.partitions.map((entry, position) => {
    if (!Number.isSafeInteger(entry.startOffset)) {
      throw new TributaryError('INVALID_REQUEST', `Subscribe partitions[${position}].start_offset ${entry.startOffset} is not a safe integer; offsets stay below 2^53`);
    }
    return { topicPartition: topicPartitions[position] as TopicPartition, currentLeaderEpoch: entry.currentLeaderEpoch, nextOffset: entry.startOffset, ended: false };
  });
  const requested = request.maxMessageBytes === 0 ? settings.subscribeMessageBytesDefault : request.maxMessageBytes;
  return { partitions, windowBytesRequested: request.windowBytes, messageBytesMax: Math.min(requested, settings.fetchResponseBytesMax) };
}
