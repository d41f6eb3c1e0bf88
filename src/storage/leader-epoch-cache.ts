import assert from 'node:assert/strict';

/** The first offset a leader epoch wrote (Kafka's leader-epoch-checkpoint entry). */
export interface EpochCheckpoint {
  readonly epoch: number;
  readonly startOffset: number;
}

/** The answer to OffsetsForLeaderEpoch: the largest epoch ≤ the one asked for, and where it ended. */
export interface EpochEndOffset {
  readonly epoch: number;
  readonly endOffset: number;
}

/**
 * A partition's leader-epoch checkpoints in memory, in epoch order (and so start-offset order),
 * with Kafka's LeaderEpochFileCache rules. Pure: the partition log persists what changes.
 */
export class LeaderEpochCache {
  private checkpoints: EpochCheckpoint[];

  constructor(checkpoints: readonly EpochCheckpoint[]) {
    this.checkpoints = [...checkpoints];
    this.checkpoints.forEach((checkpoint, position) => {
      const previous = this.checkpoints[position - 1];
      assert.ok(
        previous === undefined || (checkpoint.epoch > previous.epoch && checkpoint.startOffset >= previous.startOffset),
        `leader epoch ${checkpoint.epoch} at ${checkpoint.startOffset} does not follow epoch ${previous?.epoch} at ${previous?.startOffset}`,
      );
    });
  }

  all(): readonly EpochCheckpoint[] {
    return this.checkpoints;
  }

  latest(): EpochCheckpoint | undefined {
    return this.checkpoints[this.checkpoints.length - 1];
  }

  /** Records that `epoch` starts at `startOffset`; false when `epoch` is already the latest. */
  assign(epoch: number, startOffset: number): boolean {
    const latest = this.latest();
    if (latest !== undefined && epoch === latest.epoch) return false;
    assert.ok(
      latest === undefined || (epoch > latest.epoch && startOffset >= latest.startOffset),
      `leader epoch ${epoch} at ${startOffset} does not follow epoch ${latest?.epoch} at ${latest?.startOffset}`,
    );
    this.checkpoints.push({ epoch, startOffset });
    return true;
  }

  /**
   * Kafka's endOffsetFor: for the latest epoch the log end offset; for an earlier one the start of
   * the next larger epoch, paired with the largest epoch at or below the one asked for (or the one
   * asked for, if it precedes every checkpoint); undefined for an epoch beyond the latest or an
   * empty cache.
   */
  endOffsetFor(epoch: number, logEndOffset: number): EpochEndOffset | undefined {
    const latest = this.latest();
    if (latest === undefined) return undefined;
    if (epoch === latest.epoch) return { epoch, endOffset: logEndOffset };
    const higher = this.checkpoints.find((checkpoint) => checkpoint.epoch > epoch);
    if (higher === undefined) return undefined;
    const floor = this.checkpoints.findLast((checkpoint) => checkpoint.epoch <= epoch);
    return { epoch: floor?.epoch ?? epoch, endOffset: higher.startOffset };
  }

  /** Removes and returns the checkpoints starting at or after `endOffset` (the log was truncated there). */
  truncateFromEnd(endOffset: number): EpochCheckpoint[] {
    const keep = this.checkpoints.filter((checkpoint) => checkpoint.startOffset < endOffset);
    const removed = this.checkpoints.slice(keep.length);
    this.checkpoints = keep;
    return removed;
  }

  /**
   * The log now starts at `startOffset`: checkpoints that start at or before it go, except the
   * last of them, which now starts at `startOffset` (its epoch still covers the log's first offset).
   */
  truncateFromStart(startOffset: number): { removed: EpochCheckpoint[]; moved: EpochCheckpoint | undefined } {
    const atOrBefore = this.checkpoints.filter((checkpoint) => checkpoint.startOffset <= startOffset);
    const covering = atOrBefore[atOrBefore.length - 1];
    if (covering === undefined) return { removed: [], moved: undefined };
    const moved = { epoch: covering.epoch, startOffset };
    this.checkpoints = [moved, ...this.checkpoints.slice(atOrBefore.length)];
    return { removed: atOrBefore.slice(0, -1), moved: covering.startOffset === startOffset ? undefined : moved };
  }

  /** Removes and returns every checkpoint (the log was emptied and restarted at a later offset). */
  clear(): EpochCheckpoint[] {
    const removed = this.checkpoints;
    this.checkpoints = [];
    return removed;
  }
}
