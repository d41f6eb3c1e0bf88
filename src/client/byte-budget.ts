import { TributaryError } from '../errors/index.js';

interface Waiter {
  bytes: number;
  grant: () => void;
  fail: (error: TributaryError) => void;
  timer: NodeJS.Timeout;
}

/**
 * A bounded pool of bytes, such as the producer's buffer: `reserve` takes bytes or waits (first
 * come, first served) until enough are released, at most `waitMs`, and `release` gives them back.
 * Callers that would wait beyond `waitersMax` fail at once, so waiting itself is bounded.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly name: string,
    readonly capacityBytes: number,
    private readonly waitersMax: number,
  ) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 1) throw new RangeError(`${name} must be a positive integer of bytes, got ${capacityBytes}`);
  }

  get usedBytes(): number {
    return this.used;
  }

  reserve(bytes: number, waitMs: number): Promise<void> {
    if (bytes > this.capacityBytes) {
      return Promise.reject(new TributaryError('INVALID_REQUEST', `a record of ${bytes} bytes cannot fit in ${this.name} of ${this.capacityBytes} bytes; raise ${this.name}`));
    }
    if (this.waiters.length === 0 && this.used + bytes <= this.capacityBytes) {
      this.used += bytes;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.waitersMax) {
      return Promise.reject(this.exhausted(bytes, `${this.waiters.length} callers are already waiting`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        grant: resolve,
        fail: reject,
        timer: setTimeout(() => this.expire(waiter, waitMs), waitMs),
      };
      this.waiters.push(waiter);
    });
  }

  release(bytes: number): void {
    if (bytes > this.used) throw new RangeError(`${this.name}: releasing ${bytes} bytes, but only ${this.used} are reserved`);
    this.used -= bytes;
    // First come, first served: a large reservation at the head is not overtaken by small ones.
    for (let head = this.waiters[0]; head !== undefined && this.used + head.bytes <= this.capacityBytes; head = this.waiters[0]) {
      this.waiters.shift();
      clearTimeout(head.timer);
      this.used += head.bytes;
      head.grant();
    }
  }

  private expire(waiter: Waiter, waitMs: number): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    this.waiters.splice(index, 1);
    waiter.fail(this.exhausted(waiter.bytes, `none were released within ${waitMs} ms`));
    // The head may have been the one blocking smaller reservations behind it.
    this.release(0);
  }

  private exhausted(bytes: number, why: string): TributaryError {
    return new TributaryError('RESOURCE_EXHAUSTED', `${this.name} is full (${this.used} of ${this.capacityBytes} bytes in use) and ${bytes} more bytes are needed; ${why}`);
  }
}
