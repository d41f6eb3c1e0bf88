import assert from 'node:assert/strict';

/**
 * A follower's local high watermark: min(the leader's high watermark, its own log end offset),
 * never decreasing. The leader's value may be ahead of what this follower has copied; the follower
 * can only vouch for what it holds. When the leader publishes none (a new leader whose high
 * watermark is still below its epoch start offset, KIP-207) it stays where it is. It becomes the
 * leader's starting `highWatermark` if this follower is elected.
 */
export class FollowerHighWatermark {
  private current: number;

  constructor(initialHighWatermark: number) {
    assert.ok(Number.isSafeInteger(initialHighWatermark) && initialHighWatermark >= 0, `high watermark ${initialHighWatermark} is not an offset (a safe integer from 0)`);
    this.current = initialHighWatermark;
  }

  value(): number {
    return this.current;
  }

  /**
   * After a fetch response: `leaderHighWatermark` as the leader published it (undefined when it
   * published none) and this follower's log end offset after appending the response's records.
   */
  update(leaderHighWatermark: number | undefined, logEndOffset: number): number {
    assert.ok(Number.isSafeInteger(logEndOffset) && logEndOffset >= 0, `log end offset ${logEndOffset} is not an offset`);
    assert.ok(
      leaderHighWatermark === undefined || (Number.isSafeInteger(leaderHighWatermark) && leaderHighWatermark >= 0),
      `leader high watermark ${leaderHighWatermark} is not an offset`,
    );
    if (leaderHighWatermark !== undefined) this.current = Math.max(this.current, Math.min(leaderHighWatermark, logEndOffset));
    return this.current;
  }

  /**
   * The log was truncated to `logEndOffset` (reconciliation with a new leader). A truncation below
   * the high watermark discards records that were acknowledged, which only an unclean election
   * can cause: the high watermark then follows the log down (it must not name records the log no
   * longer has), and `lowered` says so, for the host to report the loss.
   */
  truncated(logEndOffset: number): { readonly highWatermark: number; readonly lowered: boolean } {
    assert.ok(Number.isSafeInteger(logEndOffset) && logEndOffset >= 0, `log end offset ${logEndOffset} is not an offset`);
    const lowered = logEndOffset < this.current;
    if (lowered) this.current = logEndOffset;
    return { highWatermark: this.current, lowered };
  }
}
