import { describe, expect, it } from 'vitest';
import { Acks } from '../../../src/rpc/generated/tributary/client/v1/producer_service.js';
import { BrokerPartitions } from '../../../src/rpc/services/broker-partitions.js';
import type { BrokerServiceSettings } from '../../../src/rpc/services/broker-service-settings.js';
import { type AddressedBatch, PartitionBatchAppender, produceModeOf } from '../../../src/rpc/services/partition-batch-appender.js';
import { registerProduceResults } from '../../../src/rpc/services/produce-results.js';
import { createMetricsRegistry } from '../../../src/observability/index.js';
import { batchOf } from '../../support/data-plane-calls.js';
import { rejectionOf } from '../../support/storage-engines.js';
import { alone, ServedPartitions, untilQuiet, withFollower } from '../../support/served-partitions.js';

const toPartition = (partition: number, values = ['v']): AddressedBatch => ({ topicPartition: { topic: 'orders', partition }, batch: batchOf(values), currentLeaderEpoch: 0 });

function appenderOf(served: ServedPartitions, partitions = served.partitions, metrics = createMetricsRegistry()) {
  return new PartitionBatchAppender({ partitions, settings: served.settings, clock: served.clock, logger: served.log.logger, results: registerProduceResults(metrics) });
}

describe('produce modes', () => {
  const settings = new ServedPartitions().settings;

  it('takes the server default for timeout 0 and clamps longer timeouts to the named maximum', () => {
    expect(produceModeOf(Acks.ALL, 0, settings)).toEqual({ acks: 'all', timeoutMs: settings.produceTimeoutMsDefault });
    expect(produceModeOf(Acks.LEADER, 10 ** 9, settings)).toEqual({ acks: 'leader', timeoutMs: settings.produceTimeoutMsMax });
    expect(produceModeOf(Acks.NONE, 250, settings)).toEqual({ acks: 'none', timeoutMs: 250 });
  });

  it('refuses ACKS_UNSPECIFIED and unknown acks values as INVALID_REQUEST naming them', () => {
    expect(() => produceModeOf(Acks.UNSPECIFIED, 0, settings)).toThrow('acks ACKS_UNSPECIFIED (0) is never sent; send ACKS_NONE, ACKS_LEADER or ACKS_ALL');
    expect(() => produceModeOf(9 as Acks, 0, settings)).toThrow('acks 9 is not a known Acks value; send ACKS_NONE, ACKS_LEADER or ACKS_ALL');
  });
});

describe('appending produced batches', () => {
  it('counts every answer by result: appended, or the error code', async () => {
    const served = new ServedPartitions();
    await served.lead(0, alone);
    const metrics = createMetricsRegistry();
    const appender = appenderOf(served, served.partitions, metrics);
    const leader = produceModeOf(Acks.LEADER, 0, served.settings);
    await appender.append(toPartition(0), leader);
    await appender.append(toPartition(0), leader);
    await expect(appender.append(toPartition(7), leader)).rejects.toMatchObject({ code: 'NOT_LEADER' });
    const counted = (await metrics.metrics()).split('\n').filter((line) => line.startsWith('trib_produce_batches_total'));
    expect(counted).toEqual(['trib_produce_batches_total{result="appended"} 2', 'trib_produce_batches_total{result="NOT_LEADER"} 1']);
  });

  it('answers acks=none before the batch is durable, and bounds the bytes answered but not yet written', async () => {
    const served = new ServedPartitions({ acksNoneUnwrittenBytesMax: 1 } satisfies Partial<BrokerServiceSettings>);
    const leader = await served.lead(0, alone);
    const appender = appenderOf(served);
    const none = produceModeOf(Acks.NONE, 0, served.settings);
    // The first goes alone even though it is larger than the bound; the second would join it.
    expect(await appender.append(toPartition(0, ['a']), none)).toEqual({ baseOffset: 0, logAppendTimeMs: 0, logStartOffset: 0, duplicate: false });
    // Not durable yet: a leader alone in its ISR has its high watermark at its durable end.
    expect(leader.highWatermark()).toBe(0);
    const refused = await rejectionOf(() => appender.append(toPartition(0, ['b']), none));
    expect(refused).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retriable: true });
    expect(refused.message).toMatch(/^partition "orders-0": \d+ bytes of acks=none batches are still being written on this broker, and \d+ more would pass the 1 bound; retry shortly or use ACKS_LEADER$/);
    await untilQuiet();
    expect(leader.logEndOffset()).toBe(1);
    await appender.append(toPartition(0, ['c']), none);
    await untilQuiet();
    expect(leader.logEndOffset()).toBe(2);
  });

  it('fails acks=all fast with NOT_ENOUGH_REPLICAS when the ISR is below min in-sync replicas, storing nothing', async () => {
    const served = new ServedPartitions();
    const leader = await served.lead(0, { ...withFollower, isr: [1], minInSyncReplicas: 2 });
    const refused = await rejectionOf(() => appenderOf(served).append(toPartition(0), produceModeOf(Acks.ALL, 0, served.settings)));
    expect(refused).toMatchObject({ code: 'NOT_ENOUGH_REPLICAS', retriable: true });
    expect(leader.logEndOffset()).toBe(0);
  });

  it('reports the leader clock as the append time and the log start offset', async () => {
    const served = new ServedPartitions();
    await served.lead(0, alone);
    const outcome = await appenderOf(served).append(toPartition(0), produceModeOf(Acks.LEADER, 0, served.settings));
    expect(outcome).toEqual({ baseOffset: 0, logAppendTimeMs: served.clock.nowMs(), logStartOffset: 0, duplicate: false });
  });

  it('answers NOT_AVAILABLE while the broker role is starting and SHUTTING_DOWN once the server shuts down', async () => {
    const served = new ServedPartitions();
    const shutdown = new AbortController();
    const starting = new BrokerPartitions({ nodeId: 3, broker: () => undefined, shutdownSignal: shutdown.signal });
    const appender = appenderOf(served, starting);
    const mode = produceModeOf(Acks.ALL, 0, served.settings);
    expect(await rejectionOf(() => appender.append(toPartition(0), mode))).toMatchObject({
      code: 'NOT_AVAILABLE', retriable: true, message: 'broker 3 is starting: it serves partitions once its broker role runs; retry shortly',
    });
    shutdown.abort();
    expect(await rejectionOf(() => appender.append(toPartition(0), mode))).toMatchObject({ code: 'SHUTTING_DOWN', retriable: true });
  });

  it('puts a failure in the result instead of rejecting, for ProduceBatch and ProduceStream', async () => {
    const served = new ServedPartitions();
    const result = await appenderOf(served).result(toPartition(5), produceModeOf(Acks.ALL, 0, served.settings));
    expect(result).toMatchObject({ topicPartition: { topic: 'orders', partition: 5 }, baseOffset: 0, error: { message: 'partition "orders-5" is led by broker 2', leaderHint: { nodeId: 2 } } });
  });
});
