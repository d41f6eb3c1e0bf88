import assert from 'node:assert/strict';
import { type PackedWriteBatch, packedWriteBatchBytes } from './packed-write-batch.js';

/**
 * Bounds on what one request to the write thread carries: the bytes bound how long one DB::Write
 * holds the WAL (a single larger write goes alone); the count bounds the reply fan-out.
 */
export interface WriteCoalescerBounds {
  readonly writesMax: number;
  readonly bytesMax: number;
}

/** One caller's write: packed bytes and whether it asked for a sync. */
export interface CoalescedWrite {
  readonly batch: PackedWriteBatch;
  readonly sync: boolean;
}

/** What goes to the write thread in one round trip: applied as ONE batch, synced if any asked. */
export interface CoalescedRequest {
  readonly writes: readonly PackedWriteBatch[];
  readonly sync: boolean;
}

interface QueuedWrite extends CoalescedWrite {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The queue in front of the write thread, kept apart from the thread so its rules can be tested
 * alone. One request is in flight at a time, which keeps writes in call order; writes arriving
 * meanwhile queue, and when the answer comes every queued write (up to the bounds, at least one)
 * goes as the next request. Each caller settles with the answer of the request that covered it:
 * resolved only after that write (and its sync) finished, rejected with its error if it failed.
 */
export class WriteCoalescer {
  readonly #send: (request: CoalescedRequest) => void;
  readonly #bounds: WriteCoalescerBounds;
  #queued: QueuedWrite[] = [];
  #inFlight: readonly QueuedWrite[] | undefined;

  constructor(send: (request: CoalescedRequest) => void, bounds: WriteCoalescerBounds) {
    assert.ok(Number.isSafeInteger(bounds.writesMax) && bounds.writesMax >= 1, `writesMax must be a positive integer, got ${bounds.writesMax}`);
    assert.ok(Number.isSafeInteger(bounds.bytesMax) && bounds.bytesMax >= 1, `bytesMax must be a positive integer, got ${bounds.bytesMax}`);
    this.#send = send;
    this.#bounds = bounds;
  }

  /** Writes accepted and not yet answered, the ones in flight included. */
  get pendingCount(): number {
    return this.#queued.length + (this.#inFlight?.length ?? 0);
  }

  get idle(): boolean {
    return this.pendingCount === 0;
  }

  write(write: CoalescedWrite): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queued.push({ ...write, resolve, reject });
      if (this.#inFlight === undefined) this.#sendQueued();
    });
  }

  /** The request in flight finished: settles every caller it covered, then sends the next. */
  answered(error: Error | undefined): void {
    const covered = this.#inFlight;
    assert.ok(covered !== undefined, 'an answer arrived with no request in flight');
    this.#inFlight = undefined;
    for (const write of covered) {
      if (error === undefined) write.resolve();
      else write.reject(error);
    }
    if (this.#queued.length > 0) this.#sendQueued();
  }

  /** The write thread is gone: every accepted write, in flight or queued, fails with `error`. */
  failAll(error: Error): void {
    for (const write of [...(this.#inFlight ?? []), ...this.#queued]) write.reject(error);
    this.#inFlight = undefined;
    this.#queued = [];
  }

  #sendQueued(): void {
    let bytes = 0;
    let count = 0;
    for (const write of this.#queued) {
      const writeBytes = packedWriteBatchBytes(write.batch);
      if (count === this.#bounds.writesMax || (count > 0 && bytes + writeBytes > this.#bounds.bytesMax)) break;
      bytes += writeBytes;
      count++;
    }
    const covered = this.#queued.splice(0, count);
    this.#inFlight = covered;
    try {
      this.#send({ writes: covered.map((write) => write.batch), sync: covered.some((write) => write.sync) });
    } catch (error) {
      // Never sent, so never answered: its callers fail now, and the queue moves on.
      this.answered(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
