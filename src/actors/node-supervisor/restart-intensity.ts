import assert from 'node:assert/strict';

/**
 * Erlang/OTP's restart intensity: at most `restartsMax` restarts within any `restartWindowMs`,
 * counted over the whole supervisor, not per child, so several children failing together (a
 * shared dependency is down) escalate as fast as one child failing repeatedly.
 */
export class RestartIntensity {
  /** Times of the restarts still inside the window, oldest first; never more than restartsMax + 1. */
  private readonly restartTimesMs: number[] = [];

  constructor(
    private readonly restartsMax: number,
    private readonly restartWindowMs: number,
  ) {}

  /** Records a restart at `nowMs`; returns false when it is one too many, and the supervisor must escalate. */
  admit(nowMs: number): boolean {
    const newestMs = this.restartTimesMs.at(-1);
    assert(newestMs === undefined || nowMs >= newestMs, `time went back from ${newestMs} to ${nowMs} ms`);
    while (this.restartTimesMs.length > 0 && (this.restartTimesMs[0] ?? 0) <= nowMs - this.restartWindowMs) this.restartTimesMs.shift();
    this.restartTimesMs.push(nowMs);
    assert(this.restartTimesMs.length <= this.restartsMax + 1);
    return this.restartTimesMs.length <= this.restartsMax;
  }

  /** Restarts counted in the window ending at the last admit. */
  restartsInWindow(): number {
    return this.restartTimesMs.length;
  }
}
