import assert from 'node:assert/strict';
import { TributaryError } from '../../errors/index.js';

/** A subscription's flow-control counters, as GrantCreditResponse reports them. */
export interface CreditState {
  /** Running total of charged bytes sent on the subscription. */
  readonly sentBytes: number;
  /** The largest running total of consumed bytes the client has reported. */
  readonly consumedBytes: number;
  /** The window now in force. */
  readonly windowBytes: number;
}

/**
 * The credit rules of one subscription (consumer_service.proto, SubscribeData and
 * GrantCreditRequest), pure: no clock, no I/O. The server may send a message of `bytes` charged
 * bytes only when the outstanding bytes (sent − consumed) plus `bytes` fit the window, or when
 * nothing is outstanding, so a batch larger than the window still goes through, alone. Consumed
 * totals are cumulative: a lower one than already reported is ignored (retries and reordering are
 * harmless), a higher one than was sent is the client's bug and is refused naming both.
 */
export class CreditWindow {
  private sentBytes = 0;
  private consumedBytes = 0;
  private windowBytes: number;

  /** `windowBytes` as requested (0 = the default); it is clamped to `windowBytesMax`. */
  constructor(
    windowBytes: number,
    private readonly limits: { readonly windowBytesDefault: number; readonly windowBytesMax: number },
  ) {
    assert.ok(limits.windowBytesDefault >= 1 && limits.windowBytesDefault <= limits.windowBytesMax, `window default ${limits.windowBytesDefault} must be in [1, ${limits.windowBytesMax}]`);
    this.windowBytes = this.clamped(windowBytes === 0 ? limits.windowBytesDefault : windowBytes);
  }

  state(): CreditState {
    return { sentBytes: this.sentBytes, consumedBytes: this.consumedBytes, windowBytes: this.windowBytes };
  }

  /** Charged bytes sent and not yet reported consumed. */
  outstandingBytes(): number {
    return this.sentBytes - this.consumedBytes;
  }

  /**
   * Charged bytes the window has left. When nothing is outstanding a message may exceed it (see
   * mayCharge), so a batch larger than the window still gets through, alone.
   */
  roomBytes(): number {
    return Math.max(0, this.windowBytes - this.outstandingBytes());
  }

  /** Whether a message of `bytes` charged bytes may be sent now. */
  mayCharge(bytes: number): boolean {
    return this.outstandingBytes() === 0 || this.outstandingBytes() + bytes <= this.windowBytes;
  }

  /** Records a message sent; sending one the window does not allow is a bug of the sender. */
  charge(bytes: number): void {
    assert.ok(Number.isSafeInteger(bytes) && bytes >= 0, `charged bytes must be a non-negative integer, got ${bytes}`);
    assert.ok(this.mayCharge(bytes), `a message of ${bytes} bytes breaks the window: ${this.outstandingBytes()} outstanding of ${this.windowBytes}`);
    this.sentBytes += bytes;
  }

  /**
   * A GrantCredit: `consumedBytes` is the client's running total, `windowBytes` a new window (0
   * keeps the current one; larger values are clamped). Shrinking below what is outstanding sends
   * nothing more until enough is consumed. INVALID_REQUEST naming both totals when the client
   * reports more consumed than was sent.
   */
  grant(consumedBytes: number, windowBytes: number): CreditState {
    if (!Number.isSafeInteger(consumedBytes) || consumedBytes < 0) {
      throw new TributaryError('INVALID_REQUEST', `GrantCredit consumed_bytes must be a non-negative safe integer, got ${consumedBytes}`);
    }
    if (consumedBytes > this.sentBytes) {
      throw new TributaryError('INVALID_REQUEST', `GrantCredit consumed_bytes ${consumedBytes} is above the ${this.sentBytes} bytes sent on this subscription; report the running total of charged_bytes received and consumed`);
    }
    this.consumedBytes = Math.max(this.consumedBytes, consumedBytes);
    if (windowBytes !== 0) this.windowBytes = this.clamped(windowBytes);
    const state = this.state();
    assert.ok(state.consumedBytes <= state.sentBytes && state.windowBytes >= 1, 'consumed never passes sent and the window is never empty');
    return state;
  }

  private clamped(windowBytes: number): number {
    assert.ok(Number.isSafeInteger(windowBytes) && windowBytes >= 1, `a window must be a positive integer, got ${windowBytes}`);
    return Math.min(windowBytes, this.limits.windowBytesMax);
  }
}
