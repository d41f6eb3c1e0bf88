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
 * at sequence 0, and the batch is stamped anew.
 */
export class ProducerSequences {
  private identity: Promise<ProducerIdentity> | undefined;
  private readonly partitions = new Map<string, PartitionSequence>();

  constructor(private readonly initProducerId: InitProducerId) {}

  /** The fields of a new batch of `recordCount` records for `partitionKey`; `address` is a broker to ask for an identity. */
  async stamp(partitionKey: string, recordCount: number, address: string): Promise<BatchProducerFields> {
    const { producerId, producerEpoch } = await this.current(address);
    const held = this.partitions.get(partitionKey);
    const baseSequence = held === undefined || held.producerEpoch !== producerEpoch ? 0 : held.nextSequence;
    this.partitions.set(partitionKey, { producerEpoch, nextSequence: (baseSequence + recordCount) % (sequenceMax + 1) });
    return { producerId, producerEpoch, baseSequence };
  }

  /**
   * A leader refused `stamped` because it lost track of this producer's sequence: moves to the
   * next epoch unless another batch already did so for the epoch `stamped` carries.
   */
  async reset(stamped: BatchProducerFields, address: string): Promise<void> {
    const held = await this.current(address);
    if (held.producerId !== stamped.producerId || held.producerEpoch !== stamped.producerEpoch) return;
    const bump = this.initProducerId(address, held.producerId, held.producerEpoch);
    this.identity = bump;
    // A failed bump leaves the old identity for the next attempt to bump again.
    bump.catch(() => {
      if (this.identity === bump) this.identity = Promise.resolve(held);
    });
    await bump;
  }

  private current(address: string): Promise<ProducerIdentity> {
    if (this.identity === undefined) {
      const fresh = this.initProducerId(address, 0, 0);
      this.identity = fresh;
      fresh.catch(() => {
        if (this.identity === fresh) this.identity = undefined;
      });
    }
    return this.identity;
  }
}
