import assert from 'node:assert/strict';

/** The bounds of the broker's ProducerService and ConsumerService (docs/PROTOCOL.md §8, "Produce and fetch on a broker"). */
export interface BrokerServiceSettings {
  /** How long a produce waits for its acks when the request leaves timeout_ms 0. */
  readonly produceTimeoutMsDefault: number;
  /** The most a produce may ask to wait for its acks; larger timeout_ms values are clamped to it. */
  readonly produceTimeoutMsMax: number;
  /** Partitions one ProduceBatch, Fetch or ListOffsets may name. */
  readonly requestPartitionsMax: number;
  /** ProduceStream's window (ProduceStreamOpened): requests a client may have in flight at once. */
  readonly streamInFlightRequestsMax: number;
  /** ProduceStream's window: RecordBatch.records bytes a client may have in flight at once. */
  readonly streamInFlightBytesMax: number;
  /**
   * acks=none producers are answered before their batch is written; beyond this many of their
   * bytes still being written on this broker, another acks=none batch is refused (retriable
   * RESOURCE_EXHAUSTED) rather than queued without bound.
   */
  readonly acksNoneUnwrittenBytesMax: number;
  /** The largest batch records this broker accepts, whatever a topic's max_message_bytes says (limits.maxMessageBytes). */
  readonly batchBytesMax: number;
  /** The longest a Fetch long-polls; larger max_wait_ms values are clamped to it. */
  readonly fetchWaitMsMax: number;
  /** A partition's max_bytes when a FetchPartition leaves it 0. */
  readonly fetchPartitionBytesDefault: number;
  /** The response's max_bytes when a FetchRequest leaves it 0. */
  readonly fetchResponseBytesDefault: number;
  /** The most record bytes one Fetch answer carries (first-batch rule aside); larger max_bytes values are clamped to it. */
  readonly fetchResponseBytesMax: number;
  /** The most batches one Fetch answer carries: each adds its fields to the message beyond its records. */
  readonly fetchResponseBatchesMax: number;
  /** ListOffsets by timestamp reads at most this many record bytes of one partition before giving up. */
  readonly timestampScanBytesMax: number;
  /** ...in reads of this many bytes each. */
  readonly timestampScanReadBytes: number;
  /** A Subscribe's credit window when SubscribeRequest.window_bytes is 0. */
  readonly subscribeWindowBytesDefault: number;
  /**
   * The largest credit window a subscription may have; larger requested or granted windows are
   * clamped to it. With the message bound it is what one slow subscriber can make this broker hold.
   */
  readonly subscribeWindowBytesMax: number;
  /** Record bytes of one SubscribeData when max_message_bytes is 0; larger values are clamped to fetchResponseBytesMax. */
  readonly subscribeMessageBytesDefault: number;
  /** Live subscriptions on this broker; one more is refused with retriable RESOURCE_EXHAUSTED. */
  readonly subscriptionsMax: number;
  /**
   * How soon a subscription looks again at a partition this broker is still opening (it has no
   * leader yet whose change could wake the subscription).
   */
  readonly subscribeUnavailableRetryMs: number;
  /**
   * The longest a subscription with nothing to send waits before it looks at its partitions again,
   * as long as a Fetch long poll may wait. New data, a leader change and credit wake it sooner:
   * this only bounds how long any one wait's timer lives.
   */
  readonly subscribeWaitMsMax: number;
}

/** What one RecordBatch adds to a Fetch answer beside its records: its other fields, tags and length prefixes. */
export const fetchBatchFramingBytes = 128;

/**
 * The settings of a broker whose gRPC messages are at most `maxMessageBytes` (limits.maxMessageBytes):
 * a Fetch answer takes at most half of that in records, at most a quarter in the framing of its
 * batches, and keeps the rest for its partition results, so it fits the message bound.
 */
export function brokerServiceSettingsFor(maxMessageBytes: number): BrokerServiceSettings {
  assert.ok(Number.isSafeInteger(maxMessageBytes) && maxMessageBytes >= 1, `maxMessageBytes must be a positive integer, got ${maxMessageBytes}`);
  const fetchResponseBytesMax = Math.max(1, Math.floor(maxMessageBytes / 2));
  return {
    produceTimeoutMsDefault: 30_000,
    produceTimeoutMsMax: 300_000,
    requestPartitionsMax: 1_000,
    streamInFlightRequestsMax: 256,
    streamInFlightBytesMax: 32 * 1024 * 1024,
    acksNoneUnwrittenBytesMax: 64 * 1024 * 1024,
    batchBytesMax: maxMessageBytes,
    fetchWaitMsMax: 30_000,
    fetchPartitionBytesDefault: Math.min(1024 * 1024, fetchResponseBytesMax),
    fetchResponseBytesDefault: Math.min(8 * 1024 * 1024, fetchResponseBytesMax),
    fetchResponseBytesMax,
    fetchResponseBatchesMax: Math.max(1, Math.floor(fetchResponseBytesMax / (2 * fetchBatchFramingBytes))),
    timestampScanBytesMax: 64 * 1024 * 1024,
    timestampScanReadBytes: 1024 * 1024,
    subscribeWindowBytesDefault: 4 * 1024 * 1024,
    subscribeWindowBytesMax: 64 * 1024 * 1024,
    subscribeMessageBytesDefault: Math.min(1024 * 1024, fetchResponseBytesMax),
    subscriptionsMax: 1_000,
    subscribeUnavailableRetryMs: 200,
    subscribeWaitMsMax: 30_000,
  };
}
