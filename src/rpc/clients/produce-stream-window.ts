import assert from 'node:assert/strict';
import { TributaryError } from '../../errors/index.js';

/** The in-flight window a broker grants in ProduceStreamOpened. */
export interface ProduceStreamWindowBounds {
  /** Most appends in flight at once, at least 1. */
  readonly requestsMax: number;
  /** Most RecordBatch.records bytes in flight at once; one larger append may go alone. */
  readonly bytesMax: number;
}

/** One append the window holds, with whatever its owner keeps beside it. */
export interface ProduceStreamWindowEntry<Item> {
  readonly correlationId: number;
  /** The append's RecordBatch.records bytes: what the broker counts against the byte window. */
  readonly bytes: number;
  readonly item: Item;
}

/**
 * The client side of one ProduceStream's flow control, without the call: appends get correlation
 * ids from 1 in call order, wait in a bounded local queue, and go in flight strictly in that order
 * while the broker's window has room. It never lets a later append overtake a queued one, because
 * the broker appends one partition's batches in the order they arrive. The admission rule is the
 * broker's (src/rpc/services/produce-stream.ts): breaking it would end the stream.
 */
export class ProduceStreamWindow<Item> {
  private bounds: ProduceStreamWindowBounds | undefined;
  /** Appends not yet sent, in call order; bounded by queuedMax. */
  private readonly queued: Array<ProduceStreamWindowEntry<Item>> = [];
  private readonly inFlight = new Map<number, ProduceStreamWindowEntry<Item>>();
  private inFlightBytes = 0;
  private nextCorrelationId = 1;

  constructor(private readonly queuedMax: number) {
    assert.ok(Number.isSafeInteger(queuedMax) && queuedMax >= 1, `queuedMax must be a positive integer, got ${queuedMax}`);
  }

  /** Whether nothing is queued or in flight. */
  get idle(): boolean {
    return this.queued.length === 0 && this.inFlight.size === 0;
  }

  /** Queues one append and returns its correlation id; a full queue is a retriable RESOURCE_EXHAUSTED. */
  enqueue(bytes: number, item: Item): number {
    assert.ok(Number.isSafeInteger(bytes) && bytes >= 0, `bytes must be a non-negative integer, got ${bytes}`);
    if (this.queued.length >= this.queuedMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `${this.queued.length} appends already wait for the produce stream's window; the queue holds at most ${this.queuedMax}, so retry after results arrive`, { retriable: true });
    }
    const correlationId = this.nextCorrelationId++;
    this.queued.push({ correlationId, bytes, item });
    return correlationId;
  }

  /** Takes the broker's window, once; INVALID_REQUEST naming a bound the broker should never send. */
  open(bounds: ProduceStreamWindowBounds): void {
    assert.ok(this.bounds === undefined, 'a produce stream window is opened once');
    if (!Number.isSafeInteger(bounds.requestsMax) || bounds.requestsMax < 1) {
      throw new TributaryError('INVALID_REQUEST', `the broker opened the produce stream with max_in_flight_requests ${bounds.requestsMax}; it must be at least 1`);
    }
    if (!Number.isSafeInteger(bounds.bytesMax) || bounds.bytesMax < 0) {
      throw new TributaryError('INVALID_REQUEST', `the broker opened the produce stream with max_in_flight_bytes ${bounds.bytesMax}; it must be a non-negative integer`);
    }
    this.bounds = bounds;
  }

  /** Moves the queued appends that fit the window into flight and returns them; SEND THEM IN THIS ORDER. */
  takeSendable(): Array<ProduceStreamWindowEntry<Item>> {
    const sendable: Array<ProduceStreamWindowEntry<Item>> = [];
    for (let next = this.queued[0]; next !== undefined && this.fits(next.bytes); next = this.queued[0]) {
      this.queued.shift();
      this.inFlight.set(next.correlationId, next);
      this.inFlightBytes += next.bytes;
      sendable.push(next);
    }
    return sendable;
  }

  /** Removes and returns the in-flight append a result answers; undefined for an id not in flight. */
  settle(correlationId: number): ProduceStreamWindowEntry<Item> | undefined {
    const entry = this.inFlight.get(correlationId);
    if (entry === undefined) return undefined;
    this.inFlight.delete(correlationId);
    this.inFlightBytes -= entry.bytes;
    assert.ok(this.inFlightBytes >= 0, `in-flight bytes went negative (${this.inFlightBytes}) settling append ${correlationId}`);
    return entry;
  }

  /** Removes and returns every append, in flight first, then queued: a failed stream settles them all. */
  takeAll(): Array<ProduceStreamWindowEntry<Item>> {
    const all = [...this.inFlight.values(), ...this.queued];
    this.inFlight.clear();
    this.inFlightBytes = 0;
    this.queued.length = 0;
    return all;
  }

  private fits(bytes: number): boolean {
    if (this.bounds === undefined) return false;
    if (this.inFlight.size >= this.bounds.requestsMax) return false;
    // The broker's rule: one append larger than the byte window goes only when nothing else is in flight.
    return this.inFlight.size === 0 || this.inFlightBytes + bytes <= this.bounds.bytesMax;
  }
}
