import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node/start-node.js';
import { AdminClient, decodeRecordBatch, defaultClientOptions } from '../../src/rpc/clients/index.js';
import { ErrorCode } from '../../src/rpc/generated/tributary/common/v1/common.js';
import { type FetchResponse, OffsetSpec } from '../../src/rpc/generated/tributary/client/v1/consumer_service.js';
import { Acks } from '../../src/rpc/generated/tributary/client/v1/producer_service.js';
import { waitFor } from '../support/in-process-raft-cluster.js';
import { batchOf, type DataPlaneClients, dataPlaneClients, header, unary } from '../support/data-plane-calls.js';
import { startTestNode } from '../support/test-node.js';

const waitMs = 20_000;
const topicPartition = (topic: string, partition: number) => ({ topic, partition });

/** Every record of a Fetch answer as [partition, offset, value]. */
function records(response: FetchResponse): Array<[number, number, string]> {
  return response.results.flatMap((result) =>
    result.batches.flatMap((batch) => decodeRecordBatch(batch).map((record): [number, number, string] => [result.topicPartition?.partition ?? -1, record.offset, new TextDecoder().decode(record.value)])),
  );
}

describe('ConsumerService on a combined node beside a broker-only node', () => {
  let controllerNode: RunningNode;
  let brokerNode: RunningNode;
  let clients: DataPlaneClients;
  let admin: AdminClient;

  beforeAll(async () => {
    controllerNode = await startTestNode({ controller: { raft: { tickIntervalMs: 20 } } });
    brokerNode = await startTestNode({ nodeId: 2, roles: ['broker'], controller: { quorum: [{ id: 1, address: controllerNode.grpcAddress }] } });
    admin = new AdminClient({ ...defaultClientOptions('consumer-service-test'), deadlineMs: 5_000, bootstrap: [controllerNode.grpcAddress] });
    clients = dataPlaneClients(controllerNode.grpcAddress);
    for (const nodeId of [1, 2]) await waitFor(() => (controllerNode.controller?.state.brokers.get(nodeId)?.fenced === false ? true : undefined), waitMs, `broker ${nodeId} to be unfenced`);
    await admin.createTopic('readings', { config: { partitions: 1, replicationFactor: 1 }, replicaAssignment: [[1]] });
    await admin.createTopic('elsewhere', { config: { partitions: 1, replicationFactor: 1 }, replicaAssignment: [[2]] });
    await waitFor(() => (controllerNode.broker?.replicas.hosted('readings', 0)?.role === 'leading' ? true : undefined), waitMs, 'readings-0 to be led');
    await waitFor(() => (controllerNode.broker?.metadata.partition('elsewhere', 0)?.leader === 2 ? true : undefined), waitMs, 'node 1 to learn who leads elsewhere-0');
  }, 60_000);

  afterAll(async () => {
    clients.close();
    admin.close();
    await brokerNode.stop();
    await controllerNode.stop();
  });

  const produce = (values: string[], timestampMs?: number) =>
    unary(clients.producer.produce.bind(clients.producer), { header: header(), partitionBatch: { topicPartition: topicPartition('readings', 0), batch: batchOf(values, timestampMs), currentLeaderEpoch: 0 }, acks: Acks.ALL, timeoutMs: 0 });
  const fetch = (fetchOffset: number, options: { maxWaitMs?: number; topic?: string; currentLeaderEpoch?: number } = {}) =>
    unary(clients.consumer.fetch.bind(clients.consumer), {
      header: header(), maxWaitMs: options.maxWaitMs ?? 0, minBytes: 1, maxBytes: 0,
      partitions: [{ topicPartition: topicPartition(options.topic ?? 'readings', 0), fetchOffset, maxBytes: 0, currentLeaderEpoch: options.currentLeaderEpoch ?? 0 }],
    });
  const listOffsets = (spec: OffsetSpec, timestampMs = 0) =>
    unary(clients.consumer.listOffsets.bind(clients.consumer), { header: header(), partitions: [{ topicPartition: topicPartition('readings', 0), spec, timestampMs, currentLeaderEpoch: 0 }] });

  it('reads back what was produced, by offset; an offset past the log end is OFFSET_OUT_OF_RANGE with the bounds', async () => {
    await produce(['r0', 'r1'], 1_000);
    await produce(['r2'], 2_000);
    expect(records(await fetch(0))).toEqual([[0, 0, 'r0'], [0, 1, 'r1'], [0, 2, 'r2']]);
    // The first batch holds offset 1 and comes whole; the consumer skips what is below its offset.
    expect(records(await fetch(1)).map(([, offset]) => offset)).toEqual([0, 1, 2]);
    const [beyond] = (await fetch(9)).results;
    expect([beyond?.error?.code, beyond?.logStartOffset, beyond?.highWatermark]).toEqual([ErrorCode.OFFSET_OUT_OF_RANGE, 0, 3]);
  });

  it('wakes a long poll when a produce makes records visible', async () => {
    const polling = fetch(3, { maxWaitMs: 15_000 });
    const produced = await produce(['late']);
    expect(produced.baseOffset).toBe(3);
    expect(records(await polling)).toEqual([[0, 3, 'late']]);
  });

  it('resolves earliest, latest and timestamp offsets with the partition bounds', async () => {
    const latest = (await listOffsets(OffsetSpec.LATEST)).results[0];
    expect([latest?.offset, latest?.timestampMs, latest?.highWatermark, latest?.logEndOffset, latest?.logStartOffset]).toEqual([4, -1, 4, 4, 0]);
    expect((await listOffsets(OffsetSpec.EARLIEST)).results[0]?.offset).toBe(0);
    const atTime = (await listOffsets(OffsetSpec.TIMESTAMP, 1_500)).results[0];
    expect([atTime?.offset, atTime?.timestampMs, atTime?.leaderEpoch]).toEqual([2, 2_000, 1]);
  });

  it('answers per partition NOT_LEADER with the leader hint, TOPIC_NOT_FOUND and PARTITION_NOT_FOUND, and a newer epoch NOT_LEADER', async () => {
    const [elsewhere] = (await fetch(0, { topic: 'elsewhere' })).results;
    expect(elsewhere?.error).toMatchObject({ code: ErrorCode.NOT_LEADER, retriable: true, leaderHint: { nodeId: 2, address: brokerNode.grpcAddress, epoch: 1 } });
    expect((await fetch(0, { topic: 'missing' })).results[0]?.error?.message).toMatch(/^topic "missing" does not exist/);
    const response = await unary(clients.consumer.fetch.bind(clients.consumer), {
      header: header(), maxWaitMs: 0, minBytes: 0, maxBytes: 0, partitions: [{ topicPartition: topicPartition('readings', 4), fetchOffset: 0, maxBytes: 0, currentLeaderEpoch: 0 }],
    });
    expect(response.results[0]?.error?.message).toBe('topic "readings" has 1 partitions; partition 4 does not exist');
    expect((await fetch(0, { currentLeaderEpoch: 2 })).results[0]?.error?.code).toBe(ErrorCode.NOT_LEADER);
    // The broker-only node serves its own partition.
    const direct = dataPlaneClients(brokerNode.grpcAddress);
    try {
      const produced = await unary(direct.producer.produce.bind(direct.producer), {
        header: header(), partitionBatch: { topicPartition: topicPartition('elsewhere', 0), batch: batchOf(['there']), currentLeaderEpoch: 1 }, acks: Acks.ALL, timeoutMs: 0,
      });
      expect(produced.baseOffset).toBe(0);
    } finally {
      direct.close();
    }
  });
});
