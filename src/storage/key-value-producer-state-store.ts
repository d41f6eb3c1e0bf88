import { z } from 'zod';
import { corruptRecord } from './checksummed-value.js';
import type { KeyValueStore } from './key-value-store.js';
import { packValue, safeNonNegativeInteger, unpackValue } from './packed-value.js';
import { assertPartitionId, formatPartition, type PartitionId } from './partition-id.js';
import type { ProducerState, ProducerStateStore } from './producer-state-store.js';
import { producerStateKey, producerStateRange } from './storage-keys.js';
import type { StorageWriter } from './storage-writer.js';
import { getStoredRecord, rangeStoredRecords, recordIn } from './stored-record.js';

const entrySchema = z.object({
  producerId: safeNonNegativeInteger,
  producerEpoch: safeNonNegativeInteger,
  lastSequence: safeNonNegativeInteger,
  lastOffset: safeNonNegativeInteger,
  timestampMs: safeNonNegativeInteger,
});

/** Producer states under `14 <partition> <producer id>` (storage-keys.ts), checksummed msgpack. */
export class KeyValueProducerStateStore implements ProducerStateStore {
  private readonly name: string;

  constructor(
    private readonly engine: KeyValueStore,
    private readonly writer: StorageWriter,
    private readonly partition: PartitionId,
  ) {
    assertPartitionId(partition);
    this.name = formatPartition(partition);
  }

  async get(producerId: number): Promise<ProducerState | undefined> {
    const key = producerStateKey(this.partition, producerId);
    const bytes = await getStoredRecord(this.engine, key, `partition "${this.name}" producer ${producerId}`);
    return bytes === undefined ? undefined : this.decode(bytes, producerId).state;
  }

  put(producerId: number, state: ProducerState): Promise<void> {
    const { producerEpoch, lastSequence, lastOffset, timestampMs } = state;
    // The id is stored in the value too, so a value under the wrong key reads as corrupt.
    const entry = entrySchema.parse({ producerId, producerEpoch, lastSequence, lastOffset, timestampMs });
    return this.writer.write([{ type: 'put', key: producerStateKey(this.partition, producerId), value: packValue(entry) }]);
  }

  delete(producerId: number): Promise<void> {
    return this.writer.write([{ type: 'del', key: producerStateKey(this.partition, producerId) }]);
  }

  async list(): Promise<Map<number, ProducerState>> {
    const states = new Map<number, ProducerState>();
    for await (const [, value] of rangeStoredRecords(this.engine, producerStateRange(this.partition), `partition "${this.name}" producer states`)) {
      const { producerId, state } = this.decode(value);
      states.set(producerId, state);
    }
    return states;
  }

  private decode(bytes: Uint8Array, expectedProducerId?: number): { producerId: number; state: ProducerState } {
    const where = recordIn(this.engine, `partition "${this.name}" producer ${expectedProducerId ?? 'state'}`);
    const { producerId, ...state } = unpackValue(bytes, entrySchema, where);
    if (expectedProducerId !== undefined && producerId !== expectedProducerId) {
      throw corruptRecord(where, `the stored state is for producer ${producerId}`);
    }
    return { producerId, state };
  }
}
