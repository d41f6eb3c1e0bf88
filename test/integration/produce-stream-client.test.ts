import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, Server, ServerCredentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TributaryError } from '../../src/errors/index.js';
import type { RunningNode } from '../../src/node/start-node.js';
import { AdminClient, defaultClientOptions, ProducerClient } from '../../src/rpc/clients/index.js';
import { ProduceStreamChannel, produceStreamIdleCloseMs, produceStreamQueuedMax } from '../../src/rpc/clients/produce-stream-channel.js';
import { Acks, ProducerServiceClient } from '../../src/rpc/generated/tributary/client/v1/producer_service.js';
import { createProducerService } from '../../src/rpc/services/producer-service.js';
import { batchOf, failureOf } from '../support/data-plane-calls.js';
import { freePorts } from '../support/free-ports.js';
import { waitFor } from '../support/in-process-raft-cluster.js';
import { alone, ServedPartitions } from '../support/served-partitions.js';
import { createMetricsRegistry } from '../../src/observability/index.js';
import { startTestNode } from '../support/test-node.js';

const waitMs = 20_000;

/** Every promise's outcome: its value, or the TributaryError it was rejected with. */
async function outcomes<T>(promises: ReadonlyArray<Promise<T>>): Promise<Array<{ value: T } | { error: TributaryError }>> {
  return Promise.all(promises.map((promise) => promise.then((value) => ({ value }), (error: unknown) => ({ error: error as TributaryError }))));
}

describe('ProduceStreamChannel against a ProducerService whose window is 2 requests', () => {
  let served: ServedPartitions;
  let server: Server;
  let stub: ProducerServiceClient;
  let channel: ProduceStreamChannel;

  beforeAll(async () => {
    served = new ServedPartitions({ streamInFlightRequestsMax: 2 });
    await served.lead(0, alone);
    const service = createProducerService({ partitions: served.partitions, settings: served.settings, clock: served.clock, logger: served.log.logger, metrics: createMetricsRegistry() });
    server = new Server();
    server.addService(service.definition, service.implementation);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
    stub = new ProducerServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    channel = new ProduceStreamChannel(stub.produceStream(new Metadata()), {
      address: `127.0.0.1:${port}`, clientId: 'produce-stream-client-test', acks: Acks.ALL, ackTimeoutMs: 0, openTimeoutMs: waitMs, resultTimeoutMs: waitMs,
      queuedMax: produceStreamQueuedMax, idleCloseMs: produceStreamIdleCloseMs,
    });
  });

  afterAll(() => {
    channel.close();
    stub.close();
    server.forceShutdown();
  });

  const append = (partition: number, value: string) => channel.append({ topicPartition: { topic: 'orders', partition }, batch: batchOf([value]), currentLeaderEpoch: 0 });

  it('queues appends beyond the window and appends them all, in call order, at contiguous offsets', async () => {
    const produced = await Promise.all(Array.from({ length: 20 }, (_, index) => append(0, `w${index}`)));
    expect(produced.map((batch) => batch.baseOffset)).toEqual(Array.from({ length: 20 }, (_, index) => index));
    expect(produced.every((batch) => !batch.duplicate && batch.logStartOffset === 0)).toBe(true);
  });

  it('rejects an append to a partition another broker leads with the leader hint, and the stream carries on', async () => {
    const [moved, after] = await outcomes([append(2, 'lost'), append(0, 'kept')]);
    expect(moved).toMatchObject({ error: { code: 'NOT_LEADER', retriable: true, leaderHint: { nodeId: 2, address: '127.0.0.1:7402' } } });
    expect(after).toMatchObject({ value: { baseOffset: 20 } });
    expect(channel.usable).toBe(true);
  });

  it('fails every append it holds with a retriable SHUTTING_DOWN when the broker shuts down, and is dead after', async () => {
    const pending = Array.from({ length: 6 }, (_, index) => append(0, `s${index}`));
    served.shutdown.abort();
    const settled = await outcomes(pending);
    const failed = settled.flatMap((outcome) => ('error' in outcome ? [outcome.error] : []));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((error) => error.code === 'SHUTTING_DOWN' && error.retriable)).toBe(true);
    // Results are settled in order: whatever failed came after whatever was appended.
    expect(settled.findIndex((outcome) => 'error' in outcome)).toBe(settled.length - failed.length);
    expect(channel.usable).toBe(false);
    expect((await failureOf(append(0, 'late'))).code).toBe('SHUTTING_DOWN');
  });
});

describe('ProducerClient over ProduceStream against a combined node', () => {
  const topic = 'stream';
  let node: RunningNode;
  let dataDir: string;
  let port: number;
  let producer: ProducerClient;

  /** The same data and the same port each time: a restarted broker is at the address its clients know. */
  const startNode = async () => {
    node = await startTestNode({ dataDir, listen: { grpc: `127.0.0.1:${port}`, metrics: '127.0.0.1:0' }, controller: { raft: { tickIntervalMs: 20 } } });
  };
  const led = () => waitFor(() => (node.broker?.replicas.hosted(topic, 0)?.role === 'leading' ? true : undefined), waitMs, `${topic}-0 to be led`);
  const produce = (value: string) => producer.produce(node.grpcAddress, { topic, partition: 0, records: [{ value: new TextEncoder().encode(value), timestampMs: Date.now() }], acks: 'all', ackTimeoutMs: 10_000, currentLeaderEpoch: 0 });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'trib-produce-stream-'));
    [port = 0] = await freePorts(1);
    await startNode();
    const admin = new AdminClient({ ...defaultClientOptions('produce-stream-client-test'), bootstrap: [node.grpcAddress] });
    try {
      await waitFor(() => (node.controller?.state.brokers.get(1)?.fenced === false ? true : undefined), waitMs, 'the broker to be unfenced');
      await admin.createTopic(topic, { config: { partitions: 1, replicationFactor: 1 } });
    } finally {
      admin.close();
    }
    await led();
    producer = new ProducerClient(defaultClientOptions('produce-stream-client-test'));
  }, 60_000);

  afterAll(async () => {
    producer?.close();
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('appends many concurrent batches to one partition at contiguous offsets in call order, beyond the broker\'s window of 256', async () => {
    const produced = await Promise.all(Array.from({ length: 600 }, (_, index) => produce(`c${index}`)));
    expect(produced.map((batch) => batch.baseOffset)).toEqual(Array.from({ length: 600 }, (_, index) => index));
  });

  it('fails what is pending with retriable errors when the broker stops, and produces on a new stream once it is back', async () => {
    const pending = Array.from({ length: 300 }, (_, index) => produce(`p${index}`));
    const stopped = node.stop();
    const failed = (await outcomes(pending)).flatMap((outcome) => ('error' in outcome ? [outcome.error] : []));
    await stopped;
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.filter((error) => !error.retriable || !['SHUTTING_DOWN', 'NOT_AVAILABLE'].includes(error.code))).toEqual([]);
    await startNode();
    await led();
    const after = await produce('after restart');
    expect(after.baseOffset).toBeGreaterThanOrEqual(600);
  }, 60_000);
});
