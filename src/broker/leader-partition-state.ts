import assert from 'node:assert/strict';
import { metadataLimits } from '../controller/metadata-limits.js';
import { TributaryError } from '../errors/index.js';
import { type FollowerProgress, FollowerReplica } from './follower-replica.js';
import { requireOffset } from './require-offset.js';

/** A leader's starting point for one partition in one leader epoch. */
export interface LeaderPartitionStateOptions {
  /** Kafka's name for the partition ("orders-3"), for messages. */
  readonly partition: string;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  /** The partition epoch of `isr`: ISR proposals are based on it (the controller fences by it). */
  readonly partitionEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly minInSyncReplicas: number;
  /** The leader's log end offset when it took this epoch: the first offset it may write. */
  readonly epochStartOffset: number;
  /** The high watermark it knew as a follower when elected. */
  readonly highWatermark: number;
  readonly leaderLogEndOffset: number;
  readonly leaderDurableEndOffset: number;
  readonly replicaLagTimeMaxMs: number;
  readonly nowMs: number;
}

/** The high watermark after an event; `advanced` when consumers (and waiting acks) may see more. */
export interface HighWatermarkChange {
  readonly highWatermark: number | undefined;
  readonly advanced: boolean;
}

/** What the leader asks the controller to make the ISR (Kafka's AlterPartition). */
export interface IsrChangeProposal {
  /** The whole proposed ISR, in replica order, always holding the leader. */
  readonly isr: readonly number[];
  /** The partition epoch of the ISR this change is based on; the controller rejects it if stale. */
  readonly partitionEpoch: number;
  readonly added: readonly number[];
  readonly removed: readonly number[];
  /** One sentence per member added or removed, for the log. */
  readonly reason: string;
}

/** A follower's report in an accepted fetch. */
export interface FollowerFetch {
  /** Where it asks to read from: its log end offset. */
  readonly fetchOffset: number;
  /** Every offset below this is fsynced in its log. */
  readonly durableEndOffset: number;
}

/**
 * The leader's view of one partition for one leader epoch: follower progress, the ISR and the
 * high watermark, with Kafka's rules plus durability (docs/REPLICATION.md, "Replication core").
 * The high watermark is the minimum DURABLE end offset over the maximal ISR, the leader's own
 * included, so an offset below it is fsynced on every in-sync replica; it never decreases, and it
 * is published only once it reaches `epochStartOffset` (KIP-207).
 *
 * Obligations of the host:
 * * Call `followerFetched` ONLY for a fetch that `divergingEpoch` accepted (answered undefined):
 *   a diverging follower's offsets name records the leader does not have.
 * * Send at most one proposal at a time, and report its outcome: `isrChangeCommitted` with the
 *   controller's answer, or `isrChangeFailed(proposal)`. Metadata deltas go to
 *   `isrChangeCommitted` too; one from another leader epoch means this object is obsolete.
 * * Release acks=ALL waiters only below `highWatermark()`, and re-check `assertEnoughReplicas()`
 *   when releasing them (Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND).
 */
export class LeaderPartitionState {
  readonly partition: string;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly minInSyncReplicas: number;
  readonly epochStartOffset: number;
  readonly replicaLagTimeMaxMs: number;
  private currentPartitionEpoch: number;
  private isr: ReadonlySet<number>;
  private readonly replicasById: ReadonlyMap<number, FollowerReplica>;
  private leaderLogEndOffset: number;
  private leaderDurableEndOffset: number;
  /** Never decreases; published only from epochStartOffset on. */
  private knownHighWatermark: number;
  private inFlight: IsrChangeProposal | undefined;

  constructor(options: LeaderPartitionStateOptions) {
    checkOptions(options);
    this.partition = options.partition;
    this.leaderId = options.leaderId;
    this.leaderEpoch = options.leaderEpoch;
    this.replicas = [...options.replicas];
    this.minInSyncReplicas = options.minInSyncReplicas;
    this.epochStartOffset = options.epochStartOffset;
    this.replicaLagTimeMaxMs = options.replicaLagTimeMaxMs;
    this.currentPartitionEpoch = options.partitionEpoch;
    this.isr = new Set(options.isr);
    this.replicasById = new Map(
      options.replicas
        .filter((id) => id !== options.leaderId)
        .map((id) => [id, new FollowerReplica(id, this.isr.has(id) ? options.nowMs : undefined)]),
    );
    this.leaderLogEndOffset = options.leaderLogEndOffset;
    this.leaderDurableEndOffset = options.leaderDurableEndOffset;
    this.knownHighWatermark = options.highWatermark;
    this.inFlight = undefined;
  }

  /** The leader wrote up to `logEndOffset` (not yet durable): followers may fetch it. */
  leaderAppended(logEndOffset: number): void {
    assertOffset('leader log end offset', logEndOffset);
    assert.ok(logEndOffset >= this.leaderLogEndOffset, `${this.where()}: leader log end offset ${logEndOffset} is below ${this.leaderLogEndOffset}; a leader never truncates its own log`);
    this.leaderLogEndOffset = logEndOffset;
  }

  /** A group commit made the leader's log durable up to `durableEndOffset`. */
  leaderDurable(durableEndOffset: number): HighWatermarkChange {
    assertOffset('leader durable end offset', durableEndOffset);
    assert.ok(
      durableEndOffset >= this.leaderDurableEndOffset && durableEndOffset <= this.leaderLogEndOffset,
      `${this.where()}: leader durable end offset ${durableEndOffset} must be from ${this.leaderDurableEndOffset} (the previous) to ${this.leaderLogEndOffset} (the log end)`,
    );
    this.leaderDurableEndOffset = durableEndOffset;
    return this.updateHighWatermark();
  }

  /**
   * An accepted fetch from follower `replicaId`. Offsets that go backwards (the follower truncated)
   * replace what it reported before, so the high watermark stops counting what it lost; the
   * published high watermark still never moves back (updateHighWatermark).
   */
  followerFetched(replicaId: number, fetch: FollowerFetch, nowMs: number): HighWatermarkChange {
    assertTime(nowMs);
    const follower = this.replicasById.get(replicaId);
    if (follower === undefined) {
      const why = replicaId === this.leaderId ? 'is the leader itself' : `is not a follower (replicas are [${this.replicas.join(', ')}])`;
      throw new TributaryError('INVALID_REQUEST', `${this.where()}: replica ${replicaId} ${why}`);
    }
    const fetchOffset = requireOffset(this.partition, `replica ${replicaId}'s fetch offset`, fetch.fetchOffset);
    const durableEndOffset = requireOffset(this.partition, `replica ${replicaId}'s durable end offset`, fetch.durableEndOffset);
    if (durableEndOffset > fetchOffset) {
      throw new TributaryError('INVALID_REQUEST', `${this.where()}: replica ${replicaId} reports durable end offset ${durableEndOffset} beyond its fetch offset ${fetchOffset}`);
    }
    if (fetchOffset > this.leaderLogEndOffset) {
      throw new TributaryError('OFFSET_OUT_OF_RANGE', `${this.where()}: replica ${replicaId} fetches from offset ${fetchOffset}, beyond the leader's log end offset ${this.leaderLogEndOffset}`);
    }
    follower.recordFetch(fetchOffset, durableEndOffset, this.leaderLogEndOffset, nowMs);
    return this.updateHighWatermark();
  }

  /** The published high watermark: undefined until it reaches `epochStartOffset` (KIP-207). */
  highWatermark(): number | undefined {
    return this.knownHighWatermark >= this.epochStartOffset ? this.knownHighWatermark : undefined;
  }

  /** The precondition of an acks=ALL write: the committed ISR has at least minInSyncReplicas members. */
  assertEnoughReplicas(): void {
    if (this.isr.size >= this.minInSyncReplicas) return;
    throw new TributaryError(
      'NOT_ENOUGH_REPLICAS',
      `partition "${this.partition}": the in-sync replicas [${this.isrList().join(', ')}] are fewer than minInSyncReplicas ${this.minInSyncReplicas}; acks=ALL writes are refused until a replica catches up (acks=LEADER still works)`,
    );
  }

  /**
   * The ISR change due now, or undefined when none is due or one is already in flight. Removes ISR
   * followers not caught up for more than replicaLagTimeMaxMs; adds caught-up replicas durable up
   * to max(high watermark, epochStartOffset), so an addition can never pull the high watermark
   * back and holds everything this leader's log had before its epoch.
   */
  proposeIsrChange(nowMs: number): IsrChangeProposal | undefined {
    assertTime(nowMs);
    if (this.inFlight !== undefined) return undefined;
    const removed: number[] = [];
    const added: number[] = [];
    const reasons: string[] = [];
    const joinOffset = Math.max(this.knownHighWatermark, this.epochStartOffset);
    for (const follower of this.replicasById.values()) {
      const lagging = follower.isLagging(nowMs, this.replicaLagTimeMaxMs);
      const durable = follower.durableEndOffset();
      if (this.isr.has(follower.replicaId) && lagging) {
        removed.push(follower.replicaId);
        const ago = follower.caughtUpAgoMs(nowMs);
        const since = ago === undefined ? 'has not caught up in this leader epoch' : `last caught up ${ago} ms ago`;
        reasons.push(`replica ${follower.replicaId} ${since} (replicaLagTimeMaxMs ${this.replicaLagTimeMaxMs})`);
      } else if (!this.isr.has(follower.replicaId) && !lagging && durable !== undefined && durable >= joinOffset) {
        added.push(follower.replicaId);
        reasons.push(`replica ${follower.replicaId} caught up, durable to ${durable} (needs ${joinOffset})`);
      }
    }
    if (removed.length === 0 && added.length === 0) return undefined;
    const isr = this.replicas.filter((id) => (this.isr.has(id) && !removed.includes(id)) || added.includes(id));
    assert.ok(isr.includes(this.leaderId), 'a proposed ISR always holds the leader');
    this.inFlight = { isr, partitionEpoch: this.currentPartitionEpoch, added, removed, reason: reasons.join('; ') };
    return this.inFlight;
  }

  /**
   * The controller committed `isr` at `partitionEpoch` (its answer, or a metadata delta). An epoch
   * not newer than the current one is a late duplicate and changes nothing. A newer one replaces
   * the ISR and ends any proposal in flight: it either is that proposal, or makes it stale (the
   * controller rejects a proposal based on an older partition epoch).
   */
  isrChangeCommitted(isr: readonly number[], partitionEpoch: number): HighWatermarkChange {
    assert.ok(Number.isSafeInteger(partitionEpoch) && partitionEpoch >= 0, `${this.where()}: partition epoch ${partitionEpoch} is not a safe integer from 0`);
    if (partitionEpoch <= this.currentPartitionEpoch) return { highWatermark: this.highWatermark(), advanced: false };
    checkMembers(this.where(), this.replicas, isr);
    assert.ok(isr.includes(this.leaderId), `${this.where()}: the committed ISR [${isr.join(', ')}] leaves out leader ${this.leaderId}; a new leader epoch needs a new LeaderPartitionState`);
    assert.ok(this.inFlight === undefined || this.inFlight.partitionEpoch < partitionEpoch);
    this.isr = new Set(isr);
    this.currentPartitionEpoch = partitionEpoch;
    this.inFlight = undefined;
    return this.updateHighWatermark();
  }

  /**
   * The controller rejected the proposal (or it could not be sent): another may be proposed. Its
   * additions leave the maximal ISR, which may let the high watermark advance. Pass the proposal
   * that failed: a late failure of one already superseded is then ignored instead of ending the
   * one now in flight; without it, whatever is in flight ends.
   */
  isrChangeFailed(failed?: Pick<IsrChangeProposal, 'partitionEpoch'>): HighWatermarkChange {
    const stale = failed !== undefined && this.inFlight !== undefined && failed.partitionEpoch !== this.inFlight.partitionEpoch;
    if (this.inFlight === undefined || stale) return { highWatermark: this.highWatermark(), advanced: false };
    this.inFlight = undefined;
    return this.updateHighWatermark();
  }

  followers(): readonly FollowerProgress[] {
    return [...this.replicasById.values()].map((follower) => follower.progress(this.isr.has(follower.replicaId)));
  }

  /** The committed ISR in replica order. */
  isrList(): readonly number[] {
    return this.replicas.filter((id) => this.isr.has(id));
  }

  partitionEpoch(): number {
    return this.currentPartitionEpoch;
  }

  /** The proposal awaiting the controller, if any. */
  inFlightProposal(): IsrChangeProposal | undefined {
    return this.inFlight;
  }

  /** The committed ISR plus the additions in flight (KIP-497): removals count only once committed. */
  maximalIsr(): readonly number[] {
    const added = this.inFlight?.added ?? [];
    return this.replicas.filter((id) => this.isr.has(id) || added.includes(id));
  }

  /**
   * Raises the high watermark to the minimum durable end offset over the maximal ISR when that is
   * higher. A member whose progress is unknown, or whose report went backwards, holds the high
   * watermark where it is: it is never lowered, because offsets below it may have been acknowledged
   * and served already.
   */
  private updateHighWatermark(): HighWatermarkChange {
    const before = this.highWatermark();
    const candidate = this.minimumDurableEndOffset();
    if (candidate !== undefined) this.knownHighWatermark = Math.max(this.knownHighWatermark, candidate);
    const after = this.highWatermark();
    assert.ok(this.knownHighWatermark <= this.leaderLogEndOffset, `${this.where()}: high watermark ${this.knownHighWatermark} beyond log end ${this.leaderLogEndOffset}`);
    return { highWatermark: after, advanced: after !== undefined && (before === undefined || after > before) };
  }

  /** Over the maximal ISR, the leader included; undefined while a member has not reported yet. */
  private minimumDurableEndOffset(): number | undefined {
    let minimum = this.leaderDurableEndOffset;
    for (const id of this.maximalIsr()) {
      if (id === this.leaderId) continue;
      const durable = this.replicasById.get(id)?.durableEndOffset();
      if (durable === undefined) return undefined;
      minimum = Math.min(minimum, durable);
    }
    return minimum;
  }

  private where(): string {
    return `partition "${this.partition}" leader ${this.leaderId} epoch ${this.leaderEpoch}`;
  }
}

function assertOffset(field: string, value: number): void {
  assert.ok(Number.isSafeInteger(value) && value >= 0, `${field} ${value} is not an offset (a safe integer from 0)`);
}

function assertTime(nowMs: number): void {
  assert.ok(Number.isSafeInteger(nowMs) && nowMs >= 0, `nowMs ${nowMs} is not a time (a safe integer from 0)`);
}

/** `members` are distinct replicas, at most replicationFactorMax of them, and at least one. */
function checkMembers(where: string, replicas: readonly number[], members: readonly number[]): void {
  assert.ok(members.length > 0, `${where}: the ISR must not be empty`);
  assert.equal(new Set(members).size, members.length, `${where}: the ISR [${members.join(', ')}] names a replica twice`);
  for (const id of members) assert.ok(replicas.includes(id), `${where}: ISR member ${id} is not a replica (replicas are [${replicas.join(', ')}])`);
}

function checkOptions(options: LeaderPartitionStateOptions): void {
  const where = `partition "${options.partition}"`;
  const { replicas, leaderId } = options;
  assert.ok(options.partition.length > 0, 'a partition needs a name for messages');
  assert.ok(replicas.length > 0 && replicas.length <= metadataLimits.replicationFactorMax, `${where}: ${replicas.length} replicas; from 1 to replicationFactorMax ${metadataLimits.replicationFactorMax} are allowed`);
  assert.equal(new Set(replicas).size, replicas.length, `${where}: replicas [${replicas.join(', ')}] name a broker twice`);
  assert.ok(replicas.includes(leaderId), `${where}: leader ${leaderId} is not a replica (replicas are [${replicas.join(', ')}])`);
  checkMembers(where, replicas, options.isr);
  assert.ok(options.isr.includes(leaderId), `${where}: the ISR [${options.isr.join(', ')}] leaves out leader ${leaderId}`);
  for (const [field, value] of [['leaderEpoch', options.leaderEpoch], ['partitionEpoch', options.partitionEpoch]] as const) {
    assert.ok(Number.isSafeInteger(value) && value >= 0, `${where}: ${field} ${value} is not a safe integer from 0`);
  }
  assert.ok(Number.isSafeInteger(options.minInSyncReplicas) && options.minInSyncReplicas >= 1, `${where}: minInSyncReplicas ${options.minInSyncReplicas} must be a positive integer`);
  assert.ok(Number.isSafeInteger(options.replicaLagTimeMaxMs) && options.replicaLagTimeMaxMs > 0, `${where}: replicaLagTimeMaxMs ${options.replicaLagTimeMaxMs} must be a positive integer`);
  assertTime(options.nowMs);
  const { highWatermark, epochStartOffset, leaderDurableEndOffset, leaderLogEndOffset } = options;
  for (const [field, value] of Object.entries({ highWatermark, epochStartOffset, leaderDurableEndOffset, leaderLogEndOffset })) assertOffset(`${where}: ${field}`, value);
  assert.ok(
    highWatermark <= epochStartOffset && epochStartOffset <= leaderLogEndOffset && leaderDurableEndOffset <= leaderLogEndOffset,
    `${where}: needs highWatermark ${highWatermark} ≤ epochStartOffset ${epochStartOffset} ≤ leaderLogEndOffset ${leaderLogEndOffset}, and leaderDurableEndOffset ${leaderDurableEndOffset} ≤ leaderLogEndOffset`,
  );
}
