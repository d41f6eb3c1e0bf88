import assert from 'node:assert/strict';
import { TributaryError } from '../errors/index.js';

/** An idempotent producer's identity: what InitProducerId answers. */
export interface ProducerIdentity {
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** Producer ids firstProducerId .. firstProducerId + count - 1, for one broker alone to hand out. */
export interface ProducerIdBlock {
  readonly firstProducerId: number;
  readonly count: number;
}

/** Where blocks of ids come from: the controller quorum (AllocateProducerIds) in production. */
export interface ProducerIdBlockSource {
  allocateProducerIds(brokerId: number, brokerEpoch: number): Promise<ProducerIdBlock>;
}

export interface ProducerIdsOptions {
  readonly brokerId: number;
  /** The broker's current incarnation epoch; 0 until it registered. */
  readonly brokerEpoch: () => number;
  readonly source: ProducerIdBlockSource;
}

/**
 * The last epoch of a producer id (the wire's uint32 leaves room, Kafka's int16 does not): a bump
 * past it gets a fresh id instead, so a producer never runs out of identities.
 */
export const producerEpochMax = 2 ** 31 - 1;

/**
 * Answers InitProducerId on a broker (Kafka KIP-730): fresh ids come from a block the controller
 * quorum handed this broker alone, so InitProducerId costs a Raft entry once per block, not per
 * producer; at most one block request is in flight, and concurrent callers share it. An epoch bump
 * needs no coordination: the answer for (id, epoch) is always (id, epoch + 1), so a retried bump
 * is harmless, and the partition leaders fence the older epoch as they see the newer one.
 */
export class ProducerIds {
  private next = 0;
  private end = 0;
  private refill: Promise<void> | undefined;

  constructor(private readonly options: ProducerIdsOptions) {}

  /** A fresh identity for `producerId` 0, else the next epoch of the one the producer holds. */
  async init(producerId: number, producerEpoch: number): Promise<ProducerIdentity> {
    if (producerId !== 0 && producerEpoch < producerEpochMax) return { producerId, producerEpoch: producerEpoch + 1 };
    return { producerId: await this.fresh(), producerEpoch: 0 };
  }

  private async fresh(): Promise<number> {
    while (this.next >= this.end) {
      this.refill ??= this.allocate().finally(() => {
        this.refill = undefined;
      });
      await this.refill;
    }
    const id = this.next;
    this.next += 1;
    return id;
  }

  private async allocate(): Promise<void> {
    const { brokerId, brokerEpoch, source } = this.options;
    const epoch = brokerEpoch();
    if (epoch === 0) throw new TributaryError('NOT_AVAILABLE', `broker ${brokerId} is not registered yet; it hands out producer ids once registered, retry shortly`, { retriable: true });
    let block: ProducerIdBlock;
    try {
      block = await source.allocateProducerIds(brokerId, epoch);
    } catch (error) {
      // Whatever the controller said (FENCED for a replaced broker included) is this broker's
      // problem, not the producer's: the producer retries, here or with another broker.
      const reason = error instanceof Error ? error.message : String(error);
      throw new TributaryError('NOT_AVAILABLE', `broker ${brokerId} could not get producer ids from the controllers (${reason}); retry shortly`, { retriable: true, cause: error });
    }
    assert.ok(Number.isSafeInteger(block.firstProducerId) && block.firstProducerId >= 1 && block.count >= 1, `the controllers answered a bad producer id block ${JSON.stringify(block)}`);
    this.next = block.firstProducerId;
    this.end = block.firstProducerId + block.count;
  }
}
