import { type FollowerHighWatermark, noEpoch, truncationOffset } from '../../broker/index.js';
import { TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import { backoffDelayMs } from '../../rpc/clients/backoff-delay-ms.js';
import type { PartitionFetchOutcome, PartitionFetchState, ReplicaFetchCall } from '../../rpc/clients/replication-stream.js';
import { formatPartition, type PartitionId, type PartitionLog } from '../../storage/index.js';
import type { Clock } from '../clock.js';

/** A partition this broker follows, as its replica machine hands it over. */
export interface FollowedPartition {
  readonly id: PartitionId;
  readonly topicId: string;
  readonly leaderEpoch: number;
  readonly log: PartitionLog;
  /** This replica's high watermark, kept across its roles: it starts the leader's if this broker is elected. */
  readonly highWatermark: FollowerHighWatermark;
}

/** One open ReplicateStream as the fetcher uses it (ReplicationStream in production). */
export interface ReplicationLink {
  fetch(call: ReplicaFetchCall): Promise<PartitionFetchOutcome[]>;
  close(): void;
}

export interface ReplicaFetcherSettings {
  /** How long the leader may hold a fetch when it has nothing new. */
  readonly fetchWaitMs: number;
  /** Batch bytes of one fetch result, and of one partition's share of it. */
  readonly fetchBytesMax: number;
  readonly partitionFetchBytesMax: number;
  /** Reconnect backoff after a failed stream. */
  readonly backoffMsMin: number;
  readonly backoffMsMax: number;
  /** A partition the leader answered with an error sits out this long before it is listed again. */
  readonly partitionErrorBackoffMs: number;
}

export const replicaFetcherDefaults: ReplicaFetcherSettings = {
  fetchWaitMs: 500, fetchBytesMax: 8 * 1024 * 1024, partitionFetchBytesMax: 1024 * 1024, backoffMsMin: 100, backoffMsMax: 2_000, partitionErrorBackoffMs: 200,
};

export interface ReplicaFetcherOptions {
  readonly leaderId: number;
  /** Opens a stream to the leader; it throws when the leader cannot be reached or refuses. */
  readonly connect: () => Promise<ReplicationLink>;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly settings: ReplicaFetcherSettings;
}

interface FetchEntry {
  readonly followed: FollowedPartition;
  readonly name: string;
  /** The leader must be told this partition's state in the next fetch. */
  listed: boolean;
  /** Sitting out after an error until this time; 0 when active. */
  pausedUntilMs: number;
}

/**
 * The follower side of replication from one leader broker (Kafka's ReplicaFetcherThread), over
 * one ReplicateStream for every partition this broker follows there: fetch, then per partition
 * append the leader's batches at the leader's offsets, or truncate where the logs diverge
 * (truncationOffset), or restart the log at the leader's log start. The next fetch reports the
 * new log end, which is also the durable end (appends resolve once fsynced), so the leader counts
 * only records this broker has on disk. A broken stream is reopened with backoff.
 */
export class ReplicaFetcher {
  private readonly entries = new Map<string, FetchEntry>();
  private removed: PartitionId[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  private link: ReplicationLink | undefined;
  private wake: () => void = () => undefined;

  constructor(private readonly options: ReplicaFetcherOptions) {}

  get size(): number {
    return this.entries.size;
  }

  follow(followed: FollowedPartition): void {
    const name = formatPartition(followed.id);
    this.entries.set(name, { followed, name, listed: false, pausedUntilMs: 0 });
    this.running ??= this.run();
  }

  unfollow(id: PartitionId): void {
    if (this.entries.delete(formatPartition(id))) this.removed.push(id);
  }

  /** Ends the stream; resolves once the fetch loop has stopped (no append it started is still unawaited). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.link?.close();
    this.wake();
    await this.running;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped && this.entries.size > 0) {
      try {
        this.link = await this.options.connect();
        failures = 0;
        // A new stream is a new session: the leader knows none of the partitions yet.
        for (const entry of this.entries.values()) entry.listed = false;
        this.removed = [];
        while (!this.stopped && this.entries.size > 0) await this.fetchOnce(this.link);
      } catch (error) {
        failures += 1;
        if (!this.stopped) this.options.logger.warn({ err: error, leader: this.options.leaderId, failures }, 'replication from the leader failed; reconnecting');
        await this.sleep(backoffDelayMs(failures, this.options.settings, this.options.random));
      } finally {
        this.link?.close();
        this.link = undefined;
      }
    }
    this.running = undefined;
    // A partition followed while the loop was ending needs a loop of its own.
    if (!this.stopped && this.entries.size > 0) this.running = this.run();
  }

  private async fetchOnce(link: ReplicationLink): Promise<void> {
    const nowMs = this.options.clock.nowMs();
    const active = [...this.entries.values()].filter((entry) => entry.pausedUntilMs <= nowMs);
    if (active.length === 0) {
      const nextMs = Math.min(...[...this.entries.values()].map((entry) => entry.pausedUntilMs));
      await this.sleep(nextMs - nowMs);
      return;
    }
    const listed = active.filter((entry) => !entry.listed);
    const { settings } = this.options;
    const outcomes = await link.fetch({
      maxWaitMs: settings.fetchWaitMs, minBytes: 1, maxBytes: settings.fetchBytesMax,
      partitions: listed.map((entry) => this.fetchState(entry)), removed: this.removed.splice(0),
    });
    for (const entry of listed) entry.listed = true;
    const fetched = new Map(active.map((entry) => [entry.name, entry]));
    await Promise.all(outcomes.map((outcome) => this.apply(outcome, fetched.get(formatPartition(outcome)))));
  }

  private fetchState(entry: FetchEntry): PartitionFetchState {
    const { followed } = entry;
    const { log } = followed;
    return {
      topic: followed.id.topic, partition: followed.id.partition, topicId: followed.topicId, currentLeaderEpoch: followed.leaderEpoch,
      fetchOffset: log.logEndOffset(), lastFetchedEpoch: log.leaderEpochCheckpoints().at(-1)?.epoch ?? noEpoch, durableEndOffset: log.logEndOffset(),
      logStartOffset: log.logStartOffset(), partitionMaxBytes: this.options.settings.partitionFetchBytesMax,
    };
  }

  /**
   * One partition's answer. An entry removed or replaced (a new leader epoch) while the fetch was
   * out ignores it: its replica machine may already have handed the log to someone else.
   */
  private async apply(outcome: PartitionFetchOutcome, fetched: FetchEntry | undefined): Promise<void> {
    const entry = this.entries.get(formatPartition(outcome));
    if (entry === undefined || entry !== fetched) return;
    try {
      await this.applyTo(entry, outcome);
    } catch (error) {
      this.pause(entry, TributaryError.from(error));
    }
  }

  private async applyTo(entry: FetchEntry, outcome: PartitionFetchOutcome): Promise<void> {
    const { log, highWatermark } = entry.followed;
    if (outcome.diverging !== undefined) {
      const offset = truncationOffset(outcome.diverging, log.endOffsetForEpoch(outcome.diverging.epoch), log.logEndOffset());
      this.options.logger.info({ partition: entry.name, diverging: outcome.diverging, truncateTo: offset, logEndOffset: log.logEndOffset() }, 'follower log diverges from the leader; truncating');
      const truncated = highWatermark.truncated(await log.truncateTo(offset));
      if (truncated.lowered) {
        this.options.logger.error({ partition: entry.name, highWatermark: truncated.highWatermark }, 'truncated below this replica\'s high watermark: acknowledged records were discarded (only an unclean election causes this)');
      }
      entry.listed = false;
      return;
    }
    if (outcome.batches.length > 0) {
      await Promise.all(outcome.batches.map(({ baseOffset, batch }) => log.append(batch, { baseOffset })));
      entry.listed = false;
    }
    if (outcome.error !== undefined) return this.onError(entry, outcome);
    // Follow the leader's log start up (Kafka's maybeIncrementLogStartOffset) before vouching for
    // its high watermark: below its log start the leader can no longer reconcile, so a divergent
    // record kept there would be counted as the leader's (KAFKA-7415).
    if (outcome.logStartOffset > log.logStartOffset()) await log.advanceLogStartOffset(outcome.logStartOffset);
    highWatermark.update(outcome.highWatermark, log.logEndOffset());
  }

  private async onError(entry: FetchEntry, outcome: PartitionFetchOutcome): Promise<void> {
    const { log } = entry.followed;
    const error = outcome.error;
    if (error?.code === 'OFFSET_OUT_OF_RANGE' && log.logEndOffset() < outcome.logStartOffset) {
      // The leader deleted what this follower lacks: restart the log where the leader's begins.
      this.options.logger.warn({ partition: entry.name, logEndOffset: log.logEndOffset(), leaderLogStartOffset: outcome.logStartOffset }, 'follower restarts its log at the leader\'s log start');
      await log.advanceLogStartOffset(outcome.logStartOffset);
      entry.listed = false;
      return;
    }
    if (error !== undefined) this.pause(entry, error);
  }

  /** Leaves the session for a while: the leader would only answer the same error at once again. */
  private pause(entry: FetchEntry, error: TributaryError): void {
    const level = error.retriable ? 'debug' : 'warn';
    this.options.logger[level]({ err: error, partition: entry.name, leader: this.options.leaderId }, 'the leader refused a partition fetch; retrying after a pause');
    entry.pausedUntilMs = this.options.clock.nowMs() + this.options.settings.partitionErrorBackoffMs;
    if (entry.listed) this.removed.push(entry.followed.id);
    entry.listed = false;
  }

  /** A pause that `stop` cuts short. */
  private sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.options.clock.setTimer(Math.max(0, delayMs), resolve);
      this.wake = () => {
        cancel();
        resolve();
      };
    });
  }
}
