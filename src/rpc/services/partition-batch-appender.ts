import type { Clock } from '../../actors/clock.js';
import type { Acks as LeaderAcks, PartitionLeader } from '../../actors/partition-replica/partition-leader.js';
import { TributaryError } from '../../errors/index.js';
import type { Logger } from '../../observability/index.js';
import { formatPartition, type StoredBatch } from '../../storage/index.js';
import { toErrorDetail } from '../error-status.js';
import type { RecordBatch, TopicPartition } from '../generated/tributary/common/v1/common.js';
import { Acks, type PartitionBatch, type ProduceResult } from '../generated/tributary/client/v1/producer_service.js';
import type { BrokerPartitions } from './broker-partitions.js';
import type { ProduceResults } from './produce-results.js';
import type { BrokerServiceSettings } from './broker-service-settings.js';
import { storedBatchFromWire } from './record-batch-mapping.js';
import { reportedError } from './reported-error.js';

/** How every batch of one produce request (or one ProduceStream) is acknowledged. */
export interface ProduceMode {
  readonly acks: LeaderAcks;
  readonly timeoutMs: number;
}

/** Where an appended batch went; zeros under acks=none, which answers before the append. */
export interface AppendOutcome {
  readonly baseOffset: number;
  readonly logAppendTimeMs: number;
  readonly logStartOffset: number;
  /** A retry of an idempotent producer's batch, answered with the original's offsets and not stored again. */
  readonly duplicate: boolean;
}

/** A PartitionBatch whose partition and batch are both set. */
export interface AddressedBatch {
  readonly topicPartition: TopicPartition;
  readonly batch: RecordBatch;
  readonly currentLeaderEpoch: number;
}

const leaderAcksByWire: ReadonlyMap<Acks, LeaderAcks> = new Map([[Acks.NONE, 'none'], [Acks.LEADER, 'leader'], [Acks.ALL, 'all']]);

/** The produce mode a request asks for; INVALID_REQUEST naming an acks value that is not one. */
export function produceModeOf(acks: Acks, timeoutMs: number, settings: BrokerServiceSettings): ProduceMode {
  const leaderAcks = leaderAcksByWire.get(acks);
  if (leaderAcks === undefined) {
    const named = acks === Acks.UNSPECIFIED ? 'ACKS_UNSPECIFIED (0) is never sent' : `${acks} is not a known Acks value`;
    throw new TributaryError('INVALID_REQUEST', `acks ${named}; send ACKS_NONE, ACKS_LEADER or ACKS_ALL`);
  }
  // 0 is the server's default; anything longer than the bound waits only as long as the bound.
  const waitMs = timeoutMs === 0 ? settings.produceTimeoutMsDefault : Math.min(timeoutMs, settings.produceTimeoutMsMax);
  return { acks: leaderAcks, timeoutMs: waitMs };
}

/** The partition and batch of a PartitionBatch; INVALID_REQUEST naming `where` when either is missing. */
export function addressedBatchOf(partitionBatch: PartitionBatch | undefined, where: string): AddressedBatch {
  const topicPartition = partitionBatch?.topicPartition;
  if (partitionBatch === undefined || topicPartition === undefined) throw new TributaryError('INVALID_REQUEST', `${where} has no topic_partition`);
  const { batch, currentLeaderEpoch } = partitionBatch;
  if (batch === undefined) throw new TributaryError('INVALID_REQUEST', `${where} for partition "${formatPartition(topicPartition)}" has no batch`);
  return { topicPartition, batch, currentLeaderEpoch };
}

export interface PartitionBatchAppenderOptions {
  readonly partitions: BrokerPartitions;
  readonly settings: BrokerServiceSettings;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly results: ProduceResults;
}

/**
 * Appends produced batches to the partitions this broker leads, for Produce, ProduceBatch and
 * ProduceStream alike. Everything up to the leader's append runs synchronously inside `append`
 * (the lookup, the batch checks, the call that takes the next offsets), so batches passed to it in
 * one order are appended in that order: ProduceStream's per-partition ordering rests on this.
 */
export class PartitionBatchAppender {
  /** Bytes of acks=none batches answered but not yet durable; bounded by acksNoneUnwrittenBytesMax. */
  private acksNoneUnwrittenBytes = 0;

  constructor(private readonly options: PartitionBatchAppenderOptions) {}

  /** Appends one batch; rejects with the TributaryError that says why not. Every answer is counted. */
  append(addressed: AddressedBatch, mode: ProduceMode): Promise<AppendOutcome> {
    const { results } = this.options;
    let started: Promise<AppendOutcome>;
    try {
      started = this.start(addressed, mode);
    } catch (error) {
      started = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return started.then(
      (outcome) => {
        results.count(outcome.duplicate ? 'duplicate' : 'appended');
        return outcome;
      },
      (error: unknown) => {
        results.count(TributaryError.from(error).code);
        throw error;
      },
    );
  }

  /** The same append as a ProduceResult: a failure is its error, never a rejection. */
  async result(addressed: AddressedBatch, mode: ProduceMode): Promise<ProduceResult> {
    const { topicPartition } = addressed;
    try {
      return { topicPartition, error: undefined, ...(await this.append(addressed, mode)) };
    } catch (error) {
      return { topicPartition, error: toErrorDetail(reportedError(error, topicPartition, this.options.logger, 'produce')), baseOffset: 0, logAppendTimeMs: 0, logStartOffset: 0, duplicate: false };
    }
  }

  private start(addressed: AddressedBatch, mode: ProduceMode): Promise<AppendOutcome> {
    const { topicPartition, batch, currentLeaderEpoch } = addressed;
    if (batch.producerId !== 0 && mode.acks === 'none') {
      // Deduplication answers a retry with its original offsets; acks=none answers before knowing them.
      throw new TributaryError('INVALID_REQUEST', `batch for partition "${formatPartition(topicPartition)}" has producer_id ${batch.producerId} with ACKS_NONE; an idempotent producer needs ACKS_LEADER or ACKS_ALL`);
    }
    const { partitions, settings, clock } = this.options;
    if (partitions.isIngestTopic(topicPartition.topic)) {
      // Its sessions' state is rebuilt from its records: a record that did not come through an upload would corrupt it.
      throw new TributaryError('INVALID_REQUEST', `topic "${topicPartition.topic}" is an ingest topic; its records are written by uploads (DataIngestService), not by producers`);
    }
    const leader = partitions.leaderFor(topicPartition, currentLeaderEpoch);
    const maxBatchBytes = Math.min(partitions.maxMessageBytesOf(topicPartition.topic) ?? settings.batchBytesMax, settings.batchBytesMax);
    const nowMs = clock.nowMs();
    const stored = storedBatchFromWire(batch, { partition: leader.partition, partitionLeaderEpoch: leader.leaderEpoch, maxBatchBytes, nowMs });
    if (mode.acks === 'none') return Promise.resolve(this.appendUnacknowledged(leader, stored, mode.timeoutMs));
    return leader.append(stored, mode.acks, mode.timeoutMs).then(({ baseOffset, duplicate }) => ({ baseOffset, logAppendTimeMs: nowMs, logStartOffset: leader.logStartOffset(), duplicate }));
  }

  /**
   * acks=none: the producer is answered once the batch is queued (the leader took its offsets), and
   * a failure of the write itself reaches only the log, as the contract says.
   */
  private appendUnacknowledged(leader: PartitionLeader, stored: StoredBatch, timeoutMs: number): AppendOutcome {
    const bytes = stored.payload.byteLength;
    const { acksNoneUnwrittenBytesMax } = this.options.settings;
    // One batch larger than the bound still goes alone, or it could never be written.
    if (this.acksNoneUnwrittenBytes > 0 && this.acksNoneUnwrittenBytes + bytes > acksNoneUnwrittenBytesMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `partition "${leader.partition}": ${this.acksNoneUnwrittenBytes} bytes of acks=none batches are still being written on this broker, and ${bytes} more would pass the ${acksNoneUnwrittenBytesMax} bound; retry shortly or use ACKS_LEADER`, { retriable: true });
    }
    this.acksNoneUnwrittenBytes += bytes;
    leader.append(stored, 'none', timeoutMs).then(
      () => undefined,
      (error: unknown) => this.options.logger.warn({ err: error, partition: leader.partition }, 'an acks=none append failed; its producer is not told'),
    ).finally(() => {
      this.acksNoneUnwrittenBytes -= bytes;
    });
    return { baseOffset: 0, logAppendTimeMs: 0, logStartOffset: leader.logStartOffset(), duplicate: false };
  }
}
