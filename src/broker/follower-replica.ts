import assert from 'node:assert/strict';

/** What the leader knows of one follower, as `LeaderPartitionState.followers()` reports it. */
export interface FollowerProgress {
  readonly replicaId: number;
  /** The offset its last accepted fetch asked for: its log end; undefined before its first fetch. */
  readonly fetchOffset: number | undefined;
  /** Every offset below this was fsynced on the follower when it last fetched. */
  readonly durableEndOffset: number | undefined;
  readonly lastFetchMs: number | undefined;
  /** The last time it held everything the leader had; undefined when not known this epoch. */
  readonly lastCaughtUpMs: number | undefined;
  /** Member of the committed ISR (not counting a proposed addition). */
  readonly inIsr: boolean;
}

/**
 * One follower's fetch state on the leader, with Kafka's Replica.updateFetchState rules. The
 * offsets are REPLACED by every accepted fetch, even when they go backwards: they say what the
 * follower holds now, and the high watermark must never count a record a follower no longer has.
 * Only `lastCaughtUpMs` is a maximum, so a late report never makes a follower look more behind in
 * time than an earlier one proved it was.
 */
export class FollowerReplica {
  readonly replicaId: number;
  private fetchOffset: number | undefined;
  private durableOffset: number | undefined;
  private lastFetchMs: number | undefined;
  private lastFetchLeaderLogEndOffset: number | undefined;
  private lastCaughtUpMs: number | undefined;

  /** `lastCaughtUpMs`: the leader's start time for ISR members (a full lag window, as Kafka gives). */
  constructor(replicaId: number, lastCaughtUpMs: number | undefined) {
    this.replicaId = replicaId;
    this.lastCaughtUpMs = lastCaughtUpMs;
  }

  durableEndOffset(): number | undefined {
    return this.durableOffset;
  }

  /**
   * Records an accepted fetch. Caught up when the fetch reaches the leader's log end now (then at
   * `nowMs`), or the leader's log end as of its previous fetch (then at that previous fetch's time:
   * it held what the leader had then, and nothing proves more).
   */
  recordFetch(fetchOffset: number, durableEndOffset: number, leaderLogEndOffset: number, nowMs: number): void {
    assert.ok(durableEndOffset <= fetchOffset && fetchOffset <= leaderLogEndOffset, 'checked by the caller');
    if (fetchOffset >= leaderLogEndOffset) {
      this.caughtUpAt(nowMs);
    } else if (this.lastFetchLeaderLogEndOffset !== undefined && this.lastFetchMs !== undefined && fetchOffset >= this.lastFetchLeaderLogEndOffset) {
      this.caughtUpAt(this.lastFetchMs);
    }
    this.fetchOffset = fetchOffset;
    this.durableOffset = durableEndOffset;
    this.lastFetchLeaderLogEndOffset = leaderLogEndOffset;
    this.lastFetchMs = Math.max(this.lastFetchMs ?? nowMs, nowMs);
  }

  /** Not caught up for longer than `replicaLagTimeMaxMs` (or never, this epoch): Kafka's shrink rule. */
  isLagging(nowMs: number, replicaLagTimeMaxMs: number): boolean {
    return this.lastCaughtUpMs === undefined || nowMs - this.lastCaughtUpMs > replicaLagTimeMaxMs;
  }

  /** How long since it was last caught up, for the reason of a proposal; undefined when never. */
  caughtUpAgoMs(nowMs: number): number | undefined {
    return this.lastCaughtUpMs === undefined ? undefined : nowMs - this.lastCaughtUpMs;
  }

  progress(inIsr: boolean): FollowerProgress {
    return {
      replicaId: this.replicaId,
      fetchOffset: this.fetchOffset,
      durableEndOffset: this.durableOffset,
      lastFetchMs: this.lastFetchMs,
      lastCaughtUpMs: this.lastCaughtUpMs,
      inIsr,
    };
  }

  private caughtUpAt(timeMs: number): void {
    this.lastCaughtUpMs = Math.max(this.lastCaughtUpMs ?? timeMs, timeMs);
  }
}
