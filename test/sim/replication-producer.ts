import { noLeader, type MetadataState } from '../../src/controller/index.js';
import type { Prng } from './prng.js';
import type { RecordProducer } from './replica-log.js';
import { replicationTopicName } from './replication-actors.js';
import type { ReplicationMessage } from './replication-messages.js';

/** Network addresses of producers start here, above every broker id. */
export const producerAddressBase = 100;
/** Requests one producer keeps in flight at once (Kafka's max.in.flight.requests.per.connection). */
export const producerRequestsInFlightMax = 4;

/** A leader lost track of the producer's sequence: the producer bumps its epoch and restamps the record (KIP-360). */
const sequenceLostCodes: ReadonlySet<string> = new Set(['UNKNOWN_PRODUCER_ID', 'OUT_OF_ORDER_SEQUENCE']);

export interface ProducerEvent {
  readonly type: 'replicationProduce';
  readonly producer: number;
  /** 0 for a wake; otherwise the request whose timeout this is. */
  readonly requestId: number;
}

export interface ProducerContext {
  readonly random: Prng;
  /** Metadata as some controller applied it (it may lag), or undefined when none is up. */
  view(): MetadataState | undefined;
  send(message: ReplicationMessage): void;
  schedule(delayMs: number, event: ProducerEvent): void;
}

export interface ProducerCounters {
  /** Records sent for the first time. */
  produced: number;
  acknowledged: number;
  /** Refusals of current requests (NOT_LEADER, NOT_ENOUGH_REPLICAS, a lost sequence, …). */
  refused: number;
  /** Records sent again with their stamp after a timeout or a retriable refusal. */
  retried: number;
  /** Epoch bumps after UNKNOWN_PRODUCER_ID or OUT_OF_ORDER_SEQUENCE. */
  epochBumps: number;
}

/**
 * The record a partition is delivering, one at a time (as the SDK sends one batch per partition at
 * a time): a record's sequence always follows an acknowledged one.
 */
interface PendingRecord {
  readonly recordId: string;
  stamp: RecordProducer;
  /** The attempt in flight, whose answer counts; 0 when none is (the next wake sends it again). */
  requestId: number;
}

/** Where a partition's sequence stands: the epoch it counts in and the next sequence in it. */
interface PartitionSequence {
  readonly producerEpoch: number;
  readonly nextSequence: number;
}

/**
 * An idempotent acks=all producer, as the SDK's (src/client/producer-sequences.ts): producer id
 * slot + 1, epoch 0; each record (`p<slot>-<n>`) is stamped with (id, epoch, sequence) when first
 * sent and resent with the same stamp after a timeout or a retriable refusal, to the leader its
 * metadata names then, until acknowledged or the producer stops. One record in flight per
 * partition, so the leader sees each partition's sequences in order; a delayed original arriving
 * after its retry is the leader's to recognise as a duplicate. On UNKNOWN_PRODUCER_ID or
 * OUT_OF_ORDER_SEQUENCE it bumps its epoch (as InitProducerId answers), so every partition starts
 * again at sequence 0, and restamps the refused record. Answers to attempts it gave up on are
 * ignored. It stops after healing: the liveness phase waits for the replicas to settle.
 */
export class SimProducer {
  readonly address: number;
  private readonly producerId: number;
  private producerEpoch = 0;
  private recordCount = 0;
  private requestCount = 0;
  private readonly sequences = new Map<number, PartitionSequence>();
  /** partition → its record being delivered. */
  private readonly pending = new Map<number, PendingRecord>();
  private stopped = false;

  constructor(
    private readonly slot: number,
    private readonly partitionCount: number,
    private readonly intervalMsMax: number,
    private readonly timeoutMs: number,
    private readonly context: ProducerContext,
    private readonly counters: ProducerCounters,
  ) {
    this.address = producerAddressBase + slot;
    this.producerId = slot + 1;
    this.wakeLater();
  }

  stop(): void {
    this.stopped = true;
  }

  /** A wake (`requestId` 0): send a partition's record, new or to retry; or the timeout of a request. */
  handle(event: ProducerEvent): void {
    if (event.requestId !== 0) return this.timedOut(event.requestId);
    if (this.stopped) return;
    this.wakeLater();
    const partition = this.context.random.nextInt(this.partitionCount);
    const record = this.pending.get(partition);
    if (record !== undefined && record.requestId !== 0) return;
    if (this.requestsInFlight() >= producerRequestsInFlightMax) return;
    const leader = this.context.view()?.topics.get(replicationTopicName)?.partitions[partition]?.leader ?? noLeader;
    if (leader === noLeader) return;
    if (record === undefined) this.counters.produced++;
    else this.counters.retried++;
    this.send(partition, leader, record ?? this.newRecord(partition));
  }

  answered(message: Extract<ReplicationMessage, { type: 'produceResponse' }>): void {
    const record = this.pending.get(message.partition);
    if (record === undefined || record.requestId !== message.requestId) return;
    record.requestId = 0;
    if (message.code === undefined) {
      this.counters.acknowledged++;
      this.pending.delete(message.partition);
      return;
    }
    this.counters.refused++;
    // This producer id is this instance's alone, and a record's stamp only moves to newer epochs.
    if (message.code === 'FENCED') throw new Error(`producer ${this.producerId} fenced on partition ${message.partition} with its current stamp ${JSON.stringify(record.stamp)}`);
    if (sequenceLostCodes.has(message.code)) this.restamp(message.partition, record);
  }

  /**
   * The leader lost this producer's sequence: a new epoch (unless another partition's refusal
   * already moved past the stamp's), where every partition starts at 0, and the record stamped in it.
   */
  private restamp(partition: number, record: PendingRecord): void {
    if (record.stamp.producerEpoch === this.producerEpoch) {
      this.producerEpoch++;
      this.counters.epochBumps++;
    }
    record.stamp = this.stamp(partition);
  }

  private newRecord(partition: number): PendingRecord {
    const record = { recordId: `p${this.slot}-${++this.recordCount}`, stamp: this.stamp(partition), requestId: 0 };
    this.pending.set(partition, record);
    return record;
  }

  /** The next sequence of `partition` in the current epoch: 0 in an epoch it has not written in yet. */
  private stamp(partition: number): RecordProducer {
    const held = this.sequences.get(partition);
    const baseSequence = held === undefined || held.producerEpoch !== this.producerEpoch ? 0 : held.nextSequence;
    this.sequences.set(partition, { producerEpoch: this.producerEpoch, nextSequence: baseSequence + 1 });
    return { producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence };
  }

  private send(partition: number, leader: number, record: PendingRecord): void {
    record.requestId = ++this.requestCount;
    this.context.send({ type: 'produce', from: this.address, to: leader, partition, recordId: record.recordId, producer: record.stamp, requestId: record.requestId });
    this.context.schedule(this.timeoutMs, { type: 'replicationProduce', producer: this.address, requestId: record.requestId });
  }

  /** The attempt's answer did not come in time: the record is sent again, with its stamp, at a later wake. */
  private timedOut(requestId: number): void {
    for (const record of this.pending.values()) if (record.requestId === requestId) record.requestId = 0;
  }

  private requestsInFlight(): number {
    return [...this.pending.values()].filter((record) => record.requestId !== 0).length;
  }

  private wakeLater(): void {
    this.context.schedule(this.context.random.range(1, this.intervalMsMax), { type: 'replicationProduce', producer: this.address, requestId: 0 });
  }
}
