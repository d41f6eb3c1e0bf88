import { describe, expect, it } from 'vitest';
import { Consumer, type ConsumerLinks, TributaryError } from '../../../src/client/index.js';
import type { FetchInput, ListOffsetsInput } from '../../../src/rpc/clients/index.js';
import { topicLookup } from '../../support/topic-lookups.js';

/**
 * One partition led by broker 1 whose log holds offsets 4 to 9 (retention removed 0 to 3): a
 * Fetch below 4 or above 10 is OFFSET_OUT_OF_RANGE, as the broker answers it.
 */
function retainedLog(fetched: string[]): ConsumerLinks {
  const logStartOffset = 4;
  const highWatermark = 10;
  const fetch = (_address: string, input: FetchInput) => Promise.resolve(input.partitions.map(({ partition, fetchOffset }) => {
    fetched.push(`${partition}@${fetchOffset}`);
    const outside = fetchOffset < logStartOffset || fetchOffset > highWatermark;
    const error = outside ? new TributaryError('OFFSET_OUT_OF_RANGE', `offset ${fetchOffset} is outside ${logStartOffset} to ${highWatermark}`) : undefined;
    const records = outside ? [] : Array.from({ length: highWatermark - fetchOffset }, (_, index) => ({ offset: fetchOffset + index, key: undefined, value: Buffer.from(`r${fetchOffset + index}`), timestampMs: 1, headers: [] }));
    return { topic: 't', partition, error, records, highWatermark, logStartOffset };
  }));
  const listOffsets = (_address: string, input: readonly ListOffsetsInput[]) => Promise.resolve(input.map(({ partition, spec }) => ({
    topic: 't', partition, error: undefined, offset: spec === 'earliest' ? logStartOffset : highWatermark, logStartOffset, highWatermark, logEndOffset: highWatermark, leaderEpoch: 1,
  })));
  return { metadata: { topics: () => Promise.resolve(topicLookup('t', [{ nodeId: 1, epoch: 1 }])), close: () => undefined }, brokers: { fetch, listOffsets, close: () => undefined } };
}

const offsets = (records: Array<{ offset: number }>) => records.map((record) => record.offset);

describe('Consumer offsetReset and pause', () => {
  it('moves an out-of-range position to the oldest record with offsetReset earliest, and to the high watermark with latest', async () => {
    const fetched: string[] = [];
    const earliest = new Consumer({ bootstrap: ['controller:1'], offsetReset: 'earliest' }, retainedLog(fetched));
    earliest.assign([{ topic: 't', partition: 0, offset: 1 }]);
    expect(await earliest.poll()).toEqual([]);
    expect(offsets(await earliest.poll())).toEqual([4, 5, 6, 7, 8, 9]);
    expect(fetched).toEqual(['0@1', '0@4']);
    earliest.close();

    const latest = new Consumer({ bootstrap: ['controller:1'], offsetReset: 'latest', fetchMaxWaitMs: 1 }, retainedLog([]));
    latest.assign([{ topic: 't', partition: 0, offset: 50 }]);
    expect(await latest.poll()).toEqual([]);
    expect(await latest.poll()).toEqual([]);
    expect(latest.position('t', 0)).toBe(10);
    latest.close();
  });

  it('fetches nothing for a paused partition until it is resumed', async () => {
    const fetched: string[] = [];
    const consumer = new Consumer({ bootstrap: ['controller:1'], fetchMaxWaitMs: 1 }, retainedLog(fetched));
    consumer.assign([{ topic: 't', partition: 0, offset: 8 }]);
    consumer.pause([{ topic: 't' }]);
    expect(consumer.isPaused('t', 0)).toBe(true);
    expect(await consumer.poll()).toEqual([]);
    expect(fetched).toEqual([]);
    consumer.resume([{ topic: 't' }]);
    expect(offsets(await consumer.poll())).toEqual([8, 9]);
    expect(fetched).toEqual(['0@8']);
    consumer.close();
  });

  it('refuses group calls without a groupId, naming the option', async () => {
    const consumer = new Consumer({ bootstrap: ['controller:1'] }, retainedLog([]));
    expect(() => consumer.subscribe({ topics: ['t'] })).toThrow('subscribe() needs a consumer group: pass the groupId option');
    await expect(consumer.run({ eachMessage: () => Promise.resolve() })).rejects.toThrow('run() needs a consumer group: pass the groupId option');
    expect(() => new Consumer({ bootstrap: ['controller:1'], groupId: 'g', sessionTimeoutMs: 10 })).toThrow('option sessionTimeoutMs must be an integer from 1000 to 1800000, got 10');
    expect(() => new Consumer({ bootstrap: ['controller:1'], groupId: 'g', partitionAssigners: ['sticky' as 'range'] })).toThrow('unknown partition assignor "sticky"; known: range, roundrobin');
    consumer.close();
  });
});
