import assert from 'node:assert/strict';
import { TributaryError } from '../errors/index.js';
import {
  type BatchProducerFields, type CompressionCodec, MetadataClient, type ProduceAcks, type ProducedBatch, ProducerClient, type ProducerRecord,
} from '../rpc/clients/index.js';
import { ByteBudget } from './byte-budget.js';
import { clientRetriesMax, type ConnectionOptions, controllerOptionsOf, integerOption, retryPolicyOf } from './client-settings.js';
import { checkPartition, partitionForKey, StickyPartitioner } from './partitioner.js';
import { type PartitionRoute, PartitionRoutes, type TopicMetadataSource } from './partition-routes.js';
import { PartitionWindow, type WindowEntry } from './partition-window.js';
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
  /**
   * Batches of one partition sent and not yet acknowledged at once (default and most 5: leaders
   * remember a producer's last 5 batches per partition to recognise retries). The cluster may ask
   * for fewer in InitProducerId. Order holds whatever the window: batches are numbered in send
   * order and a leader refuses one whose predecessor it does not have. Without idempotence the
   * window is always 1, since nothing else would keep a retry from landing after a later batch.
   */
  maxInFlightBatchesPerPartition?: number;
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
  maxInFlightBatchesPerPartition: number;
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
 * The most batches an idempotent producer keeps in flight per partition: a leader remembers a
 * producer's last 5 batches (broker/producer-state-table.ts, producerBatchesCachedMax), and a
 * retry of an older one would not be recognised and would be written again.
 */
export const inFlightBatchesPerPartitionMax = 5;

/** One partition's unacknowledged batches and whether a sender loop is working on them. */
interface PartitionSender {
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  readonly window: PartitionWindow<ClosedBatch<PendingRecord>>;
  running: boolean;
}

type WindowBatch = WindowEntry<ClosedBatch<PendingRecord>>;

/**
 * Sends records to partition leaders in batches. Records are grouped per partition (cut by
 * `batchBytesMax`, `batchRecordsMax` and `lingerMs`) inside a bounded buffer. Idempotent (the
 * default with acks all), a partition has up to `maxInFlightBatchesPerPartition` batches in
 * flight, numbered in send order: a leader appends them in that order, refuses one whose
 * predecessor it lacks, and never writes a retry twice. Without idempotence a partition has one
 * batch in flight, so its records are still written in the order they were sent even across
 * retries (but a retry after a TIMEOUT may be written twice). Leaders come from a metadata cache
 * that follows NOT_LEADER hints and is refreshed after routing errors; retriable failures are
 * retried with exponential backoff and jitter, bounded by `retriesMax` and `deliveryTimeoutMs`.
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
  /** Partitions with unacknowledged batches or a sender loop running. Bounded by the buffer: each holds a record. */
  private readonly senders = new Map<string, PartitionSender>();
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

  /** Starts the sender of every partition with records waiting or batches to resend, then re-arms the linger timer. */
  private pump(): void {
    for (const { topic, partition } of this.accumulator.partitions()) this.start(this.senderOf(topic, partition));
    for (const sender of this.senders.values()) this.start(sender);
    const nowMs = Date.now();
    clearTimeout(this.lingerTimer);
    // A partition whose window is full sends nothing when its linger ends; an answer pumps again.
    const deadlineMs = this.accumulator.nextLingerDeadlineMs((topic, partition) => !this.hasRoom(topic, partition));
    this.lingerTimer = deadlineMs === undefined ? undefined : setTimeout(() => this.pump(), Math.max(0, deadlineMs - nowMs));
  }

  private senderOf(topic: string, partition: number): PartitionSender {
    const key = keyOf(topic, partition);
    const existing = this.senders.get(key);
    if (existing !== undefined) return existing;
    const sender: PartitionSender = { key, topic, partition, window: new PartitionWindow(this.sequences !== undefined), running: false };
    this.senders.set(key, sender);
    return sender;
  }

  private hasRoom(topic: string, partition: number): boolean {
    const sender = this.senders.get(keyOf(topic, partition));
    return sender === undefined || sender.window.hasRoom(this.windowCapacity());
  }

  /** Batches a partition may have unacknowledged: the option within the brokers' bound when idempotent, else 1. */
  private windowCapacity(): number {
    if (this.sequences === undefined) return 1;
    // Until the first identity arrives the brokers' bound is unknown: the first batch goes alone and fetches it.
    const brokersMax = this.sequences.inFlightBatchesMax ?? 1;
    return Math.max(1, Math.min(this.settings.maxInFlightBatchesPerPartition, brokersMax));
  }

  private start(sender: PartitionSender): void {
    if (sender.running) return;
    sender.running = true;
    void this.drive(sender);
  }

  /**
   * One partition's sender loop: does what its window asks until the window waits for an answer.
   * ONE loop per partition at a time, so its batches are stamped and their calls issued in
   * sequence order; answers arrive on their own and pump the loop again.
   */
  private async drive(sender: PartitionSender): Promise<void> {
    try {
      for (;;) {
        const action = sender.window.action(Date.now(), this.windowCapacity());
        if (action.kind === 'idle') return;
        if (action.kind === 'take') {
          if (!this.take(sender)) return;
        } else if (action.kind === 'sleep') {
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, action.untilMs - Date.now())));
        } else if (action.kind === 'restamp') {
          await this.restamp(sender, action.lost);
        } else {
          await this.dispatch(sender, action.entry);
        }
      }
    } finally {
      sender.running = false;
      if (sender.window.size === 0) this.senders.delete(sender.key);
    }
  }

  /** Moves the partition's next ready batch into its window; false when none is ready. */
  private take(sender: PartitionSender): boolean {
    const flushing = this.flushes > 0 || this.closed;
    const batch = this.accumulator.takeReady(sender.topic, sender.partition, Date.now(), flushing);
    if (batch === undefined) return false;
    // Keyless records stuck to this partition while its batch filled; the next ones move on.
    this.sticky.batchClosed(sender.topic, sender.partition);
    sender.window.add(batch);
    return true;
  }

  /**
   * Routes and stamps the batch, then issues its produce call if the window still says to send
   * it: while this awaited, an answer may have put the partition in recovery. Nothing awaits
   * between that check and the call, so a partition's calls leave in sequence order.
   */
  private async dispatch(sender: PartitionSender, entry: WindowBatch): Promise<void> {
    const { batch } = entry;
    let route: PartitionRoute | undefined;
    let compression: CompressionCodec;
    try {
      route = await this.routes.leaderOf(batch.topic, batch.partition);
      compression = this.settings.compression ?? (await this.routes.topic(batch.topic)).compression;
      // Stamped once, when first sent, and kept across retries: that is what lets the leader recognise a retry.
      if (this.sequences !== undefined && entry.stamp === undefined) sender.window.stamped(entry, await this.sequences.stamp(sender.key, batch.items.length, route.address));
    } catch (error) {
      this.attemptFailed(sender, entry, error, route);
      return;
    }
    const next = sender.window.action(Date.now(), this.windowCapacity());
    if (next.kind !== 'send' || next.entry !== entry) return;
    sender.window.sent(entry);
    const sentRoute = route;
    const input = {
      topic: batch.topic, partition: batch.partition, records: batch.items.map((item) => item.record), acks: this.settings.acks, ackTimeoutMs: this.settings.ackTimeoutMs,
      currentLeaderEpoch: route.leaderEpoch, compression, producer: entry.stamp,
    };
    void this.links.brokers.produce(route.address, input).then(
      (produced) => this.acknowledged(sender, entry, produced),
      (error: unknown) => this.attemptFailed(sender, entry, error, sentRoute),
    );
  }

  /** After a lost sequence: the next epoch (KIP-360), and every unacknowledged batch of the partition numbered from 0 in it. */
  private async restamp(sender: PartitionSender, lost: BatchProducerFields): Promise<void> {
    const { window } = sender;
    const sequences = this.sequences;
    assert.ok(sequences !== undefined, 'a restamp without idempotence');
    const recordCounts = window.unacknowledged().map((entry) => entry.batch.items.length);
    let route: PartitionRoute | undefined;
    let stamps: BatchProducerFields[];
    try {
      route = await this.routes.leaderOf(sender.topic, sender.partition);
      await sequences.reset(lost, route.address);
      stamps = await sequences.restamp(sender.key, recordCounts, route.address);
    } catch (error) {
      this.attemptFailed(sender, window.unacknowledged()[0] as WindowBatch, error, route);
      return;
    }
    window.restamped(stamps);
  }

  private acknowledged(sender: PartitionSender, entry: WindowBatch, produced: ProducedBatch): void {
    sender.window.acknowledged(entry);
    const { batch } = entry;
    batch.items.forEach((item, index) => item.resolve({
      topic: batch.topic,
      partition: batch.partition,
      offset: this.settings.acks === 'none' ? -1 : produced.baseOffset + index,
      timestampMs: item.record.timestampMs,
    }));
    this.buffer.release(batch.sizeBytes);
    this.pump();
  }

  /**
   * What a failed attempt means for the batch. A lost sequence on the oldest unacknowledged batch
   * means a restamp in a new epoch; on a later one, only that a batch before it failed too, so it
   * is resent behind it. Otherwise a retry after the backoff, or a final failure of its records.
   */
  private attemptFailed(sender: PartitionSender, entry: WindowBatch, error: unknown, route: PartitionRoute | undefined): void {
    const failure = TributaryError.from(error);
    const failures = entry.failures + 1;
    const { window } = sender;
    if (entry.stamp !== undefined && route !== undefined && sequenceLostCodes.has(failure.code)) {
      if (failures > this.settings.retriesMax) return this.fail(sender, entry, undelivered(entry.batch, failure, `gave up after ${failures} attempts (retriesMax ${this.settings.retriesMax})`));
      if (window.isOldest(entry)) window.sequenceLost(entry);
      else window.retry(entry, 0);
      return this.pump();
    }
    // A failed metadata lookup (no such topic or partition any more) is final; a broker's answer may be stale.
    if (route === undefined && !failure.retriable) return this.fail(sender, entry, failure);
    const context = { failures, nowMs: Date.now(), deadlineMs: entry.batch.createdAtMs + this.settings.deliveryTimeoutMs, triedAddress: route?.address ?? '' };
    const decision = retryDecision(failure, context, this.settings, this.random);
    if (!decision.retry) return this.fail(sender, entry, undelivered(entry.batch, failure, decision.why));
    this.reroute(entry.batch, failure, decision.route);
    window.retry(entry, context.nowMs + decision.delayMs);
    this.pump();
  }

  private fail(sender: PartitionSender, entry: WindowBatch, failure: TributaryError): void {
    sender.window.failed(entry);
    for (const item of entry.batch.items) item.reject(failure);
    this.buffer.release(entry.batch.sizeBytes);
    this.pump();
  }

  private reroute(batch: ClosedBatch<PendingRecord>, failure: TributaryError, route: RetryRoute): void {
    if (route === 'hint' && failure.leaderHint !== undefined) this.routes.followHint(batch.topic, batch.partition, failure.leaderHint);
    if (route === 'refresh') this.routes.invalidate(batch.topic);
  }
}

/**
 * On the oldest unacknowledged batch of a partition: a leader lost track of the producer's
 * sequence (its state expired, or a batch that failed for good left a gap), so the producer moves
 * to a new epoch and numbers the partition's unacknowledged batches again from sequence 0. On a
 * later batch they only say that a batch before it failed too: it is resent behind it. None of
 * them can be a duplicate: a leader rebuilds its producers from its log and from the summaries of
 * what retention deleted (storage/retired-producer-batches.ts), so it knows the producer's last
 * batches, at least a full window of them, unless the producer was idle past producerIdleMsMax.
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
    maxInFlightBatchesPerPartition: inFlightWindowOf(options.maxInFlightBatchesPerPartition),
    compression,
    bufferWaitMsMax: integerOption('bufferWaitMsMax', options.bufferWaitMsMax, 60_000, 0, 3_600_000),
    deliveryTimeoutMs: integerOption('deliveryTimeoutMs', options.deliveryTimeoutMs, 120_000, 1, 86_400_000),
    ackTimeoutMs: integerOption('ackTimeoutMs', options.ackTimeoutMs, 30_000, 1, 600_000),
  };
}

function inFlightWindowOf(value: number | undefined): number {
  if (value === undefined) return inFlightBatchesPerPartitionMax;
  if (!Number.isSafeInteger(value) || value < 1 || value > inFlightBatchesPerPartitionMax) {
    throw new TributaryError(
      'INVALID_REQUEST',
      `option maxInFlightBatchesPerPartition must be an integer from 1 to ${inFlightBatchesPerPartitionMax} (leaders remember a producer's last ${inFlightBatchesPerPartitionMax} batches per partition), got ${value}`,
    );
  }
  return value;
}

function undelivered(batch: ClosedBatch<PendingRecord>, failure: TributaryError, why: string): TributaryError {
  const message = `batch of ${batch.items.length} records for partition ${batch.topic}-${batch.partition} not delivered: ${failure.message} (${why})`;
  return new TributaryError(failure.code, message, { retriable: failure.retriable, retryAfterMs: failure.retryAfterMs, leaderHint: failure.leaderHint, cause: failure });
}
