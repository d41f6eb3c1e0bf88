import { type FollowerHighWatermark, noEpoch, truncationOffset } from '../../broker/index.js';
import { TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import { backoffDelayMs } from '../../rpc/clients/backoff-delay-ms.js';
import type { DurableEndReport, PartitionFetchOutcome, PartitionFetchState, ReplicaFetchCall } from '../../rpc/clients/replication-stream.js';
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
  /** Sends durable ends without waiting for an answer (there is none); a no-op on a broken link. */
  ack(reports: readonly DurableEndReport[]): void;
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
  /**
   * Fetch results whose batches are being written (not yet durable) while the next fetch is out:
   * the bound on pipelining, and so on the unsynced bytes a follower holds (this times fetchBytesMax).
   */
  readonly unsyncedFetchesMax: number;
}

export const replicaFetcherDefaults: ReplicaFetcherSettings = {
  fetchWaitMs: 500, fetchBytesMax: 8 * 1024 * 1024, partitionFetchBytesMax: 1024 * 1024, backoffMsMin: 100, backoffMsMax: 2_000, partitionErrorBackoffMs: 200,
  unsyncedFetchesMax: 4,
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
  /** Where the next fetch reads: past the batches handed to the log, durable or not yet. */
  fetchOffset: number;
  /**
   * The leader epoch of the batch before fetchOffset, which the leader checks the log against.
   * Not read from the log's checkpoints: an append handed over has not necessarily recorded its
   * epoch there yet, and a stale epoch would look like a divergence and truncate valid records.
   */
  fetchEpoch: number;
  /** What the leader's session holds: the fetch offset last listed and the durable end last reported. */
  sessionFetchOffset: number;
  sessionDurableEndOffset: number;
  /** This partition's results applied in arrival order: each waits for the one before. */
  applied: Promise<void>;
}

/**
 * The follower side of replication from one leader broker (Kafka's ReplicaFetcherThread), over
 * one ReplicateStream for every partition this broker follows there: fetch, then per partition
 * append the leader's batches at the leader's offsets, or truncate where the logs diverge
 * (truncationOffset), or restart the log at the leader's log start.
 *
 * Fetches are pipelined: the next fetch goes out while the batches of the last ones are still
 * being written (at most `unsyncedFetchesMax` results unsynced), so the transfer of one batch
 * overlaps the fsync of the one before. The leader counts only what is durable here: a fetch
 * lists the durable end (the log end: appends resolve once fsynced), and a durable end reached
 * between fetches goes in a ReplicateAck. Anything that reshapes the log (a truncation, a new
 * log start, an error) first waits for every write in flight. A broken stream is reopened with
 * backoff.
 */
export class ReplicaFetcher {
  private readonly entries = new Map<string, FetchEntry>();
  /** Results being written, at most unsyncedFetchesMax; each settles once durable (or failed and paused). */
  private readonly unsynced = new Set<Promise<void>>();
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
    const fetchOffset = followed.log.appendedEndOffset();
    const fetchEpoch = lastEpochOf(followed.log);
    this.entries.set(name, { followed, name, listed: false, pausedUntilMs: 0, fetchOffset, fetchEpoch, sessionFetchOffset: fetchOffset, sessionDurableEndOffset: 0, applied: Promise.resolve() });
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
        await this.settleUnsynced();
        for (const entry of this.entries.values()) this.relist(entry);
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
    await this.settleUnsynced();
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
    const listed = active.filter((entry) => !entry.listed).map((entry) => ({ entry, state: this.fetchState(entry) }));
    const states = listed.map(({ state }) => state);
    const { settings } = this.options;
    const outcome = link.fetch({ maxWaitMs: settings.fetchWaitMs, minBytes: 1, maxBytes: settings.fetchBytesMax, partitions: states, removed: this.removed.splice(0) });
    // The leader's session holds these states from now on: the stream delivers them before any
    // ack sent while the fetch waits there, which is what lets an ack release acks=all writes.
    for (const { entry, state } of listed) this.listedAs(entry, state);
    const outcomes = await outcome;
    const fetched = new Map(active.map((entry) => [entry.name, entry]));
    const reshaping: Array<Promise<void>> = [];
    for (const outcome of outcomes) {
      const entry = this.entries.get(formatPartition(outcome));
      // An entry removed or replaced (a new leader epoch) while the fetch was out ignores it: its
      // replica machine may already have handed the log to someone else.
      if (entry === undefined || entry !== fetched.get(entry.name)) continue;
      if (reshapesLog(outcome, entry.followed.log)) reshaping.push(this.reshape(entry, outcome));
      else this.applyInOrder(entry, outcome, link);
    }
    // A truncation or a new log start changes where the next fetch reads: it goes after them.
    if (reshaping.length > 0) await Promise.all([...reshaping, this.settleUnsynced()]);
    while (this.unsynced.size >= settings.unsyncedFetchesMax) await Promise.race(this.unsynced);
  }

  private fetchState(entry: FetchEntry): PartitionFetchState {
    const { followed } = entry;
    const { log } = followed;
    return {
      topic: followed.id.topic, partition: followed.id.partition, topicId: followed.topicId, currentLeaderEpoch: followed.leaderEpoch,
      fetchOffset: entry.fetchOffset, lastFetchedEpoch: entry.fetchEpoch, durableEndOffset: log.logEndOffset(),
      logStartOffset: log.logStartOffset(), partitionMaxBytes: this.options.settings.partitionFetchBytesMax,
    };
  }

  private listedAs(entry: FetchEntry, state: PartitionFetchState): void {
    entry.listed = true;
    entry.sessionFetchOffset = state.fetchOffset;
    entry.sessionDurableEndOffset = state.durableEndOffset;
  }

  /** The next fetch lists the partition again, from where its log really ends (its appends settled). */
  private relist(entry: FetchEntry): void {
    entry.listed = false;
    entry.fetchOffset = entry.followed.log.appendedEndOffset();
    entry.fetchEpoch = lastEpochOf(entry.followed.log);
  }

  /**
   * Batches (or only a new high watermark): the appends start now, in arrival order, and the next
   * fetch reads past them; the high watermark and the durable end follow once they are fsynced.
   */
  private applyInOrder(entry: FetchEntry, outcome: PartitionFetchOutcome, link: ReplicationLink): void {
    const { log, highWatermark } = entry.followed;
    const appends = outcome.batches.map(({ baseOffset, batch }) => log.append(batch, { baseOffset }));
    const last = outcome.batches.at(-1);
    if (last !== undefined) {
      entry.fetchOffset = last.baseOffset + last.batch.recordCount;
      entry.fetchEpoch = last.batch.partitionLeaderEpoch;
      entry.listed = false;
    }
    const applied = Promise.all([entry.applied, ...appends]).then(
      () => {
        highWatermark.update(outcome.highWatermark, log.logEndOffset());
        if (outcome.error !== undefined) this.pause(entry, outcome.error);
        else this.reportDurableEnd(entry, link);
      },
      (error: unknown) => this.pause(entry, TributaryError.from(error)),
    );
    entry.applied = applied;
    if (appends.length === 0) return;
    this.unsynced.add(applied);
    void applied.finally(() => this.unsynced.delete(applied));
  }

  /**
   * Tells the leader between fetches how far this log is durable, when its session has listed the
   * partition at or past that offset (otherwise the next fetch lists it anyway).
   */
  private reportDurableEnd(entry: FetchEntry, link: ReplicationLink): void {
    if (this.entries.get(entry.name) !== entry || this.link !== link || !entry.listed) return;
    const durableEndOffset = entry.followed.log.logEndOffset();
    if (durableEndOffset <= entry.sessionDurableEndOffset || durableEndOffset > entry.sessionFetchOffset) return;
    entry.sessionDurableEndOffset = durableEndOffset;
    const { followed } = entry;
    link.ack([{ topic: followed.id.topic, partition: followed.id.partition, currentLeaderEpoch: followed.leaderEpoch, durableEndOffset }]);
  }

  /** A divergence, a new log start or an error: handled after the partition's writes in flight. */
  private async reshape(entry: FetchEntry, outcome: PartitionFetchOutcome): Promise<void> {
    try {
      await entry.applied;
      await this.reshapeNow(entry, outcome);
    } catch (error) {
      this.pause(entry, TributaryError.from(error));
    }
  }

  private async reshapeNow(entry: FetchEntry, outcome: PartitionFetchOutcome): Promise<void> {
    const { log, highWatermark } = entry.followed;
    if (outcome.diverging !== undefined) {
      const offset = truncationOffset(outcome.diverging, log.endOffsetForEpoch(outcome.diverging.epoch), log.logEndOffset());
      this.options.logger.info({ partition: entry.name, diverging: outcome.diverging, truncateTo: offset, logEndOffset: log.logEndOffset() }, 'follower log diverges from the leader; truncating');
      const truncated = highWatermark.truncated(await log.truncateTo(offset));
      if (truncated.lowered) {
        this.options.logger.error({ partition: entry.name, highWatermark: truncated.highWatermark }, 'truncated below this replica\'s high watermark: acknowledged records were discarded (only an unclean election causes this)');
      }
      this.relist(entry);
      return;
    }
    if (outcome.batches.length > 0) {
      await Promise.all(outcome.batches.map(({ baseOffset, batch }) => log.append(batch, { baseOffset })));
      this.relist(entry);
    }
    if (outcome.error !== undefined) return this.onError(entry, outcome);
    // Follow the leader's log start up (Kafka's maybeIncrementLogStartOffset) before vouching for
    // its high watermark: below its log start the leader can no longer reconcile, so a divergent
    // record kept there would be counted as the leader's (KAFKA-7415).
    if (outcome.logStartOffset > log.logStartOffset()) await log.advanceLogStartOffset(outcome.logStartOffset);
    highWatermark.update(outcome.highWatermark, log.logEndOffset());
    this.relist(entry);
  }

  private async onError(entry: FetchEntry, outcome: PartitionFetchOutcome): Promise<void> {
    const { log } = entry.followed;
    const error = outcome.error;
    if (error?.code === 'OFFSET_OUT_OF_RANGE' && log.logEndOffset() < outcome.logStartOffset) {
      // The leader deleted what this follower lacks: restart the log where the leader's begins.
      this.options.logger.warn({ partition: entry.name, logEndOffset: log.logEndOffset(), leaderLogStartOffset: outcome.logStartOffset }, 'follower restarts its log at the leader\'s log start');
      await log.advanceLogStartOffset(outcome.logStartOffset);
      this.relist(entry);
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
    this.relist(entry);
  }

  /** Waits for every result being written: nothing this fetcher started is left unawaited. */
  private async settleUnsynced(): Promise<void> {
    while (this.unsynced.size > 0) await Promise.all(this.unsynced);
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

/** The epoch of the log's last batch; `noEpoch` for an empty log. */
function lastEpochOf(log: PartitionLog): number {
  return log.leaderEpochCheckpoints().at(-1)?.epoch ?? noEpoch;
}

/**
 * Whether the leader's answer changes the log's shape rather than extending it: a divergence (a
 * truncation), an error (perhaps a restart at the leader's log start), or a new log start.
 */
function reshapesLog(outcome: PartitionFetchOutcome, log: PartitionLog): boolean {
  return outcome.diverging !== undefined || (outcome.error !== undefined && outcome.batches.length === 0) || outcome.logStartOffset > log.logStartOffset();
}
