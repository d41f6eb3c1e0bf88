import { describe, expect, it } from 'vitest';
import { Consumer, type ConsumerLinks, type ConsumerRecord } from '../../../src/client/index.js';
import type { FetchInput } from '../../../src/rpc/clients/index.js';
import { eventually } from '../../support/eventually.js';
import { joined, ScriptedCoordinator, synced } from '../../support/scripted-coordinator.js';
import { topicLookup } from '../../support/topic-lookups.js';

/** Topic t with two partitions led by broker 1, each holding offsets 0 to 4; and the scripted coordinator. */
function links(coordinator: ScriptedCoordinator): ConsumerLinks {
  const fetch = (_address: string, input: FetchInput) => Promise.resolve(input.partitions.map(({ partition, fetchOffset }) => {
    const records = Array.from({ length: Math.max(0, 5 - fetchOffset) }, (_, index) => ({ offset: fetchOffset + index, key: undefined, value: Buffer.from(`${partition}@${fetchOffset + index}`), timestampMs: 1, headers: [] }));
    return { topic: 't', partition, error: undefined, records, highWatermark: 5, logStartOffset: 0 };
  }));
  const listOffsets = () => Promise.reject(new Error('every start offset here is committed'));
  const leaders = [{ nodeId: 1, epoch: 1 }, { nodeId: 1, epoch: 1 }];
  return { metadata: { topics: () => Promise.resolve(topicLookup('t', leaders)), close: () => undefined }, brokers: { fetch, listOffsets, close: () => undefined }, groups: coordinator.link() };
}

describe('Consumer.subscribe and run', () => {
  it('reads the partitions the group assigns from their committed offsets, commits explicitly, and commits and leaves on stop', async () => {
    const coordinator = new ScriptedCoordinator();
    coordinator.committed.set('t-0', 3);
    coordinator.committed.set('t-1', 4);
    coordinator.joinAnswers.push(joined(1, 'm-a', 'm-a'));
    coordinator.syncAnswers.push(synced(1, [0, 1]));
    const consumer = new Consumer({ bootstrap: ['controller:1'], groupId: 'g', autoCommitIntervalMs: 3_600_000, fetchMaxWaitMs: 1 }, links(coordinator));
    consumer.subscribe({ topics: ['t'] });
    const seen: string[] = [];
    await consumer.run({ eachMessage: ({ message }: { message: ConsumerRecord }) => Promise.resolve(void seen.push(Buffer.from(message.value).toString())) });
    expect(() => consumer.assign([])).toThrow('assign() is not available while run() consumes for group "g"; call stop() first');
    await eventually(() => Promise.resolve(seen.length === 3 ? true : undefined), 5_000, 'three records');
    expect(seen.toSorted()).toEqual(['0@3', '0@4', '1@4']);
    await consumer.commitOffsets([{ topic: 't', partition: 0, offset: 5 }]);
    await expect(consumer.commitOffsets([{ topic: 't', partition: 0, offset: 4 }])).rejects.toThrow('partition t-0: offset 4 is below 5, which this member already committed in generation 1');
    await consumer.disconnect();
    // The explicit commit, then on stop what was processed and not yet committed (partition 1), then the leave.
    expect(coordinator.calls.filter((call) => !call.startsWith('heartbeat'))).toEqual([
      'join ', 'sync m-a g1', 'fetchOffsets t-0,t-1', 'commit m-a g1 t-0@5', 'commit m-a g1 t-1@5', 'leave m-a',
    ]);
  });
});
