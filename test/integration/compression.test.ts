import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Consumer, type ConsumerRecord, Producer } from '../../src/client/index.js';
import type { RunningNode } from '../../src/node/start-node.js';
import { AdminClient, type CompressionCodec, defaultClientOptions, encodeRecordBatch } from '../../src/rpc/clients/index.js';
import { Acks } from '../../src/rpc/generated/tributary/client/v1/producer_service.js';
import { Codec } from '../../src/rpc/generated/tributary/common/v1/common.js';
import { type DataPlaneClients, dataPlaneClients, failureOf, header, unary } from '../support/data-plane-calls.js';
import { waitFor } from '../support/in-process-raft-cluster.js';
import { startTestNode } from '../support/test-node.js';
import { runTrib } from '../support/trib-process.js';

/*
 * Compressed batches end to end on a combined node: the SDK Producer compresses, the broker checks
 * and stores the bytes as sent, Fetch serves them compressed, and the SDK Consumer and `trib
 * consume` decompress.
 */

const waitMs = 20_000;
const recordsPerCodec = 300;

let node: RunningNode;
let admin: AdminClient;
let clients: DataPlaneClients;

/** A reading as a device sends it. */
const reading = (index: number) => JSON.stringify({ device: `sensor-${index % 11}`, temperature: 18 + (index % 70) / 10, humidity: 35 + (index % 29), status: 'ok' });

beforeAll(async () => {
  node = await startTestNode({ controller: { raft: { tickIntervalMs: 20 } } });
  admin = new AdminClient({ ...defaultClientOptions('compression-test'), deadlineMs: 5_000, bootstrap: [node.grpcAddress] });
  clients = dataPlaneClients(node.grpcAddress);
  await waitFor(() => (node.controller?.state.brokers.get(1)?.fenced === false ? true : undefined), waitMs, 'the broker to be unfenced');
  await admin.createTopic('readings', { config: { partitions: 3, replicationFactor: 1 } });
  await admin.createTopic('zstd-readings', { config: { partitions: 1, replicationFactor: 1, compression: 'zstd' } });
  for (const [topic, partition] of [['readings', 0], ['readings', 1], ['readings', 2], ['zstd-readings', 0]] as const) {
    await waitFor(() => (node.broker?.replicas.hosted(topic, partition)?.role === 'leading' ? true : undefined), waitMs, `${topic}-${partition} to be led`);
  }
}, 60_000);

afterAll(async () => {
  clients?.close();
  admin?.close();
  await node?.stop();
});

/** The codec of every batch stored in the partition, read with a raw Fetch. */
async function storedCodecs(topic: string, partition: number): Promise<Codec[]> {
  const response = await unary(clients.consumer.fetch.bind(clients.consumer), {
    header: header(), partitions: [{ topicPartition: { topic, partition }, fetchOffset: 0, maxBytes: 0, currentLeaderEpoch: 0 }], maxWaitMs: 0, minBytes: 0, maxBytes: 0,
  });
  return response.results[0]?.batches.map((batch) => batch.codec) ?? [];
}

/** Polls from the start of `partitions` of `topic` until `count` records arrived. */
async function consumeAll(topic: string, partitions: readonly number[], count: number): Promise<ConsumerRecord[]> {
  const consumer = new Consumer({ bootstrap: [node.grpcAddress], fetchMaxWaitMs: 200 });
  try {
    consumer.assign(partitions.map((partition) => ({ topic, partition, offset: 'earliest' as const })));
    const records: ConsumerRecord[] = [];
    const deadlineMs = Date.now() + waitMs;
    while (records.length < count && Date.now() < deadlineMs) records.push(...(await consumer.poll()));
    return records;
  } finally {
    consumer.close();
  }
}

const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));

describe('compression through the SDK and the CLI', () => {
  it('a Producer with lz4 or zstd stores batches of that codec, and the Consumer reads every record back', async () => {
    const codecs: ReadonlyArray<[CompressionCodec, number, Codec]> = [['lz4', 0, Codec.LZ4], ['zstd', 1, Codec.ZSTD]];
    for (const [compression, partition] of codecs) {
      const producer = new Producer({ bootstrap: [node.grpcAddress], compression, lingerMs: 20 });
      try {
        const sent = await producer.send('readings', Array.from({ length: recordsPerCodec }, (_, index) => ({ key: `sensor-${index % 11}`, value: reading(index), partition })));
        expect(sent.map((metadata) => metadata.offset)).toEqual(Array.from({ length: recordsPerCodec }, (_, index) => index));
      } finally {
        await producer.close();
      }
    }
    for (const [, partition, codec] of codecs) expect(new Set(await storedCodecs('readings', partition))).toEqual(new Set([codec]));
    const consumed = await consumeAll('readings', [0, 1], 2 * recordsPerCodec);
    for (const [, partition] of codecs) {
      const ofPartition = consumed.filter((record) => record.partition === partition);
      expect(ofPartition.map((record) => [record.offset, text(record.key), text(record.value)])).toEqual(
        Array.from({ length: recordsPerCodec }, (_, index) => [index, `sensor-${index % 11}`, reading(index)]),
      );
    }
  }, 60_000);

  it("a Producer that names no codec uses the topic's configured compression", async () => {
    const producer = new Producer({ bootstrap: [node.grpcAddress] });
    try {
      await producer.send('zstd-readings', [{ value: reading(1) }, { value: reading(2) }]);
    } finally {
      await producer.close();
    }
    expect(await storedCodecs('zstd-readings', 0)).toEqual([Codec.ZSTD]);
    expect((await consumeAll('zstd-readings', [0], 2)).map((record) => text(record.value))).toEqual([reading(1), reading(2)]);
  }, 30_000);

  it('the broker refuses a codec it does not support, naming it', async () => {
    const batch = { ...encodeRecordBatch([{ value: new TextEncoder().encode('x'), timestampMs: Date.now() }]), codec: 7 as Codec };
    const produce = unary(clients.producer.produce.bind(clients.producer), {
      header: header(), partitionBatch: { topicPartition: { topic: 'readings', partition: 2 }, batch, currentLeaderEpoch: 0 }, acks: Acks.ALL, timeoutMs: 0,
    });
    expect(await failureOf(produce)).toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'batch of 1 records for partition "readings-2": codec 7 is not a codec this broker supports; send CODEC_NONE, CODEC_LZ4 or CODEC_ZSTD',
    });
  });

  it('trib produce --compression zstd stores zstd batches that trib consume prints', async () => {
    const bootstrap = ['--bootstrap', node.grpcAddress];
    const lines = [reading(7), reading(8), reading(9)];
    const produced = await runTrib(['produce', 'readings', ...bootstrap, '--partition', '2', '--compression', 'zstd', '--json'], { input: `${lines.join('\n')}\n` });
    expect(produced).toMatchObject({ code: 0, stderr: '' });
    expect(await storedCodecs('readings', 2)).toEqual([Codec.ZSTD]);
    const consumed = await runTrib(['consume', 'readings', ...bootstrap, '--partition', '2', '--from-beginning', '--max', '3', '--json']);
    expect(consumed).toMatchObject({ code: 0, stderr: '' });
    expect(consumed.stdout.split('\n').filter((line) => line !== '')).toEqual(
      lines.map((value, offset) => JSON.stringify({ partition: 2, offset, key: null, value })),
    );
    const refused = await runTrib(['produce', 'readings', ...bootstrap, '--compression', 'gzip'], { input: 'x\n' });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--compression must be one of none, lz4, zstd, got "gzip"');
  }, 60_000);
});
