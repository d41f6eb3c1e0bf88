import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node/start-node.js';
import { AdminClient, decodeRecordBatch, defaultClientOptions } from '../../src/rpc/clients/index.js';
import { Acks, type PartitionBatch, type ProduceStreamResponse } from '../../src/rpc/generated/tributary/client/v1/producer_service.js';
import { waitFor } from '../support/in-process-raft-cluster.js';
import { batchOf, type DataPlaneClients, dataPlaneClients, failureOf, header, openProduceStream, unary } from '../support/data-plane-calls.js';
import { startTestNode } from '../support/test-node.js';

const waitMs = 20_000;
const orders = (partition: number) => ({ topic: 'orders', partition });

let node: RunningNode;
let clients: DataPlaneClients;
let admin: AdminClient;

beforeAll(async () => {
  node = await startTestNode({ controller: { raft: { tickIntervalMs: 20 } } });
  admin = new AdminClient({ ...defaultClientOptions('producer-service-test'), deadlineMs: 5_000, bootstrap: [node.grpcAddress] });
  clients = dataPlaneClients(node.grpcAddress);
  await waitFor(() => (node.controller?.state.brokers.get(1)?.fenced === false ? true : undefined), waitMs, 'the broker to be unfenced');
  await admin.createTopic('orders', { config: { partitions: 2, replicationFactor: 1, maxMessageBytes: 4_096 } });
  await admin.createTopic('stream', { config: { partitions: 2, replicationFactor: 1 } });
  for (const [topic, partition] of [['orders', 0], ['orders', 1], ['stream', 0], ['stream', 1]] as const) {
    await waitFor(() => (node.broker?.replicas.hosted(topic, partition)?.role === 'leading' ? true : undefined), waitMs, `${topic}-${partition} to be led`);
  }
}, 60_000);

afterAll(async () => {
  clients.close();
  admin.close();
  await node.stop();
});

describe('ProducerService on a combined node', () => {
  const produce = (partitionBatch: PartitionBatch, acks: Acks) => unary(clients.producer.produce.bind(clients.producer), { header: header(), partitionBatch, acks, timeoutMs: 0 });
  const readBack = async (partition: number, fetchOffset: number) => {
    const response = await unary(clients.consumer.fetch.bind(clients.consumer), {
      header: header(), partitions: [{ topicPartition: orders(partition), fetchOffset, maxBytes: 0, currentLeaderEpoch: 0 }], maxWaitMs: 0, minBytes: 0, maxBytes: 0,
    });
    return response.results[0]?.batches.flatMap((batch) => decodeRecordBatch(batch).map((record) => [record.offset, new TextDecoder().decode(record.value)])) ?? [];
  };

  it('appends with each acks value; acks=leader and acks=all report offsets, acks=none answers before the append with zeros', async () => {
    const all = await produce({ topicPartition: orders(0), batch: batchOf(['a0', 'a1']), currentLeaderEpoch: 0 }, Acks.ALL);
    expect(all).toMatchObject({ baseOffset: 0, logStartOffset: 0, duplicate: false });
    expect(all.logAppendTimeMs).toBeGreaterThan(0);
    expect(await produce({ topicPartition: orders(0), batch: batchOf(['l2']), currentLeaderEpoch: 1 }, Acks.LEADER)).toMatchObject({ baseOffset: 2 });
    expect(await produce({ topicPartition: orders(0), batch: batchOf(['n3']), currentLeaderEpoch: 0 }, Acks.NONE)).toEqual({ baseOffset: 0, logAppendTimeMs: 0, logStartOffset: 0, duplicate: false });
    // The acks=none batch lands after the others, in order: the next acknowledged one follows it.
    expect(await produce({ topicPartition: orders(0), batch: batchOf(['a4']), currentLeaderEpoch: 0 }, Acks.ALL)).toMatchObject({ baseOffset: 4 });
    expect(await readBack(0, 0)).toEqual([[0, 'a0'], [1, 'a1'], [2, 'l2'], [3, 'n3'], [4, 'a4']]);
  });

  it('refuses what the contract refuses, naming the bad value', async () => {
    const good = { topicPartition: orders(1), batch: batchOf(['x']), currentLeaderEpoch: 0 };
    const damaged = { ...good, batch: { ...good.batch, crc32c: (good.batch.crc32c ^ 1) >>> 0 } };
    const cases: Array<[PartitionBatch, Acks, string]> = [
      [good, Acks.UNSPECIFIED, 'INVALID_REQUEST: acks ACKS_UNSPECIFIED (0) is never sent; send ACKS_NONE, ACKS_LEADER or ACKS_ALL'],
      [{ ...good, topicPartition: { topic: 'nope', partition: 0 } }, Acks.ALL, 'TOPIC_NOT_FOUND: topic "nope" does not exist'],
      [{ ...good, topicPartition: orders(7) }, Acks.ALL, 'PARTITION_NOT_FOUND: topic "orders" has 2 partitions; partition 7 does not exist'],
      [{ ...good, currentLeaderEpoch: 9 }, Acks.ALL, 'NOT_LEADER'],
      [damaged, Acks.ALL, 'CORRUPT_RECORD: batch of 1 records for partition "orders-1": CRC32C'],
      [{ ...good, batch: { ...good.batch, producerId: 12 } }, Acks.NONE, 'INVALID_REQUEST: batch for partition "orders-1" has producer_id 12 with ACKS_NONE; an idempotent producer needs ACKS_LEADER or ACKS_ALL'],
      [{ ...good, batch: { ...good.batch, producerId: 12, baseSequence: 5 } }, Acks.ALL, 'UNKNOWN_PRODUCER_ID: partition "orders-1" producer 12: the partition has no state for this producer'],
      [{ ...good, batch: batchOf(['y'.repeat(5_000)]) }, Acks.ALL, 'RESOURCE_EXHAUSTED: batch of 1 records for partition "orders-1": records are'],
    ];
    for (const [partitionBatch, acks, expected] of cases) {
      const error = await failureOf(produce(partitionBatch, acks));
      expect(`${error.code}: ${error.message}`.startsWith(expected), `${error.code}: ${error.message}`).toBe(true);
    }
    // Nothing refused was stored.
    expect(await readBack(1, 0)).toEqual([]);
  });

  it('ProduceBatch answers per partition in request order; one failing partition does not fail the others', async () => {
    const response = await unary(clients.producer.produceBatch.bind(clients.producer), {
      header: header(), acks: Acks.ALL, timeoutMs: 0,
      partitionBatches: [
        { topicPartition: orders(1), batch: batchOf(['b0']), currentLeaderEpoch: 0 },
        { topicPartition: orders(5), batch: batchOf(['lost']), currentLeaderEpoch: 0 },
        { topicPartition: orders(0), batch: batchOf(['b5']), currentLeaderEpoch: 0 },
      ],
    });
    expect(response.results.map((result) => [result.topicPartition?.partition, result.error?.message ?? result.baseOffset])).toEqual([
      [1, 0], [5, 'topic "orders" has 2 partitions; partition 5 does not exist'], [0, 5],
    ]);
    const repeated = await failureOf(unary(clients.producer.produceBatch.bind(clients.producer), {
      header: header(), acks: Acks.ALL, timeoutMs: 0,
      partitionBatches: [{ topicPartition: orders(1), batch: batchOf(['r']), currentLeaderEpoch: 0 }, { topicPartition: orders(1), batch: batchOf(['r']), currentLeaderEpoch: 0 }],
    }));
    expect(repeated.message).toBe('ProduceBatch names partition "orders-1" twice in partition_batches; name each partition at most once');
    expect(await readBack(1, 0)).toEqual([[0, 'b0']]);
  });

  it('InitProducerId hands out identities, and a retried batch is answered with its original offset, stored once', async () => {
    const init = (producerId: number, producerEpoch: number) => unary(clients.producer.initProducerId.bind(clients.producer), { header: header(), producerId, producerEpoch });
    const [first, second] = [await init(0, 0), await init(0, 0)];
    expect(first).toMatchObject({ producerEpoch: 0, maxInFlightBatchesPerPartition: 5 });
    expect(first.producerId).toBeGreaterThanOrEqual(1);
    expect(second.producerId).not.toBe(first.producerId);
    expect(await init(first.producerId, 0)).toMatchObject({ producerId: first.producerId, producerEpoch: 1 });
    const idempotent = (values: string[], baseSequence: number) => ({
      topicPartition: orders(1), batch: { ...batchOf(values), producerId: first.producerId, producerEpoch: 1, baseSequence }, currentLeaderEpoch: 0,
    });
    const start = (await readBack(1, 0)).length;
    const original = await produce(idempotent(['i0', 'i1'], 0), Acks.ALL);
    expect(original).toMatchObject({ baseOffset: start, duplicate: false });
    expect(await produce(idempotent(['i0', 'i1'], 0), Acks.ALL)).toMatchObject({ baseOffset: start, duplicate: true });
    expect(await produce(idempotent(['i2'], 2), Acks.LEADER)).toMatchObject({ baseOffset: start + 2, duplicate: false });
    const gap = await failureOf(produce(idempotent(['i9'], 9), Acks.ALL));
    expect([gap.code, gap.retriable]).toEqual(['OUT_OF_ORDER_SEQUENCE', false]);
    expect((await readBack(1, start)).map(([, value]) => value)).toEqual(['i0', 'i1', 'i2']);
  });
});

describe('ProduceStream on a combined node', () => {
  const append = (correlationId: number, partition: number, value: string) => ({
    kind: { $case: 'append' as const, value: { correlationId, partitionBatch: { topicPartition: { topic: 'stream', partition }, batch: batchOf([value]), currentLeaderEpoch: 0 } } },
  });
  const results = (responses: ProduceStreamResponse[]) => responses.flatMap((response) => (response.kind?.$case === 'result' ? [response.kind.value] : []));

  it('opens with the window, answers every append once, in request order per partition, and ends OK after a half-close', async () => {
    const { stream, responses, ended } = openProduceStream(clients.producer);
    stream.write({ header: header(), kind: { $case: 'open', value: { acks: Acks.ALL, timeoutMs: 0 } } });
    for (let id = 1; id <= 6; id += 1) stream.write(append(id, id % 2, `s${id}`));
    stream.write({ kind: { $case: 'append', value: { correlationId: 7, partitionBatch: { topicPartition: { topic: 'stream', partition: 9 }, batch: batchOf(['bad']), currentLeaderEpoch: 0 } } } });
    stream.end();
    expect(await ended).toBeUndefined();
    expect(responses[0]?.kind).toEqual({ $case: 'opened', value: { maxInFlightRequests: 256, maxInFlightBytes: 32 * 1024 * 1024, nodeId: 1 } });
    const byId = new Map(results(responses).map((result) => [result.correlationId, result.result]));
    expect([...byId.keys()].toSorted()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const partition of [0, 1]) {
      const ordered = results(responses).filter((result) => result.result?.topicPartition?.partition === partition).map((result) => [result.correlationId, result.result?.baseOffset]);
      expect(ordered).toEqual(partition === 1 ? [[1, 0], [3, 1], [5, 2]] : [[2, 0], [4, 1], [6, 2]]);
    }
    expect(byId.get(7)?.error?.message).toBe('topic "stream" has 2 partitions; partition 9 does not exist');
  });

  it('ends the stream with a clear error for an append before open (the window is tested in produce-stream.test.ts)', async () => {
    const early = openProduceStream(clients.producer);
    early.stream.write({ header: header(), ...append(1, 0, 'early') });
    const error = await early.ended;
    expect([error?.code, error?.message]).toEqual(['INVALID_REQUEST', 'ProduceStream got an append before open; the first message must carry open']);
  });
});
