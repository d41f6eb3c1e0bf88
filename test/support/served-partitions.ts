import type { PartitionLeaderSource } from '../../src/actors/partition-replica/partition-leader-lookup.js';
import { PartitionLeader, type PartitionLeaderOptions } from '../../src/actors/partition-replica/partition-leader.js';
import { ProducerIds } from '../../src/broker/index.js';
import { metadataLimits } from '../../src/controller/index.js';
import { TributaryError } from '../../src/errors/index.js';
import type { RecordBatch } from '../../src/rpc/generated/tributary/common/v1/common.js';
import { BrokerPartitions, type ServedBroker } from '../../src/rpc/services/broker-partitions.js';
import { type BrokerServiceSettings, brokerServiceSettingsFor } from '../../src/rpc/services/broker-service-settings.js';
import { storedBatchFromWire } from '../../src/rpc/services/record-batch-mapping.js';
import { GroupCommitWriter, MemoryKeyValueStore, openPartitionLog, type PartitionLog } from '../../src/storage/index.js';
import { captureLogger } from './log-capture.js';
import { ManualClock } from './manual-clock.js';

/*
 * Real PartitionLeaders over the memory storage engine on a manual clock, served to the broker's
 * client-facing services the way the broker role serves them: the unit tests of Fetch, ListOffsets
 * and ProduceStream run against the real hot path, not a model of it.
 */

export const brokerId = 1;

/** Options a leader of one of these tests starts with; the ISR decides when the high watermark moves. */
export type LeaderShape = Pick<PartitionLeaderOptions, 'replicas' | 'isr' | 'minInSyncReplicas'> & { readonly highWatermark?: number };

/** A leader alone in its ISR: its high watermark follows its durable log end. */
export const alone: LeaderShape = { replicas: [1], isr: [1], minInSyncReplicas: 1 };
/** A leader with one follower in its ISR: its high watermark moves only when the test reports a follower fetch. */
export const withFollower: LeaderShape = { replicas: [1, 2], isr: [1, 2], minInSyncReplicas: 1 };

export class ServedPartitions {
  readonly clock = new ManualClock(1_700_000_000_000);
  readonly settings: BrokerServiceSettings;
  readonly shutdown = new AbortController();
  readonly log = captureLogger();
  private readonly leaders = new Map<string, PartitionLeader>();
  readonly partitions: BrokerPartitions;

  constructor(settings: Partial<BrokerServiceSettings> = {}) {
    this.settings = { ...brokerServiceSettingsFor(16 * 1024 * 1024), ...settings };
    const source: PartitionLeaderSource = { leaderFor: (topic, partition, epoch) => this.leaderFor(`${topic}-${partition}`, epoch) };
    // Blocks handed out as the controller does (metadataLimits.producerIdBlockSize ids each, never reused), without a quorum.
    let nextProducerId = 1;
    const blocks = {
      allocateProducerIds: () => {
        const block = { firstProducerId: nextProducerId, count: metadataLimits.producerIdBlockSize };
        nextProducerId += block.count;
        return Promise.resolve(block);
      },
    };
    const producerIds = new ProducerIds({ brokerId, brokerEpoch: () => 1, source: blocks });
    const broker: ServedBroker = { leaders: source, metadata: { topic: () => ({ config: { maxMessageBytes: 1024 * 1024, labels: {} } }) }, producerIds };
    this.partitions = new BrokerPartitions({ nodeId: brokerId, broker: () => broker, shutdownSignal: this.shutdown.signal });
  }

  /** Leads `orders-<partition>` at leader epoch 4 over a fresh log (or `log`, to take over one with data). */
  async lead(partition: number, shape: LeaderShape, log?: PartitionLog): Promise<PartitionLeader> {
    const engine = new MemoryKeyValueStore();
    const partitionLog = log ?? (await openPartitionLog(engine, new GroupCommitWriter(engine, { durability: 'fsync' }), { topic: 'orders', partition }));
    // No controller here: an ISR proposal is never decided, so the ISR stays as the test set it.
    const options: PartitionLeaderOptions = {
      log: partitionLog, clock: this.clock, leaderId: brokerId, leaderEpoch: 4, partitionEpoch: 1, replicaLagTimeMaxMs: 30_000, pendingAcksMax: 100,
      highWatermark: shape.highWatermark ?? 0, replicas: shape.replicas, isr: shape.isr, minInSyncReplicas: shape.minInSyncReplicas,
      alterIsr: () => Promise.resolve(undefined), isrCheckIntervalMs: 60_000, producersMax: 100, producerIdleMsMax: 3_600_000,
    };
    const leader = new PartitionLeader(options);
    this.leaders.set(`orders-${partition}`, leader);
    return leader;
  }

  /** The partition moved to broker 2: its leader resigns and lookups answer NOT_LEADER, as the broker's lookup would. */
  moveAway(partition: number): void {
    this.leaders.get(`orders-${partition}`)?.resign('test moved it to broker 2');
    this.leaders.delete(`orders-${partition}`);
  }

  private leaderFor(name: string, epoch: number | undefined): PartitionLeader {
    const leader = this.leaders.get(name);
    if (leader === undefined) throw new TributaryError('NOT_LEADER', `partition "${name}" is led by broker 2`, { retriable: true, leaderHint: { nodeId: 2, address: '127.0.0.1:7402', epoch: 5 } });
    if (epoch !== undefined && epoch !== 0 && epoch !== leader.leaderEpoch) throw new TributaryError('STALE_EPOCH', `partition "${name}": leader epoch ${epoch} is not the current ${leader.leaderEpoch}`);
    return leader;
  }
}

/** Appends a wire batch the way the produce path does, answering once it is durable on the leader. */
export async function appendWire(leader: PartitionLeader, batch: RecordBatch): Promise<number> {
  const stored = storedBatchFromWire(batch, { partition: leader.partition, partitionLeaderEpoch: leader.leaderEpoch, maxBatchBytes: 1024 * 1024 });
  return (await leader.append(stored, 'leader', 1_000)).baseOffset;
}

/** Lets every pending promise callback and storage write run (the memory engine resolves on the event loop). */
export async function untilQuiet(): Promise<void> {
  for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}
