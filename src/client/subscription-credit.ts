import assert from 'node:assert/strict';

/**
 * How long credit for a drained subscription waits to be reported when it is less than half the
 * window. A broker can only be waiting for that credit when its next message does not fit what
 * is left of the window, which for small messages the half-window rule covers long before; the
 * wait is for windows near the message size. Without it, an application that keeps up with a
 * stream of small messages sent a GrantCredit call per message (a unary call costs the broker
 * more than the message did).
 */
export const drainedGrantDelayMs = 20;

/**
 * When a Subscription returns credit (pure: no timers, no I/O, time passed in). Credit is
 * returned for what the application has consumed, never merely received, as a running total; one
 * GrantCredit is in flight at a time (totals are cumulative, so later consumption joins the next
 * one). A grant is due once half the window is unreported, so the broker rarely waits on it, or
 * `drainedGrantDelayMs` after the application first consumed everything received with credit
 * unreported: otherwise a window that holds fewer than two messages could leave the broker
 * waiting for credit and the application waiting for data.
 */
export class SubscriptionCredit {
  private consumedBytes = 0;
  private reportedBytes = 0;
  private grantInFlight = false;
  /** When the application was first seen drained with credit unreported since the last grant. */
  private drainedSinceMs: number | undefined;

  constructor(private windowBytes: number) {
    assert.ok(Number.isSafeInteger(windowBytes) && windowBytes >= 1, `a window must be a positive integer, got ${windowBytes}`);
  }

  /** The application took every record of a message that charged `bytes`. */
  consumed(bytes: number): void {
    assert.ok(Number.isSafeInteger(bytes) && bytes >= 0, `consumed bytes must be a non-negative integer, got ${bytes}`);
    this.consumedBytes += bytes;
  }

  /** The running total to report at `nowMs`, or undefined; `drained`: nothing received is left unconsumed. */
  grantDue(drained: boolean, nowMs: number): number | undefined {
    const unreported = this.consumedBytes - this.reportedBytes;
    if (this.grantInFlight || unreported === 0) return undefined;
    if (2 * unreported < this.windowBytes) {
      if (!drained) return undefined;
      this.drainedSinceMs ??= nowMs;
      if (nowMs < this.drainedSinceMs + drainedGrantDelayMs) return undefined;
    }
    this.grantInFlight = true;
    this.drainedSinceMs = undefined;
    return this.consumedBytes;
  }

  /** When the drained rule makes a grant due (for the caller's timer); undefined when it does not apply. */
  drainedGrantAtMs(): number | undefined {
    return this.drainedSinceMs === undefined ? undefined : this.drainedSinceMs + drainedGrantDelayMs;
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
