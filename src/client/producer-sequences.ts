import type { BatchProducerFields, ProducerIdentity } from '../rpc/clients/index.js';

/** Sequences are int32 and wrap to 0 after this, as partition leaders expect (broker/producer-state-table.ts). */
const sequenceMax = 2 ** 31 - 1;

/** Asks a broker for a fresh identity (`producerId` 0) or the next epoch of one. */
export type InitProducerId = (address: string, producerId: number, producerEpoch: number) => Promise<ProducerIdentity>;

interface PartitionSequence {
  readonly producerEpoch: number;
  readonly nextSequence: number;
}

/**
 * An idempotent producer's identity and per-partition sequence numbers (Kafka's
 * TransactionManager, without transactions). A batch is stamped once, when first sent, and keeps
 * its stamp across retries, so a leader recognises a retry of a batch it already appended and
 * answers with the original offsets. When a leader has lost track of the producer's sequence
 * (UNKNOWN_PRODUCER_ID after its state expired, OUT_OF_ORDER_SEQUENCE after a batch that failed
 * for good left a gap), the producer bumps its epoch (KIP-360): every partition then starts again
 * at sequence 0, and the partition that lost its sequence has its unacknowledged batches stamped
 * anew (`restamp`).
 */
export class ProducerSequences {
  private identity: Promise<ProducerIdentity> | undefined;
  /** The identity `identity` resolved to, once it has. */
  private known: ProducerIdentity | undefined;
  private readonly partitions = new Map<string, PartitionSequence>();

  constructor(private readonly initProducerId: InitProducerId) {}

  /** Batches the brokers let this producer have in flight per partition; undefined before the first identity arrives. */
  get inFlightBatchesMax(): number | undefined {
    return this.known?.maxInFlightBatchesPerPartition;
  }

  /** The fields of a new batch of `recordCount` records for `partitionKey`; `address` is a broker to ask for an identity. */
  async stamp(partitionKey: string, recordCount: number, address: string): Promise<BatchProducerFields> {
    return this.stampNext(await this.current(address), partitionKey, recordCount);
  }

  /**
   * Fresh fields for every unacknowledged batch of `partitionKey` (their record counts, oldest
   * first), from sequence 0 of the current epoch: after a lost sequence and `reset`. Stamped
   * together, so no other epoch comes between them.
   */
  async restamp(partitionKey: string, recordCounts: readonly number[], address: string): Promise<BatchProducerFields[]> {
    const identity = await this.current(address);
    this.partitions.delete(partitionKey);
    return recordCounts.map((recordCount) => this.stampNext(identity, partitionKey, recordCount));
  }

  /**
   * A leader refused `stamped` because it lost track of this producer's sequence: moves to the
   * next epoch unless another batch already did so for the epoch `stamped` carries.
   */
  async reset(stamped: BatchProducerFields, address: string): Promise<void> {
    const held = await this.current(address);
    if (held.producerId !== stamped.producerId || held.producerEpoch !== stamped.producerEpoch) return;
    const bump = this.initProducerId(address, held.producerId, held.producerEpoch);
    this.follow(bump);
    // A failed bump leaves the old identity for the next attempt to bump again.
    bump.catch(() => {
      if (this.identity === bump) this.identity = Promise.resolve(held);
    });
    await bump;
  }

  private current(address: string): Promise<ProducerIdentity> {
    if (this.identity !== undefined) return this.identity;
    const fresh = this.initProducerId(address, 0, 0);
    this.follow(fresh);
    fresh.catch(() => {
      if (this.identity === fresh) this.identity = undefined;
    });
    return fresh;
  }

  /** Makes `identity` the current one, and remembers what it resolves to while it still is. */
  private follow(identity: Promise<ProducerIdentity>): void {
    this.identity = identity;
    identity.then((resolved) => {
      if (this.identity === identity) this.known = resolved;
    }, () => undefined);
  }

  private stampNext({ producerId, producerEpoch }: ProducerIdentity, partitionKey: string, recordCount: number): BatchProducerFields {
    const held = this.partitions.get(partitionKey);
    const baseSequence = held === undefined || held.producerEpoch !== producerEpoch ? 0 : held.nextSequence;
    this.partitions.set(partitionKey, { producerEpoch, nextSequence: (baseSequence + recordCount) % (sequenceMax + 1) });
    return { producerId, producerEpoch, baseSequence };
  }
}
