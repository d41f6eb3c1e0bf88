import { PartitionLeader } from '../../../src/actors/partition-replica/partition-leader.js';
import { IngestPartition } from '../../../src/ingest/ingest-partition.js';
import { ingestPartitionDefaults } from '../../../src/ingest/ingest-partition-state.js';
import type { CatalogEntry } from '../../../src/ingest/session-catalog.js';
import { IngestPartitionLog } from '../../../src/rpc/services/ingest-partition-log.js';
import { sha256Hash } from '../../../src/rpc/services/ingest-leaders.js';
import { LeaderChanges } from '../../../src/rpc/services/leader-changes.js';
import { GroupCommitWriter, MemoryKeyValueStore, openPartitionLog, type PartitionLog } from '../../../src/storage/index.js';
import { ManualClock } from '../../support/manual-clock.js';

/**
 * The ingest core on the real stack below gRPC: a PartitionLeader alone in its ISR (so its high
 * watermark follows its durable end) over an in-memory partition log, wrapped as the broker wraps
 * it. `reopen` starts a new leader epoch over the same log and replays it, as a new leader does.
 */
export class IngestPartitionFixture {
  readonly catalog: CatalogEntry[] = [];
  readonly clock = new ManualClock(1_700_000_000_000);
  partition!: IngestPartition;
  private leader!: PartitionLeader;
  private leaderEpoch = 0;

  private constructor(private readonly log: PartitionLog) {}

  static async open(): Promise<IngestPartitionFixture> {
    const engine = new MemoryKeyValueStore();
    const log = await openPartitionLog(engine, new GroupCommitWriter(engine, { durability: 'fsync' }), { topic: 'ingest', partition: 0 });
    const fixture = new IngestPartitionFixture(log);
    await fixture.reopen();
    return fixture;
  }

  /** Ends the current leadership and replays the log under a new leader epoch. */
  async reopen(): Promise<IngestPartition> {
    this.leader?.resign('the test starts a new leader epoch');
    await this.log.settled();
    this.leaderEpoch += 1;
    const { clock, log } = this;
    this.leader = new PartitionLeader({
      log, clock, leaderId: 1, leaderEpoch: this.leaderEpoch, partitionEpoch: this.leaderEpoch, replicas: [1], isr: [1], minInSyncReplicas: 1,
      highWatermark: log.logEndOffset(), replicaLagTimeMaxMs: 30_000, pendingAcksMax: 10_000, isrCheckIntervalMs: 15_000,
      producersMax: 100, producerIdleMsMax: 3_600_000, alterIsr: () => Promise.resolve(undefined),
    });
    const ingestLog = new IngestPartitionLog({ leader: this.leader, topic: 'ingest', partition: 0, maxBatchBytes: 8 * 1024 * 1024, appendTimeoutMs: 30_000, clock, changes: new LeaderChanges() });
    this.partition = await IngestPartition.open({
      log: ingestLog, createHash: sha256Hash, limits: ingestPartitionDefaults, nowMs: () => clock.nowMs(), replayReadBytes: 64 * 1024, commitWaitMs: 30_000,
      catalog: { record: (entry) => Promise.resolve(void this.catalog.push(entry)) }, onOrphans: () => undefined,
    });
    return this.partition;
  }

  /** The log's records, for asserting what was stored. */
  logEndOffset(): number {
    return this.leader.nextAppendOffset();
  }
}
