import assert from 'node:assert/strict';

/**
 * When a Subscription returns credit (pure: no timers, no I/O). Credit is returned for what the
 * application has consumed, never merely received, as a running total; one GrantCredit is in
 * flight at a time (totals are cumulative, so later consumption joins the next one). A grant is
 * due once half the window is unreported, so the broker rarely waits on it, or as soon as the
 * application has consumed everything received: otherwise a window that holds fewer than two
 * messages could leave the broker waiting for credit and the application waiting for data.
 */
export class SubscriptionCredit {
  private consumedBytes = 0;
  private reportedBytes = 0;
  private grantInFlight = false;

  constructor(private windowBytes: number) {
    assert.ok(Number.isSafeInteger(windowBytes) && windowBytes >= 1, `a window must be a positive integer, got ${windowBytes}`);
  }

  /** The application took every record of a message that charged `bytes`. */
  consumed(bytes: number): void {
    assert.ok(Number.isSafeInteger(bytes) && bytes >= 0, `consumed bytes must be a non-negative integer, got ${bytes}`);
    this.consumedBytes += bytes;
  }

  /** The running total to report now, or undefined; `drained`: nothing received is left unconsumed. */
  grantDue(drained: boolean): number | undefined {
    const unreported = this.consumedBytes - this.reportedBytes;
    if (this.grantInFlight || unreported === 0) return undefined;
    if (!drained && 2 * unreported < this.windowBytes) return undefined;
    this.grantInFlight = true;
    return this.consumedBytes;
  }

  /** The grant of `total` was answered with the window now in force. */
  granted(total: number, windowBytes: number): void {
    assert.ok(this.grantInFlight, 'a grant was answered that was not in flight');
    this.grantInFlight = false;
    this.reportedBytes = Math.max(this.reportedBytes, total);
    this.windowBytes = windowBytes;
  }

  /** The grant failed; its total goes again with the next one. */
  grantFailed(): void {
    this.grantInFlight = false;
  }
}
