import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Admin, Consumer, type ConsumerRecord, Producer, type RecordMetadata } from '../../src/client/index.js';
import { eventually } from '../support/eventually.js';
import type { LocalCluster } from '../support/local-cluster.js';
import { startSdkCluster } from '../support/sdk-cluster.js';

const waitMs = 30_000;
const topic = 'events';

/** Broker `id`'s count of produced batches it answered with `result` (appended, duplicate or an error code), from its /metrics. */
async function producesAnswered(cluster: LocalCluster, id: number, result: string): Promise<number> {
  const { nodes } = parseYaml(readFileSync(cluster.configPath, 'utf8')) as { nodes: Array<{ id: number; metrics: string }> };
  const metrics = nodes.find((node) => node.id === id)?.metrics;
  const text = await (await fetch(`http://${metrics}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`trib_produce_batches_total{result="${result}"}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function messages(from: number, count: number) {
  return Array.from({ length: count }, (_, index) => ({
    key: `device-${(from + index) % 3}`,
    value: `reading ${from + index}`,
    headers: [{ key: 'seq', value: String(from + index) }],
    timestampMs: 1_700_000_000_000 + from + index,
  }));
}

/** Polls until `count` records arrived (bounded by waitMs). */
async function consume(consumer: Consumer, count: number): Promise<ConsumerRecord[]> {
  const records: ConsumerRecord[] = [];
  await eventually(async () => {
    records.push(...(await consumer.poll()));
    return records.length >= count ? true : undefined;
  }, waitMs, `${count} records`);
  return records;
}

function shown(record: ConsumerRecord) {
  const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8'));
  return { partition: record.partition, offset: record.offset, key: text(record.key), value: text(record.value), seq: text(record.headers[0]?.value), timestampMs: record.timestampMs };
}

function expected(metadata: RecordMetadata[], from: number) {
  return metadata.map((sent, index) => ({
    partition: 0, offset: sent.offset, key: `device-${(from + index) % 3}`, value: `reading ${from + index}`, seq: String(from + index), timestampMs: 1_700_000_000_000 + from + index,
  }));
}

describe('the SDK Producer and Consumer against a controller and two broker processes', () => {
  let cluster: LocalCluster;
  let admin: Admin;

  beforeAll(async () => {
    ({ cluster, admin } = await startSdkCluster({ controllers: 1, brokers: 2 }, 2));
  }, 120_000);

  afterAll(async () => {
    admin?.close();
    await cluster?.destroy();
  });

  async function partitionState() {
    const { topics } = await admin.describeTopics([topic]);
    return topics[0]?.topic?.partitions[0];
  }

  it('delivers every acknowledged record at its offset, in order, across a leader failure and a NOT_LEADER redirect', async () => {
    // Broker 2 is the preferred leader; broker 3 follows.
    await admin.createTopic(topic, { config: { partitions: 1, replicationFactor: 2, minInSyncReplicas: 1 }, replicaAssignment: [[2, 3]] });
    await eventually(async () => ((await partitionState())?.isr.length === 2 ? true : undefined), waitMs, 'both replicas in sync');
    const producer = new Producer({ bootstrap: cluster.bootstrap.split(','), lingerMs: 5, retriesMax: 30, backoffMsMax: 500 });
    const consumer = new Consumer({ bootstrap: cluster.bootstrap.split(','), fetchMaxWaitMs: 200, retriesMax: 30, backoffMsMax: 500 });
    try {
      consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      const first = await producer.send(topic, messages(0, 10));
      expect(first.map((sent) => [sent.partition, sent.offset])).toEqual(Array.from({ length: 10 }, (_, offset) => [0, offset]));
      expect((await consume(consumer, 10)).map(shown)).toEqual(expected(first, 0));

      // The leader dies: both clients' cached routes point at a dead broker until they ask again.
      await cluster.kill(2);
      const second = await producer.send(topic, messages(10, 5));
      expect((await partitionState())?.leader).toBe(3);
      expect(second.map((sent) => sent.offset)).toEqual([10, 11, 12, 13, 14]);
      expect((await consume(consumer, 5)).map(shown)).toEqual(expected(second, 10));

      // Broker 2 comes back, catches up, and a preferred election hands it the partition again:
      // the clients still route to broker 3, which answers NOT_LEADER naming broker 2.
      await cluster.up();
      await eventually(async () => ((await partitionState())?.isr.toSorted().join() === '2,3' ? true : undefined), waitMs, 'broker 2 back in sync');
      const redirectsBefore = await producesAnswered(cluster, 3, 'NOT_LEADER');
      await admin.electLeaders('preferred', [{ topic, partition: 0 }]);
      await eventually(async () => ((await partitionState())?.leader === 2 ? true : undefined), waitMs, 'broker 2 to lead again');
      const third = await producer.send(topic, messages(15, 5));
      expect(third.map((sent) => sent.offset)).toEqual([15, 16, 17, 18, 19]);
      expect(await producesAnswered(cluster, 3, 'NOT_LEADER')).toBeGreaterThan(redirectsBefore);
      expect((await consume(consumer, 5)).map(shown)).toEqual(expected(third, 15));

      const [offsets] = await admin.listOffsets(topic);
      expect(offsets).toMatchObject({ partition: 0, leaderId: 2, offsets: { logStartOffset: 0, highWatermark: 20, logEndOffset: 20 }, error: undefined });
    } finally {
      await producer.close();
      consumer.close();
    }
  });

  it('refuses a start offset outside the log, naming the range', async () => {
    await admin.createTopic('sparse', { config: { partitions: 1, replicationFactor: 1 } });
    const producer = new Producer({ bootstrap: cluster.bootstrap.split(',') });
    const consumer = new Consumer({ bootstrap: cluster.bootstrap.split(','), fetchMaxWaitMs: 100 });
    try {
      await producer.send('sparse', messages(0, 3));
      consumer.assign([{ topic: 'sparse', partition: 0, offset: 500 }]);
      await expect(consumer.poll()).rejects.toThrow('partition sparse-0: offset 500 is out of range; the partition holds offsets 0 to 3 (log start offset to high watermark)');
      consumer.seek('sparse', 0, 2);
      expect((await consume(consumer, 1)).map((record) => [record.offset, Buffer.from(record.value).toString()])).toEqual([[2, 'reading 2']]);
    } finally {
      await producer.close();
      consumer.close();
    }
  });
});
