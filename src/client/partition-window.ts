import assert from 'node:assert/strict';
import type { BatchProducerFields } from '../rpc/clients/index.js';

/** One unacknowledged batch of a partition, as its window tracks it. */
export interface WindowEntry<Batch> {
  readonly batch: Batch;
  /** The idempotent producer's fields; undefined until the batch is first sent, and always without idempotence. */
  readonly stamp: BatchProducerFields | undefined;
  /** A produce call for it is outstanding. */
  readonly inFlight: boolean;
  /** Failed attempts so far. */
  readonly failures: number;
  /** The retry backoff: no resend starts before this time. */
  readonly retryAtMs: number;
}

type MutableEntry<Batch> = { -readonly [Field in keyof WindowEntry<Batch>]: WindowEntry<Batch>[Field] } & {
  /** Sent while the partition was recovering: its success ends the recovery. */
  sentRecovering: boolean;
};

/** What the partition's sender does next; effects as data, so the window stays pure. */
export type WindowAction<Batch> =
  /** Move to the next epoch (unless another partition did) and restamp every batch from sequence 0. */
  | { readonly kind: 'restamp'; readonly lost: BatchProducerFields }
  /** Stamp the batch if it has no stamp yet, then send it if `action` still says so. */
  | { readonly kind: 'send'; readonly entry: WindowEntry<Batch> }
  /** The next send waits for a retry backoff. */
  | { readonly kind: 'sleep'; readonly untilMs: number }
  /** There is room: add the partition's next ready batch, if it has one. */
  | { readonly kind: 'take' }
  /** Nothing to do before an answer arrives or a batch is ready. */
  | { readonly kind: 'idle' };

/**
 * The batches of one partition sent and not yet acknowledged, in sequence order (Kafka's
 * in-flight batches of a partition, with the Sender's recovery rules), pure. Open, it lets up to
 * `capacity` batches be unacknowledged at once and hands them out in order, so calls go out in
 * sequence order. A failed batch puts it in recovery: nothing new is taken, the batches still in
 * flight are let settle, then the unacknowledged ones are resent one at a time, oldest first,
 * until one of those resends succeeds. A lost sequence on the oldest batch (the leader does not
 * have the batch before it) also asks for a restamp from sequence 0 of a new epoch before any
 * resend. A batch stamped in a newer epoch than the batches before it waits until they are
 * acknowledged: a leader accepts sequence 0 of a new epoch after any gap, so sending it early
 * could put it before an older batch that is then retried and fenced.
 */
export class PartitionWindow<Batch> {
  private readonly entries: Array<MutableEntry<Batch>> = [];
  private recovering = false;
  /** The stamp of the oldest batch after its leader answered with a lost sequence, until the restamp. */
  private lost: BatchProducerFields | undefined;

  /** `idempotent`: batches are stamped before they are first sent. */
  constructor(private readonly idempotent: boolean) {}

  get size(): number {
    return this.entries.length;
  }

  /** Unacknowledged batches in sequence order, oldest first. */
  unacknowledged(): ReadonlyArray<WindowEntry<Batch>> {
    return this.entries;
  }

  /** Whether a new batch may be taken with `capacity` unacknowledged batches allowed. */
  hasRoom(capacity: number): boolean {
    assert.ok(Number.isSafeInteger(capacity) && capacity >= 1, `window capacity ${capacity} is not a positive integer`);
    return !this.recovering && this.lost === undefined && this.entries.length < capacity;
  }

  action(nowMs: number, capacity: number): WindowAction<Batch> {
    if (this.lost !== undefined) {
      const oldest = this.entries[0];
      assert.ok(oldest !== undefined, 'a lost sequence with no batch to restamp');
      if (this.inFlightCount() > 0) return { kind: 'idle' };
      return oldest.retryAtMs > nowMs ? { kind: 'sleep', untilMs: oldest.retryAtMs } : { kind: 'restamp', lost: this.lost };
    }
    const candidate = this.candidate();
    if (candidate !== undefined) return candidate.retryAtMs > nowMs ? { kind: 'sleep', untilMs: candidate.retryAtMs } : { kind: 'send', entry: candidate };
    return this.hasRoom(capacity) ? { kind: 'take' } : { kind: 'idle' };
  }

  add(batch: Batch): void {
    assert.ok(!this.recovering && this.lost === undefined, 'a batch taken while the partition recovers');
    this.entries.push({ batch, stamp: undefined, inFlight: false, failures: 0, retryAtMs: 0, sentRecovering: false });
  }

  stamped(entry: WindowEntry<Batch>, stamp: BatchProducerFields): void {
    const held = this.held(entry);
    assert.ok(this.idempotent && held.stamp === undefined, 'a batch stamped twice, or without idempotence');
    held.stamp = stamp;
  }

  /** Stamps from a new epoch for every unacknowledged batch, in order; nothing may be in flight. */
  restamped(stamps: readonly BatchProducerFields[]): void {
    assert.ok(this.lost !== undefined && this.inFlightCount() === 0, 'a restamp with batches in flight or no lost sequence');
    assert.equal(stamps.length, this.entries.length, 'a restamp must cover every unacknowledged batch');
    this.entries.forEach((entry, index) => (entry.stamp = stamps[index]));
    this.lost = undefined;
  }

  sent(entry: WindowEntry<Batch>): void {
    assert.ok(this.candidate() === entry, 'a batch sent out of sequence order');
    assert.ok(!this.idempotent || entry.stamp !== undefined, 'an idempotent batch sent without a stamp');
    const held = this.held(entry);
    held.inFlight = true;
    held.sentRecovering = this.recovering;
  }

  /** The batch is in the log: it leaves the window, and a success of a recovery resend reopens it. */
  acknowledged(entry: WindowEntry<Batch>): void {
    const held = this.held(entry);
    assert.ok(held.inFlight, 'an answer for a batch not in flight');
    this.remove(held);
    if (held.sentRecovering || this.entries.length === 0) this.recovering = false;
  }

  /** An attempt failed and the batch will be sent again, in order, no earlier than `retryAtMs`. */
  retry(entry: WindowEntry<Batch>, retryAtMs: number): void {
    const held = this.held(entry);
    held.inFlight = false;
    held.failures += 1;
    held.retryAtMs = retryAtMs;
    this.recovering = true;
  }

  /** The leader does not have the batch before the oldest one: a restamp in a new epoch comes first. */
  sequenceLost(entry: WindowEntry<Batch>): void {
    assert.ok(this.isOldest(entry) && entry.stamp !== undefined, 'a lost sequence is only one of the oldest stamped batch');
    this.retry(entry, 0);
    this.lost = entry.stamp;
  }

  /** The batch failed for good: it leaves the window, and the rest wait for what is in flight to settle. */
  failed(entry: WindowEntry<Batch>): void {
    this.remove(this.held(entry));
    this.recovering = this.entries.length > 0;
    if (this.entries.length === 0) this.lost = undefined;
  }

  isOldest(entry: WindowEntry<Batch>): boolean {
    return this.entries[0] === entry;
  }

  private inFlightCount(): number {
    return this.entries.filter((entry) => entry.inFlight).length;
  }

  /**
   * The batch to send next. Recovering, the oldest alone once nothing is in flight. Open, the
   * first batch not in flight (those in flight are the ones before it), unless it carries a newer
   * producer epoch than the oldest.
   */
  private candidate(): MutableEntry<Batch> | undefined {
    if (this.recovering) return this.inFlightCount() > 0 ? undefined : this.entries[0];
    const index = this.entries.findIndex((entry) => !entry.inFlight);
    if (index === -1) return undefined;
    assert.ok(this.entries.slice(index).every((entry) => !entry.inFlight), 'an open window sent a batch out of order');
    const candidate = this.entries[index] as MutableEntry<Batch>;
    const oldest = this.entries[0] as MutableEntry<Batch>;
    if (index > 0 && candidate.stamp !== undefined && !sameEpoch(candidate.stamp, oldest.stamp)) return undefined;
    return candidate;
  }

  private held(entry: WindowEntry<Batch>): MutableEntry<Batch> {
    const held = this.entries.find((candidate) => candidate === entry);
    assert.ok(held !== undefined, 'a batch that is not in the window (already settled?)');
    return held;
  }

  private remove(entry: MutableEntry<Batch>): void {
    this.entries.splice(this.entries.indexOf(entry), 1);
  }
}

function sameEpoch(stamp: BatchProducerFields, other: BatchProducerFields | undefined): boolean {
  return other !== undefined && stamp.producerId === other.producerId && stamp.producerEpoch === other.producerEpoch;
}
