import { noLeader, type MetadataState } from '../../src/controller/index.js';
import type { Prng } from './prng.js';
import { replicationTopicName } from './replication-actors.js';
import type { ReplicationMessage } from './replication-messages.js';

/** Network addresses of producers start here, above every broker id. */
export const producerAddressBase = 100;
/** Requests one producer keeps in flight at once (Kafka's max.in.flight.requests.per.connection). */
export const producerRequestsInFlightMax = 4;

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
  produced: number;
  acknowledged: number;
  refused: number;
}

/**
 * An acks=all producer: up to producerRequestsInFlightMax requests in flight, each a new record (`p<slot>-<sequence>`, never
 * retried, so no record is written twice), sent to the partition's leader as the metadata it reads
 * names it. A refusal (NOT_LEADER, NOT_ENOUGH_REPLICAS, …) or a timeout moves on to the next
 * record. It stops after healing: the liveness phase waits for the replicas to settle.
 */
export class SimProducer {
  readonly address: number;
  private sequence = 0;
  private readonly inFlight = new Set<number>();
  private stopped = false;

  constructor(
    slot: number,
    private readonly partitionCount: number,
    private readonly intervalMsMax: number,
    private readonly timeoutMs: number,
    private readonly context: ProducerContext,
    private readonly counters: ProducerCounters,
  ) {
    this.address = producerAddressBase + slot;
    this.wakeLater();
  }

  stop(): void {
    this.stopped = true;
  }

  /** A wake (`requestId` 0), or the timeout of a request in flight. */
  handle(event: ProducerEvent): void {
    if (event.requestId !== 0) {
      this.inFlight.delete(event.requestId);
      return;
    }
    if (this.stopped) return;
    this.wakeLater();
    if (this.inFlight.size >= producerRequestsInFlightMax) return;
    const { random } = this.context;
    const partition = random.nextInt(this.partitionCount);
    const leader = this.context.view()?.topics.get(replicationTopicName)?.partitions[partition]?.leader ?? noLeader;
    if (leader === noLeader) return;
    const requestId = ++this.sequence;
    this.inFlight.add(requestId);
    this.counters.produced++;
    this.context.send({ type: 'produce', from: this.address, to: leader, partition, recordId: `p${this.address - producerAddressBase}-${requestId}`, requestId });
    this.context.schedule(this.timeoutMs, { type: 'replicationProduce', producer: this.address, requestId });
  }

  answered(message: Extract<ReplicationMessage, { type: 'produceResponse' }>): void {
    if (!this.inFlight.delete(message.requestId)) return;
    if (message.code === undefined) this.counters.acknowledged++;
    else this.counters.refused++;
  }

  private wakeLater(): void {
    this.context.schedule(this.context.random.range(1, this.intervalMsMax), { type: 'replicationProduce', producer: this.address, requestId: 0 });
  }
}
