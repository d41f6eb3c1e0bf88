import { TributaryError } from '../errors/index.js';
import {
  type BatchProducerFields, type CompressionCodec, MetadataClient, type ProduceAcks, type ProducedBatch, ProducerClient, type ProducerRecord,
} from '../rpc/clients/index.js';
import { ByteBudget } from './byte-budget.js';
import { clientRetriesMax, type ConnectionOptions, controllerOptionsOf, integerOption, retryPolicyOf } from './client-settings.js';
import { checkPartition, partitionForKey, StickyPartitioner } from './partitioner.js';
import { type PartitionRoute, PartitionRoutes, type TopicMetadataSource } from './partition-routes.js';
import { type ProducerMessage, producerRecordOf, recordSizeBoundBytes } from './producer-message.js';
import { ProducerSequences } from './producer-sequences.js';
import { type ClosedBatch, keyOf, RecordAccumulator } from './record-accumulator.js';
import { retryDecision, type RetryPolicy, type RetryRoute } from './retry-policy.js';

export interface ProducerOptions extends ConnectionOptions {
  /** Durability before a record counts as sent: `all` in-sync replicas (default), the `leader` only, or `none`. */
  acks?: ProduceAcks;
  /** Codec of every batch: `none`, `lz4` or `zstd`; unset, each topic's configured `compression`. */
  compression?: CompressionCodec;
  /**
   * Exactly once per offset across retries (default: on with acks `all`, off otherwise): the
   * producer gets an id from the cluster and numbers its batches per partition, and a leader
   * answers a retry of a batch it already has with the original offsets. Needs acks `all`.
   */
  idempotent?: boolean;
  /** A batch is cut before it would pass this many bytes (default 128 KiB). */
  batchBytesMax?: number;
  /** A batch is cut at this many records (default 10 000). */
  batchRecordsMax?: number;
  /** How long a batch waits for more records before it is sent (default 5 ms). */
  lingerMs?: number;
  /** Bytes of records accepted and not yet delivered (default 32 MiB); `send` waits while it is full. */
  bufferedBytesMax?: number;
  /** How long `send` waits for buffer space before it fails with RESOURCE_EXHAUSTED (default 60 s). */
  bufferWaitMsMax?: number;
  /** Retries of a batch after a retriable failure (default and most 1 000: `deliveryTimeoutMs` usually ends them first). */
  retriesMax?: number;
  /** A batch not delivered this long after it was cut fails (default 120 s). */
  deliveryTimeoutMs?: number;
  /** How long a leader may wait for the acks before it answers TIMEOUT (default 30 s). */
  ackTimeoutMs?: number;
  backoffMsMin?: number;
  backoffMsMax?: number;
  /** Randomness for backoff jitter and the first sticky partition; Math.random by default. */
  random?: () => number;
}

/** What `send` takes, as kafkajs's `producer.send` does. */
export interface ProducerSendRequest {
  topic: string;
  messages: readonly ProducerMessage[];
}

/** Where a record went. `offset` is -1 under acks `none`, where the broker reports none. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  timestampMs: number;
}

interface PendingRecord {
  record: ProducerRecord;
  sizeBytes: number;
  resolve: (metadata: RecordMetadata) => void;
  reject: (error: TributaryError) => void;
}

interface ProducerSettings extends RetryPolicy {
  acks: ProduceAcks;
  idempotent: boolean;
  /** Undefined: the topic's codec. */
  compression: CompressionCodec | undefined;
  bufferWaitMsMax: number;
  deliveryTimeoutMs: number;
  ackTimeoutMs: number;
}

/**
 * What a Producer talks to: the controllers for topic metadata and the brokers for Produce. The
 * wire clients by default; tests pass their own to drive failures deterministically.
 */
export interface ProducerLinks {
  readonly metadata: TopicMetadataSource & { close(): void };
  readonly brokers: Pick<ProducerClient, 'produce' | 'initProducerId' | 'close'>;
}

/** Callers `send` may keep waiting for buffer space at once; more fail at once with RESOURCE_EXHAUSTED. */
export const bufferWaitersMax = 10_000;

/**
 * Sends records to partition leaders in batches. Records are grouped per partition (cut by
 * `batchBytesMax`, `batchRecordsMax` and `lingerMs`) inside a bounded buffer; each partition has
 * at most one batch in flight, so records of a partition are written in the order they were sent
 * even across retries; idempotent (the default with acks all), a retry is never written twice
 * (without it, a retry after a TIMEOUT may be). Leaders come from a metadata cache that follows NOT_LEADER hints and is refreshed
 * after routing errors; retriable failures are retried with exponential backoff and jitter,
 * bounded by `retriesMax` and `deliveryTimeoutMs`.
 */
export class Producer {
  private readonly settings: ProducerSettings;
  private readonly random: () => number;
  private readonly links: ProducerLinks;
  private readonly routes: PartitionRoutes;
  private readonly accumulator: RecordAccumulator<PendingRecord>;
  private readonly buffer: ByteBudget;
  private readonly sticky: StickyPartitioner;
  /** Identity and sequence numbers of an idempotent producer; undefined when it is not one. */
  private readonly sequences: ProducerSequences | undefined;
  /** Partitions with a batch in flight. */
  private readonly sending = new Set<string>();
  /** Every record accepted by `send` and not yet settled, for `flush`. Bounded by the buffer and its waiters. */
  private readonly unsettled = new Set<Promise<unknown>>();
  private flushes = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: ProducerOptions, links?: ProducerLinks) {
    const connection = controllerOptionsOf(options, 'tributary-producer');
    this.settings = producerSettingsOf(options);
    this.random = options.random ?? Math.random;
    this.accumulator = new RecordAccumulator({
      batchBytesMax: integerOption('batchBytesMax', options.batchBytesMax, 131_072, 1, 16_777_216),
      batchRecordsMax: integerOption('batchRecordsMax', options.batchRecordsMax, 10_000, 1, 1_048_576),
      lingerMs: integerOption('lingerMs', options.lingerMs, 5, 0, 60_000),
    });
    this.buffer = new ByteBudget('bufferedBytesMax', integerOption('bufferedBytesMax', options.bufferedBytesMax, 33_554_432, 1, 2 ** 40), bufferWaitersMax);
    this.sticky = new StickyPartitioner(Math.floor(this.random() * 1_000_000));
    this.links = links ?? { metadata: new MetadataClient(connection), brokers: new ProducerClient(connection) };
    this.routes = new PartitionRoutes(this.links.metadata);
    const { brokers } = this.links;
    this.sequences = this.settings.idempotent ? new ProducerSequences((address, id, epoch) => brokers.initProducerId(address, id, epoch)) : undefined;
  }

  /** Sends one record; resolves once it is acknowledged as `acks` asks, rejects with why it was not. */
  sendRecord(topic: string, message: ProducerMessage): Promise<RecordMetadata> {
    if (this.closed) return Promise.reject(new TributaryError('INVALID_REQUEST', `the producer is closed; record for topic "${topic}" not sent`));
    const sent = this.accept(topic, message);
    this.unsettled.add(sent);
    const forget = () => this.unsettled.delete(sent);
    sent.then(forget, forget);
    return sent;
  }

  /**
   * Sends records in order; resolves with each one's metadata, or rejects with the first failure.
   * Takes kafkajs's `{ topic, messages }` or the topic and messages as two arguments.
   */
  send(request: ProducerSendRequest): Promise<RecordMetadata[]>;
  send(topic: string, messages: readonly ProducerMessage[]): Promise<RecordMetadata[]>;
  send(target: string | ProducerSendRequest, messages: readonly ProducerMessage[] = []): Promise<RecordMetadata[]> {
    const { topic, messages: sent } = typeof target === 'string' ? { topic: target, messages } : target;
    return Promise.all(sent.map((message) => this.sendRecord(topic, message)));
  }

  /** Sends every buffered batch now and waits until every record sent before the call is settled. */
  async flush(): Promise<void> {
    this.flushes++;
    try {
      this.pump();
      await Promise.allSettled([...this.unsettled]);
    } finally {
      this.flushes--;
    }
  }

  /** Refuses new records, delivers (or fails) the ones already sent, and closes the connections. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    clearTimeout(this.lingerTimer);
    this.links.brokers.close();
    this.links.metadata.close();
  }

  private async accept(topic: string, message: ProducerMessage): Promise<RecordMetadata> {
    const record = producerRecordOf(message, Date.now());
    const sizeBytes = recordSizeBoundBytes(record);
    const routes = await this.routes.topic(topic);
    const partitions = routes.partitions.length;
    const keyless = message.partition === undefined && record.key === undefined;
    const partition = message.partition !== undefined
      ? checkPartition(topic, message.partition, partitions)
      : record.key !== undefined ? partitionForKey(record.key, partitions) : this.sticky.partitionFor(topic, partitions);
    await this.buffer.reserve(sizeBytes, this.settings.bufferWaitMsMax);
    return new Promise((resolve, reject) => {
      const closedBatch = this.accumulator.append(topic, partition, { record, sizeBytes, resolve, reject }, sizeBytes, Date.now());
      if (closedBatch && keyless) this.sticky.batchClosed(topic, partition);
      this.pump();
    });
  }

  /** Starts a send for every partition that has a ready batch and nothing in flight, then re-arms the linger timer. */
  private pump(): void {
    const nowMs = Date.now();
    const flushing = this.flushes > 0 || this.closed;
    for (const { topic, partition } of this.accumulator.partitions()) {
      const key = keyOf(topic, partition);
      if (this.sending.has(key)) continue;
      const batch = this.accumulator.takeReady(topic, partition, nowMs, flushing);
      if (batch === undefined) continue;
      // Keyless records stuck to this partition while its batch filled; the next ones move on.
      this.sticky.batchClosed(topic, partition);
      this.sending.add(key);
      void this.deliver(batch);
    }
    clearTimeout(this.lingerTimer);
    const deadlineMs = this.accumulator.nextLingerDeadlineMs((topic, partition) => this.sending.has(keyOf(topic, partition)));
    this.lingerTimer = deadlineMs === undefined ? undefined : setTimeout(() => this.pump(), Math.max(0, deadlineMs - nowMs));
  }

  private async deliver(batch: ClosedBatch<PendingRecord>): Promise<void> {
    try {
      const produced = await this.produceWithRetries(batch);
      batch.items.forEach((item, index) => item.resolve({
        topic: batch.topic,
        partition: batch.partition,
        offset: this.settings.acks === 'none' ? -1 : produced.baseOffset + index,
        timestampMs: item.record.timestampMs,
      }));
    } catch (error) {
      const failure = TributaryError.from(error);
      for (const item of batch.items) item.reject(failure);
    } finally {
      this.buffer.release(batch.sizeBytes);
      this.sending.delete(keyOf(batch.topic, batch.partition));
      this.pump();
    }
  }

  private async produceWithRetries(batch: ClosedBatch<PendingRecord>): Promise<ProducedBatch> {
    const deadlineMs = batch.createdAtMs + this.settings.deliveryTimeoutMs;
    const records = batch.items.map((item) => item.record);
    // Stamped once and kept across retries: that is what lets the leader recognise a retry.
    let producer: BatchProducerFields | undefined;
    for (let failures = 1; ; failures++) {
      let route: PartitionRoute | undefined;
      try {
        route = await this.routes.leaderOf(batch.topic, batch.partition);
        const compression = this.settings.compression ?? (await this.routes.topic(batch.topic)).compression;
        producer ??= await this.sequences?.stamp(keyOf(batch.topic, batch.partition), records.length, route.address);
        return await this.links.brokers.produce(route.address, {
          topic: batch.topic, partition: batch.partition, records, acks: this.settings.acks, ackTimeoutMs: this.settings.ackTimeoutMs, currentLeaderEpoch: route.leaderEpoch,
          compression, producer,
        });
      } catch (error) {
        const failure = TributaryError.from(error);
        if (producer !== undefined && route !== undefined && sequenceLostCodes.has(failure.code) && failures <= this.settings.retriesMax) {
          await this.sequences?.reset(producer, route.address);
          producer = undefined;
          continue;
        }
        // A failed metadata lookup (no such topic or partition any more) is final; a broker's answer may be stale.
        if (route === undefined && !failure.retriable) throw failure;
        const context = { failures, nowMs: Date.now(), deadlineMs, triedAddress: route?.address ?? '' };
        const decision = retryDecision(failure, context, this.settings, this.random);
        if (!decision.retry) throw undelivered(batch, failure, decision.why);
        this.reroute(batch, failure, decision.route);
        if (decision.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.delayMs));
      }
    }
  }

  private reroute(batch: ClosedBatch<PendingRecord>, failure: TributaryError, route: RetryRoute): void {
    if (route === 'hint' && failure.leaderHint !== undefined) this.routes.followHint(batch.topic, batch.partition, failure.leaderHint);
    if (route === 'refresh') this.routes.invalidate(batch.topic);
  }
}

/**
 * A leader lost track of the producer's sequence (its state expired, or a batch that failed for
 * good left a gap): the producer moves to a new epoch and sends the batch again from sequence 0.
 * It cannot be a duplicate: a leader rebuilds its producers from its log and from the summaries
 * of what retention deleted (storage/retired-producer-batches.ts), so it knows the producer's
 * last batches unless the producer was idle past producerIdleMsMax.
 */
const sequenceLostCodes: ReadonlySet<string> = new Set(['UNKNOWN_PRODUCER_ID', 'OUT_OF_ORDER_SEQUENCE']);

function producerSettingsOf(options: ProducerOptions): ProducerSettings {
  const acks = options.acks ?? 'all';
  if (!['none', 'leader', 'all'].includes(acks)) throw new TributaryError('INVALID_REQUEST', `option acks must be one of none, leader, all, got "${String(acks)}"`);
  // Kafka's rule: idempotence needs acks=all, and is on by default only where it can be.
  const idempotent = options.idempotent ?? acks === 'all';
  if (idempotent && acks !== 'all') throw new TributaryError('INVALID_REQUEST', `option idempotent needs acks "all", got acks "${acks}"; leave idempotent unset or false for acks "${acks}"`);
  const { compression } = options;
  if (compression !== undefined && !['none', 'lz4', 'zstd'].includes(compression)) {
    throw new TributaryError('INVALID_REQUEST', `option compression must be one of none, lz4, zstd, got "${String(compression)}"`);
  }
  return {
    // Kafka's lesson (KIP-91): a leader failover takes as long as the controller's session
    // timeout, so a retry count runs out too early; the delivery timeout is what ends retries.
    ...retryPolicyOf(options, clientRetriesMax),
    acks,
    idempotent,
    compression,
    bufferWaitMsMax: integerOption('bufferWaitMsMax', options.bufferWaitMsMax, 60_000, 0, 3_600_000),
    deliveryTimeoutMs: integerOption('deliveryTimeoutMs', options.deliveryTimeoutMs, 120_000, 1, 86_400_000),
    ackTimeoutMs: integerOption('ackTimeoutMs', options.ackTimeoutMs, 30_000, 1, 600_000),
  };
}

function undelivered(batch: ClosedBatch<PendingRecord>, failure: TributaryError, why: string): TributaryError {
  const message = `batch of ${batch.items.length} records for partition ${batch.topic}-${batch.partition} not delivered: ${failure.message} (${why})`;
  return new TributaryError(failure.code, message, { retriable: failure.retriable, retryAfterMs: failure.retryAfterMs, leaderHint: failure.leaderHint, cause: failure });
}
