import { describe, expect, it } from 'vitest';
import { Consumer, type ConsumerLinks, TributaryError } from '../../../src/client/index.js';
import type { FetchedPartition, FetchInput, ListedOffsets, ListOffsetsInput } from '../../../src/rpc/clients/index.js';
import { brokerAddress, topicLookup } from '../../support/topic-lookups.js';

/** Partition `partition`'s log as batches of `batchRecords` records each, values "p<partition>-<offset>". */
function logOf(partition: number, length: number): string[] {
  return Array.from({ length }, (_, offset) => `p${partition}-${offset}`);
}

/**
 * Two partitions: 0 led by broker 1, 1 led by broker 2. Each Fetch answers from the batch that
 * holds the fetch offset (batches of 4 records, so a batch may start below it), and records the
 * addresses asked. `answers` overrides a partition's next answer with an error.
 */
class ScriptedLeaders {
  readonly logs = [logOf(0, 10), logOf(1, 3)];
  leaders = [{ nodeId: 1, epoch: 1 }, { nodeId: 2, epoch: 1 }];
  readonly asked: string[] = [];
  readonly errors = new Map<number, TributaryError>();

  links(): ConsumerLinks {
    return {
      metadata: { topics: () => Promise.resolve(topicLookup('t', this.leaders)), close: () => undefined },
      brokers: { fetch: (address, input) => Promise.resolve(this.fetch(address, input)), listOffsets: (address, input) => Promise.resolve(this.listOffsets(input)), close: () => undefined },
    };
  }

  private fetch(address: string, input: FetchInput): FetchedPartition[] {
    this.asked.push(`${address} ${input.partitions.map((partition) => `${partition.partition}@${partition.fetchOffset}`).join(',')}`);
    return input.partitions.map(({ partition, fetchOffset }) => {
      const log = this.logs[partition] ?? [];
      const error = this.errors.get(partition);
      this.errors.delete(partition);
      const batchStart = fetchOffset - (fetchOffset % 4);
      const records = error !== undefined ? [] : log.slice(batchStart, batchStart + 4).map((value, index) => ({ offset: batchStart + index, key: undefined, value: Buffer.from(value), timestampMs: 1, headers: [] }));
      return { topic: 't', partition, error, records, highWatermark: log.length, logStartOffset: 0 };
    });
  }

  private listOffsets(input: readonly ListOffsetsInput[]): ListedOffsets[] {
    return input.map(({ partition, spec }) => {
      const end = this.logs[partition]?.length ?? 0;
      return { topic: 't', partition, error: undefined, offset: spec === 'earliest' ? 0 : end, logStartOffset: 0, highWatermark: end, logEndOffset: end, leaderEpoch: 1 };
    });
  }
}

const values = (records: Array<{ value: Uint8Array }>) => records.map((record) => Buffer.from(record.value).toString());

describe('Consumer fetching', () => {
  it('asks each leader once per poll, skips records below the position and moves it past what it returns', async () => {
    const cluster = new ScriptedLeaders();
    const consumer = new Consumer({ bootstrap: ['controller:1'] }, cluster.links());
    consumer.assign([{ topic: 't', partition: 0, offset: 6 }, { topic: 't', partition: 1, offset: 'earliest' }]);
    expect(values(await consumer.poll()).toSorted()).toEqual(['p0-6', 'p0-7', 'p1-0', 'p1-1', 'p1-2']);
    expect(cluster.asked.toSorted()).toEqual([`${brokerAddress(1)} 0@6`, `${brokerAddress(2)} 1@0`]);
    expect([consumer.position('t', 0), consumer.position('t', 1)]).toEqual([8, 3]);
    expect(values(await consumer.poll())).toEqual(['p0-8', 'p0-9']);
    consumer.close();
  });

  it('follows a NOT_LEADER hint to the new leader on the next poll', async () => {
    const cluster = new ScriptedLeaders();
    const consumer = new Consumer({ bootstrap: ['controller:1'], backoffMsMin: 1, backoffMsMax: 2 }, cluster.links());
    consumer.assign([{ topic: 't', partition: 0, offset: 0 }]);
    cluster.errors.set(0, new TributaryError('NOT_LEADER', 'moved', { leaderHint: { nodeId: 2, address: brokerAddress(2), epoch: 2 } }));
    expect(await consumer.poll()).toEqual([]);
    expect(values(await consumer.poll())).toEqual(['p0-0', 'p0-1', 'p0-2', 'p0-3']);
    expect(cluster.asked).toEqual([`${brokerAddress(1)} 0@0`, `${brokerAddress(2)} 0@0`]);
    consumer.close();
  });

  it('returns what other partitions read before it throws a partition out of range, naming the range', async () => {
    const cluster = new ScriptedLeaders();
    const consumer = new Consumer({ bootstrap: ['controller:1'] }, cluster.links());
    consumer.assign([{ topic: 't', partition: 0, offset: 8 }, { topic: 't', partition: 1, offset: 0 }]);
    cluster.errors.set(1, new TributaryError('OFFSET_OUT_OF_RANGE', 'offset 0 is below the log start offset'));
    expect(values(await consumer.poll())).toEqual(['p0-8', 'p0-9']);
    await expect(consumer.poll()).rejects.toThrow("partition t-1: offset 0 is out of range; the partition holds offsets 0 to 3 (log start offset to high watermark); seek to an offset in it, or to 'earliest' or 'latest'");
    consumer.seek('t', 1, 1);
    expect(values(await consumer.poll()).toSorted()).toEqual(['p1-1', 'p1-2']);
    // Seeking the failed partition before the next poll answers the failure: nothing is thrown.
    cluster.errors.set(1, new TributaryError('OFFSET_OUT_OF_RANGE', 'offset 3 is past the end'));
    consumer.seek('t', 0, 0);
    expect(values(await consumer.poll())).toEqual(['p0-0', 'p0-1', 'p0-2', 'p0-3']);
    consumer.seek('t', 1, 2);
    expect(values(await consumer.poll()).toSorted()).toEqual(['p0-4', 'p0-5', 'p0-6', 'p0-7', 'p1-2']);
    consumer.close();
  });

  it('throws a non-retriable error naming the partition, and after retriesMax failed reads in a row', async () => {
    const cluster = new ScriptedLeaders();
    const consumer = new Consumer({ bootstrap: ['controller:1'], retriesMax: 1, backoffMsMin: 1, backoffMsMax: 2 }, cluster.links());
    consumer.assign([{ topic: 't', partition: 1, offset: 0 }]);
    cluster.errors.set(1, new TributaryError('CORRUPT_RECORD', 'batch at offset 0: CRC32C mismatch'));
    await expect(consumer.poll()).rejects.toThrow('partition t-1 could not be read: batch at offset 0: CRC32C mismatch (CORRUPT_RECORD is not retriable)');
    cluster.errors.set(1, new TributaryError('NOT_AVAILABLE', 'down'));
    expect(await consumer.poll()).toEqual([]);
    cluster.errors.set(1, new TributaryError('NOT_AVAILABLE', 'down'));
    await expect(consumer.poll()).rejects.toThrow('partition t-1 could not be read: down (gave up after 2 attempts (retriesMax 1))');
    consumer.close();
  });
});
