import type { Logger } from '../../observability/index.js';
import { formatPartition, type PartitionId } from '../../storage/index.js';
import type { Clock } from '../clock.js';
import { type FollowedPartition, ReplicaFetcher, type ReplicaFetcherSettings, type ReplicationLink } from './replica-fetcher.js';

export interface ReplicaFetchersOptions {
  /** Opens a replication stream to broker `leaderId`. */
  readonly connect: (leaderId: number) => Promise<ReplicationLink>;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly settings: ReplicaFetcherSettings;
}

/**
 * Every ReplicaFetcher of this broker, one per leader broker it follows partitions of (Kafka's
 * ReplicaFetcherManager): a partition moves to another fetcher when its leader changes, and a
 * fetcher left with no partition is stopped.
 */
export class ReplicaFetchers {
  private readonly byLeader = new Map<number, ReplicaFetcher>();
  private readonly leaderByPartition = new Map<string, number>();
  private readonly stopping = new Set<Promise<void>>();

  constructor(private readonly options: ReplicaFetchersOptions) {}

  follow(leaderId: number, followed: FollowedPartition): void {
    const name = formatPartition(followed.id);
    if (this.leaderByPartition.get(name) !== leaderId) this.unfollow(followed.id);
    let fetcher = this.byLeader.get(leaderId);
    if (fetcher === undefined) {
      const { clock, random, logger, settings } = this.options;
      fetcher = new ReplicaFetcher({ leaderId, connect: () => this.options.connect(leaderId), clock, random, logger, settings });
      this.byLeader.set(leaderId, fetcher);
    }
    this.leaderByPartition.set(name, leaderId);
    fetcher.follow(followed);
  }

  unfollow(id: PartitionId): void {
    const name = formatPartition(id);
    const leaderId = this.leaderByPartition.get(name);
    if (leaderId === undefined) return;
    this.leaderByPartition.delete(name);
    const fetcher = this.byLeader.get(leaderId);
    fetcher?.unfollow(id);
    if (fetcher === undefined || fetcher.size > 0) return;
    this.byLeader.delete(leaderId);
    const stopped = fetcher.stop();
    this.stopping.add(stopped);
    void stopped.finally(() => this.stopping.delete(stopped));
  }

  /** Leaders fetched from now: leader id → partitions. */
  leaders(): Map<number, number> {
    return new Map([...this.byLeader].map(([leaderId, fetcher]) => [leaderId, fetcher.size]));
  }

  async stop(): Promise<void> {
    const fetchers = [...this.byLeader.values()];
    this.byLeader.clear();
    this.leaderByPartition.clear();
    await Promise.all([...fetchers.map((fetcher) => fetcher.stop()), ...this.stopping]);
  }
}
