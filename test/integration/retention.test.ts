import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, defaultClientOptions } from '../../src/rpc/clients/index.js';
import { OffsetSpec } from '../../src/rpc/generated/tributary/client/v1/consumer_service.js';
import { Acks } from '../../src/rpc/generated/tributary/client/v1/producer_service.js';
import { batchOf, type DataPlaneClients, dataPlaneClients, header, unary } from '../support/data-plane-calls.js';
import { waitFor } from '../support/in-process-raft-cluster.js';
import { startTestNode } from '../support/test-node.js';

const waitMs = 20_000;
const dayMs = 86_400_000;

describe('retention on a broker', () => {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let clients: DataPlaneClients;
  let admin: AdminClient;

  beforeAll(async () => {
    node = await startTestNode({ controller: { raft: { tickIntervalMs: 20 } }, broker: { retentionCheckIntervalMs: 1_000 } });
    admin = new AdminClient({ ...defaultClientOptions('retention-test'), deadlineMs: 5_000, bootstrap: [node.grpcAddress] });
    clients = dataPlaneClients(node.grpcAddress);
    await waitFor(() => (node.controller?.state.brokers.get(1)?.fenced === false ? true : undefined), waitMs, 'the broker to be unfenced');
    await admin.createTopic('aged', { config: { partitions: 1, replicationFactor: 1, retentionMs: dayMs } });
    await admin.createTopic('kept', { config: { partitions: 1, replicationFactor: 1 } });
    for (const topic of ['aged', 'kept']) await waitFor(() => (node.broker?.replicas.hosted(topic, 0)?.role === 'leading' ? true : undefined), waitMs, `${topic}-0 to be led`);
  }, 60_000);

  afterAll(async () => {
    clients.close();
    admin.close();
    await node.stop();
  });

  const produce = (topic: string, values: string[], timestampMs: number) =>
    unary(clients.producer.produce.bind(clients.producer), {
      header: header(), acks: Acks.ALL, timeoutMs: 0, partitionBatch: { topicPartition: { topic, partition: 0 }, batch: batchOf(values, timestampMs), currentLeaderEpoch: 0 },
    });
  const earliest = async (topic: string) =>
    (await unary(clients.consumer.listOffsets.bind(clients.consumer), {
      header: header(), partitions: [{ topicPartition: { topic, partition: 0 }, spec: OffsetSpec.EARLIEST, timestampMs: 0, currentLeaderEpoch: 0 }],
    })).results[0]?.offset;

  it('deletes batches older than the topic\'s retention.ms, keeps recent ones, and keeps everything of a topic without retention', async () => {
    const longAgoMs = Date.now() - 3 * dayMs;
    for (const topic of ['aged', 'kept']) {
      await produce(topic, ['old0', 'old1'], longAgoMs);
      await produce(topic, ['new2'], Date.now());
    }
    await waitFor(() => node.logLines().find((line) => line.msg === 'retention deleted old batches'), waitMs, 'a retention pass to delete');
    expect(await earliest('aged')).toBe(2);
    expect(await earliest('kept')).toBe(0);
  });
});
