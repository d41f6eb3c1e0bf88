import assert from 'node:assert/strict';
import { TributaryError } from '../errors/index.js';
import type { QueueSegment } from './queue-segment.js';

interface WriteRequest {
  readonly segment: QueueSegment;
  readonly position: number;
  readonly buffers: readonly Uint8Array[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Node passes one writev to the kernel, and IOV_MAX is 1024 buffers on Linux; frames have 2 or 3. */
const flushFramesMax = 256;

/**
 * Group commit for segment files: frames that arrive while a flush is in progress wait and go out
 * together in the next one, one vectored write and one fdatasync, so one sync makes many appends
 * durable. A frame's promise resolves only after the sync that covers it.
 *
 * When a flush spans a segment roll, the older segment is synced BEFORE the newer one is written:
 * a crash can then tear only the newest segment, which is the only one recovery may truncate.
 *
 * Fail-stop, like the node's GroupCommitWriter (docs/STORAGE.md): offsets are assigned when frames
 * are accepted, so after a failed write or sync, writing later frames would leave holes; every
 * queued and later frame is rejected and the queue must be reopened.
 */
export class QueueWriter {
  private readonly waiting: WriteRequest[] = [];
  private flushing = false;
  private failure: TributaryError | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly directory: string,
    private readonly flushBytesMax: number,
  ) {}

  /** The error that stopped the writer, if it stopped. */
  get failed(): TributaryError | undefined {
    return this.failure;
  }

  /** Writes the frame at `position` of `segment`, which the caller reserved just now. */
  write(segment: QueueSegment, position: number, buffers: readonly Uint8Array[], bytes: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ segment, position, buffers, bytes, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // One turn of the event loop lets every append issued meanwhile join the first flush.
        setImmediate(() => void this.run());
      }
    });
  }

  /** Resolves once every frame accepted so far is written (or rejected). */
  idle(): Promise<void> {
    if (!this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    while (this.waiting.length > 0 && this.failure === undefined) {
      const batch = this.takeBatch();
      try {
        await writeBatch(batch);
      } catch (error) {
        this.fail(error, batch);
        break;
      }
      for (const request of batch) request.resolve();
    }
    this.flushing = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private takeBatch(): WriteRequest[] {
    let bytes = 0;
    let count = 0;
    while (count < this.waiting.length && count < flushFramesMax) {
      const next = this.waiting[count] as WriteRequest;
      if (count > 0 && bytes + next.bytes > this.flushBytesMax) break;
      bytes += next.bytes;
      count++;
    }
    return this.waiting.splice(0, count);
  }

  private fail(error: unknown, batch: readonly WriteRequest[]): void {
    const message = error instanceof Error ? error.message : String(error);
    this.failure = new TributaryError('NOT_AVAILABLE', `collector queue "${this.directory}" failed to write or sync (${message}); it accepts nothing more: reopen it`, { retriable: false, cause: error });
    for (const request of [...batch, ...this.waiting.splice(0)]) request.reject(this.failure);
  }
}

/** Writes the batch segment by segment, syncing each before the next is touched, then the last. */
async function writeBatch(batch: readonly WriteRequest[]): Promise<void> {
  let start = 0;
  while (start < batch.length) {
    const segment = (batch[start] as WriteRequest).segment;
    let end = start + 1;
    while (end < batch.length && (batch[end] as WriteRequest).segment === segment) end++;
    const group = batch.slice(start, end);
    const first = group[0] as WriteRequest;
    let expectedPosition = first.position;
    for (const request of group) {
      assert.equal(request.position, expectedPosition, 'frames of one segment are written in the order their space was reserved');
      expectedPosition += request.bytes;
    }
    await segment.write(group.flatMap((request) => request.buffers), first.position);
    await segment.datasync();
    start = end;
  }
}
