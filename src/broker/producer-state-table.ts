import assert from 'node:assert/strict';
import { TributaryError } from '../errors/index.js';

/** The idempotence fields of one produced batch (Kafka's producerId, producerEpoch, baseSequence). */
export interface ProducerBatch {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** Sequence number of the batch's first record; record i has baseSequence + i (wrapping). */
  readonly baseSequence: number;
  readonly recordCount: number;
}

/** Where a batch of a producer landed: what a duplicate of it is answered with. */
export interface ProducerBatchEntry {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly timestampMs: number;
}

/** What a partition remembers of one producer: its epoch and its last few batches, oldest first. */
export interface ProducerEntry {
  readonly producerEpoch: number;
  readonly batches: readonly ProducerBatchEntry[];
}

/** A batch already in a partition log, as its summary (storage's BatchSummary) tells it. */
export interface LoggedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestampMs: number;
  readonly producer?: Omit<ProducerBatch, 'recordCount'> | undefined;
}

/** A batch to append, or a retry of one already in the log (answered with its offsets, not stored again). */
export type ProducerCheck = { readonly kind: 'append' } | { readonly kind: 'duplicate'; readonly firstOffset: number; readonly lastOffset: number };

/**
 * Batches remembered per producer: a producer has at most this many in flight per partition
 * (Kafka's max.in.flight.requests.per.connection for idempotence), so a retry is always of one
 * of them.
 */
export const producerBatchesCachedMax = 5;
/** Sequences are int32 and wrap to 0 after this (Kafka's rule), so a producer never runs out. */
export const producerSequenceMax = 2 ** 31 - 1;

export interface ProducerStateTableOptions {
  /** The partition, `orders-3`: every refusal names it. */
  readonly partition: string;
  /** Producers one partition tracks at once; a new one beyond it is refused (retriable) until idle ones expire. */
  readonly producersMax: number;
}

/**
 * One partition's idempotent-producer state (Kafka's ProducerStateManager), pure: the leader asks
 * `check` before appending a batch and reports `appended` once it has offsets; a follower reports
 * every batch it copies, so whichever replica is elected already knows every producer. Rules:
 * a producer's first batch, and the first of each new epoch, starts at sequence 0; within an epoch
 * each batch starts right after the previous one; a batch equal to one of the last
 * `producerBatchesCachedMax` is a retry and gets its original offsets; an older epoch is fenced.
 */
export class ProducerStateTable {
  private readonly producers = new Map<number, ProducerEntry>();

  constructor(private readonly options: ProducerStateTableOptions) {
    assert.ok(Number.isSafeInteger(options.producersMax) && options.producersMax >= 1, `producersMax must be a positive integer, got ${options.producersMax}`);
  }

  /**
   * The state a partition's log implies (Kafka rebuilds it from the log the same way): every
   * batch of an idempotent producer replayed in offset order. A new leader starts from it, so it
   * knows the retries of batches a previous leader appended. Producers whose every batch left
   * the log (retention) are not known: their next batch must start a new epoch at sequence 0.
   */
  static rebuilt(options: ProducerStateTableOptions, batches: Iterable<LoggedBatch>): ProducerStateTable {
    const table = new ProducerStateTable(options);
    for (const { producer, baseOffset, lastOffset, maxTimestampMs } of batches) {
      if (producer !== undefined) table.appended({ ...producer, recordCount: lastOffset - baseOffset + 1 }, baseOffset, maxTimestampMs);
    }
    return table;
  }

  check(batch: ProducerBatch): ProducerCheck {
    assertBatch(batch);
    const entry = this.producers.get(batch.producerId);
    if (entry === undefined) return this.checkFirst(batch);
    if (batch.producerEpoch < entry.producerEpoch) {
      throw new TributaryError('FENCED', `${this.where(batch)}: epoch ${batch.producerEpoch} is older than the partition's ${entry.producerEpoch}; a newer instance of this producer took over`);
    }
    if (batch.producerEpoch > entry.producerEpoch) return this.checkSequenceStart(batch, `its new epoch ${batch.producerEpoch}`);
    const lastSequence = lastSequenceOf(batch);
    const retried = entry.batches.find((cached) => cached.firstSequence === batch.baseSequence && cached.lastSequence === lastSequence);
    if (retried !== undefined) return { kind: 'duplicate', firstOffset: retried.firstOffset, lastOffset: retried.lastOffset };
    const expected = nextSequence(entry.batches.at(-1)?.lastSequence);
    if (batch.baseSequence === expected) return { kind: 'append' };
    throw new TributaryError(
      'OUT_OF_ORDER_SEQUENCE',
      `${this.where(batch)}: sequence ${batch.baseSequence} follows none of the last ${entry.batches.length} batches; the next expected is ${expected}`,
    );
  }

  /** A batch of the producer now at offsets firstOffset.. (a leader's append, or a follower's copy). */
  appended(batch: ProducerBatch, firstOffset: number, timestampMs: number): void {
    assertBatch(batch);
    const entry = this.producers.get(batch.producerId);
    assert.ok(entry === undefined || batch.producerEpoch >= entry.producerEpoch, `${this.where(batch)}: an append of epoch ${batch.producerEpoch} after epoch ${entry?.producerEpoch}`);
    const added: ProducerBatchEntry = {
      firstSequence: batch.baseSequence, lastSequence: lastSequenceOf(batch), firstOffset, lastOffset: firstOffset + batch.recordCount - 1, timestampMs,
    };
    const kept = entry === undefined || batch.producerEpoch > entry.producerEpoch ? [] : entry.batches.slice(-(producerBatchesCachedMax - 1));
    this.producers.set(batch.producerId, { producerEpoch: batch.producerEpoch, batches: [...kept, added] });
  }

  /** Forgets producers whose last batch is more than `idleMsMax` before `nowMs`; returns how many. */
  expire(nowMs: number, idleMsMax: number): number {
    let expired = 0;
    for (const [producerId, entry] of this.producers) {
      const lastMs = entry.batches.at(-1)?.timestampMs ?? 0;
      if (nowMs - lastMs <= idleMsMax) continue;
      this.producers.delete(producerId);
      expired += 1;
    }
    return expired;
  }

  entries(): ReadonlyMap<number, ProducerEntry> {
    return this.producers;
  }

  private checkFirst(batch: ProducerBatch): ProducerCheck {
    if (this.producers.size >= this.options.producersMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `${this.where(batch)}: the partition already tracks ${this.producers.size} producers (producersMax); retry once idle ones expire`, { retriable: true });
    }
    if (batch.baseSequence !== 0) {
      throw new TributaryError(
        'UNKNOWN_PRODUCER_ID',
        `${this.where(batch)}: the partition has no state for this producer (never written here, or expired) and its sequence ${batch.baseSequence} is not 0; call InitProducerId again`,
      );
    }
    return { kind: 'append' };
  }

  private checkSequenceStart(batch: ProducerBatch, what: string): ProducerCheck {
    if (batch.baseSequence === 0) return { kind: 'append' };
    throw new TributaryError('OUT_OF_ORDER_SEQUENCE', `${this.where(batch)}: ${what} must start at sequence 0, not ${batch.baseSequence}`);
  }

  private where(batch: ProducerBatch): string {
    return `partition "${this.options.partition}" producer ${batch.producerId}`;
  }
}

function lastSequenceOf(batch: ProducerBatch): number {
  return (batch.baseSequence + batch.recordCount - 1) % (producerSequenceMax + 1);
}

function nextSequence(lastSequence: number | undefined): number {
  return lastSequence === undefined || lastSequence === producerSequenceMax ? 0 : lastSequence + 1;
}

function assertBatch(batch: ProducerBatch): void {
  const { producerId, producerEpoch, baseSequence, recordCount } = batch;
  assert.ok(Number.isSafeInteger(producerId) && producerId >= 1, `producer id ${producerId} is not a producer id`);
  assert.ok(Number.isSafeInteger(producerEpoch) && producerEpoch >= 0, `producer epoch ${producerEpoch} is not an epoch`);
  assert.ok(Number.isSafeInteger(baseSequence) && baseSequence >= 0 && baseSequence <= producerSequenceMax, `sequence ${baseSequence} is not a sequence`);
  assert.ok(Number.isSafeInteger(recordCount) && recordCount >= 1, `record count ${recordCount} is not positive`);
}
