import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Subscription } from '../../src/client/index.js';
import type { TributaryError } from '../../src/errors/index.js';
import type { RunningNode } from '../../src/node/start-node.js';
import { AdminClient, ConsumerClient, defaultClientOptions } from '../../src/rpc/clients/index.js';
import type { SubscribeCall, SubscribedPartitionEnd, SubscribeInput, SubscriptionStarted } from '../../src/rpc/clients/consumer-client.js';
import { Acks } from '../../src/rpc/generated/tributary/client/v1/producer_service.js';
import { batchOf, type DataPlaneClients, dataPlaneClients, header, unary } from '../support/data-plane-calls.js';
import { eventually } from '../support/eventually.js';
import { waitFor } from '../support/in-process-raft-cluster.js';
import { startTestNode } from '../support/test-node.js';
import { cleanEnv } from '../support/trib-process.js';

const waitMs = 30_000;
const mebibyte = 1024 * 1024;
const clientOptions = { ...defaultClientOptions('subscribe-test'), deadlineMs: 10_000 };

/** A raw subscription through the wire client: what arrived, and its end. */
interface OpenSubscription {
  readonly call: SubscribeCall;
  readonly started: Promise<SubscriptionStarted>;
  readonly ends: SubscribedPartitionEnd[];
  /** Charged bytes received so far. */
  received: number;
  offsets: number[];
  readonly ended: Promise<TributaryError | undefined>;
}

function openSubscription(consumer: ConsumerClient, address: string, input: SubscribeInput): OpenSubscription {
  let onStarted: (started: SubscriptionStarted) => void = () => undefined;
  let onEnded: (error: TributaryError | undefined) => void = () => undefined;
  const started = new Promise<SubscriptionStarted>((resolve) => (onStarted = resolve));
  const ended = new Promise<TributaryError | undefined>((resolve) => (onEnded = resolve));
  const open: Omit<OpenSubscription, 'call'> = { started, ends: [], received: 0, offsets: [], ended };
  const call = consumer.subscribe(address, input, {
    started: onStarted,
    records: (message) => {
      open.received += message.chargedBytes;
      for (const record of message.records) open.offsets.push(record.offset);
    },
    partitionEnd: (end) => open.ends.push(end),
    ended: onEnded,
  });
  return Object.assign(open, { call });
}

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/** V8's collector, reachable without --expose-gc on the command line: a context made after the flag is set has `gc`. */
const collectGarbage = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/**
 * Off-heap bytes this process holds (Buffers among them) once garbage is collected. The broker
 * runs in this process and every message it queues for a subscriber is a Buffer, so a broker
 * that buffered a slow subscriber's data would show here; so does what the test's own paused
 * client holds, which makes it an upper bound of the broker's share.
 */
function externalBytesAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().external;
}

/** externalBytesAfterGc once two readings 200 ms apart agree within 1 MiB: what earlier tests left behind has been freed. */
async function settledExternalBytes(): Promise<number> {
  let previous = externalBytesAfterGc();
  return eventually(async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const current = externalBytesAfterGc();
    const settled = Math.abs(current - previous) < mebibyte;
    previous = current;
    return settled ? current : undefined;
  }, waitMs, 'off-heap memory to settle');
}

/**
 * Runs the example marked `<!-- tested: subscription -->` in docs/CLIENT.md, as written, in its
 * own process against the broker at `address` (the SDK imported from this tree), until it exits.
 */
async function runDocumentedSubscription(address: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const text = readFileSync(join(repositoryRoot, 'docs/CLIENT.md'), 'utf8');
  const example = /<!-- tested: subscription -->\n```ts\n([\s\S]*?)\n```/.exec(text)?.[1];
  if (example === undefined) throw new Error('docs/CLIENT.md has no example marked "tested: subscription"');
  const directory = mkdtempSync(join(tmpdir(), 'trib-subscription-example-'));
  // .mts: the example uses top-level await, which needs an ES module outside the package.
  const file = join(directory, 'subscription.mts');
  writeFileSync(file, example.replaceAll('tributary/dist/client/index.js', join(repositoryRoot, 'src/client/index.ts')).replaceAll('127.0.0.1:7101', address));
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: repositoryRoot, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), waitMs);
  try {
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    rmSync(directory, { recursive: true, force: true });
  }
}

describe('Subscribe on a combined node beside a broker-only node', () => {
  let controllerNode: RunningNode;
  let brokerNode: RunningNode;
  let brokerDataDir: string;
  let clients: DataPlaneClients;
  let admin: AdminClient;
  let consumer: ConsumerClient;
  const startBroker = () => startTestNode({ nodeId: 2, roles: ['broker'], dataDir: brokerDataDir, controller: { quorum: [{ id: 1, address: controllerNode.grpcAddress }] } });

  beforeAll(async () => {
    brokerDataDir = mkdtempSync(join(tmpdir(), 'trib-subscribe-broker-'));
    controllerNode = await startTestNode({ controller: { raft: { tickIntervalMs: 20 }, brokerSessionTimeoutMs: 3_000 } });
    brokerNode = await startBroker();
    admin = new AdminClient({ ...clientOptions, bootstrap: [controllerNode.grpcAddress] });
    clients = dataPlaneClients(controllerNode.grpcAddress);
    consumer = new ConsumerClient(clientOptions);
    for (const nodeId of [1, 2]) await waitFor(() => (controllerNode.controller?.state.brokers.get(nodeId)?.fenced === false ? true : undefined), waitMs, `broker ${nodeId} to be unfenced`);
    await admin.createTopic('stream', { config: { partitions: 2, replicationFactor: 1 }, replicaAssignment: [[1], [1]] });
    await waitFor(() => (controllerNode.broker?.replicas.hosted('stream', 1)?.role === 'leading' ? true : undefined), waitMs, 'stream-1 to be led');
  }, 60_000);

  afterAll(async () => {
    consumer.close();
    clients.close();
    admin.close();
    await brokerNode.stop();
    await controllerNode.stop();
    rmSync(brokerDataDir, { recursive: true, force: true });
  });

  /** Appends one batch of `values` to `topic`-`partition` on the node at `address` (node 1 by default). */
  const produce = async (topic: string, partition: number, values: string[], options: { acks?: Acks; address?: string } = {}) => {
    const direct = options.address === undefined ? undefined : dataPlaneClients(options.address);
    const { producer } = direct ?? clients;
    try {
      return await unary(producer.produce.bind(producer), { header: header(), partitionBatch: { topicPartition: { topic, partition }, batch: batchOf(values), currentLeaderEpoch: 0 }, acks: options.acks ?? Acks.LEADER, timeoutMs: 0 });
    } finally {
      direct?.close();
    }
  };

  /**
   * produce, retried while a partition's leadership settles (a new leader still opening its log, a
   * hint not yet applied); acks=leader, whose retriable failures come before anything is appended.
   */
  const produceSettled = (topic: string, partition: number, values: string[], options: { address?: string } = {}) =>
    eventually(() => produce(topic, partition, values, options).catch((error: TributaryError) => {
      if (error.retriable) return undefined;
      throw error;
    }), waitMs, `a produce to ${topic}-${partition}`);

  it('streams records produced after subscribing, in order and without gaps, granting credit as the application takes them', async () => {
    const subscription = new Subscription({ broker: controllerNode.grpcAddress, partitions: [{ topic: 'stream', partition: 0, offset: 0 }], windowBytes: 4_096, clientId: 'subscribe-test' });
    const produced: string[] = [];
    for (let batch = 0; batch < 40; batch += 1) {
      const values = Array.from({ length: 5 }, (_, index) => `r${batch * 5 + index}-${'p'.repeat(100)}`);
      produced.push(...values);
      await produce('stream', 0, values);
    }
    const received: Array<[number, string]> = [];
    for await (const record of subscription) {
      received.push([record.offset, new TextDecoder().decode(record.value)]);
      if (received.length === produced.length) break;
    }
    subscription.close();
    expect(received).toEqual(produced.map((value, offset) => [offset, value]));
    // 200 records of ~110 bytes through a 4 KiB window: the broker waited on credit many times and got it back.
    expect(subscription.position('stream', 0)).toBe(200);
  });

  it('holds a subscriber that grants no credit to its window plus one message while 32 MiB are produced, then resumes', async () => {
    const windowBytes = mebibyte;
    const maxMessageBytes = 256 * 1024;
    const open = openSubscription(consumer, controllerNode.grpcAddress, { partitions: [{ topic: 'stream', partition: 1, startOffset: 0, currentLeaderEpoch: 0 }], windowBytes, maxMessageBytes });
    const { subscriptionId } = await open.started;
    // The server's own counter of the subscription, by a GrantCredit that reports nothing new.
    const sentByServer = async () => (await consumer.grantCredit(controllerNode.grpcAddress, { subscriptionId, consumedBytes: 0, windowBytes: 0 })).sentBytes;
    let outstandingMax = 0;
    const record = 'x'.repeat(64 * 1024);
    for (let batch = 0; batch < 128; batch += 1) {
      await produce('stream', 1, [record, record, record, record]);
      if (batch % 8 === 7) outstandingMax = Math.max(outstandingMax, await sentByServer());
    }
    console.info(`slow subscriber: outstanding at most ${outstandingMax} bytes (window ${windowBytes}) while 32 MiB were produced`);
    expect(outstandingMax).toBeGreaterThan(0);
    expect(outstandingMax).toBeLessThanOrEqual(windowBytes + maxMessageBytes);
    expect(open.received).toBe(outstandingMax);
    // Credit back: the rest flows, in order, up to the 512 records produced.
    let consumed = 0;
    await eventually(async () => {
      if (open.received > consumed) {
        consumed = open.received;
        await consumer.grantCredit(controllerNode.grpcAddress, { subscriptionId, consumedBytes: consumed, windowBytes: 0 });
      }
      return open.offsets.length === 512 ? true : undefined;
    }, waitMs, 'the subscription to deliver all 512 records once credit returns');
    expect(open.offsets).toEqual(Array.from({ length: 512 }, (_, offset) => offset));
    open.call.cancel();
  }, 120_000);

  it('holds a subscriber that stops reading by the transport, far below a large window, then resumes', async () => {
    const maxMessageBytes = 256 * 1024;
    await admin.createTopic('stalled', { config: { partitions: 1, replicationFactor: 1 }, replicaAssignment: [[1]] });
    await waitFor(() => (controllerNode.broker?.replicas.hosted('stalled', 0)?.role === 'leading' ? true : undefined), waitMs, 'stalled-0 to be led');
    const open = openSubscription(consumer, controllerNode.grpcAddress, { partitions: [{ topic: 'stalled', partition: 0, startOffset: 0, currentLeaderEpoch: 0 }], windowBytes: 64 * mebibyte, maxMessageBytes });
    const { subscriptionId, windowBytes } = await open.started;
    open.call.pause();
    const externalBefore = await settledExternalBytes();
    const record = 'y'.repeat(64 * 1024);
    for (let batch = 0; batch < 128; batch += 1) await produce('stalled', 0, [record, record, record, record]);
    const grown = (await settledExternalBytes()) - externalBefore;
    const { sentBytes } = await consumer.grantCredit(controllerNode.grpcAddress, { subscriptionId, consumedBytes: 0, windowBytes: 0 });
    console.info(`stalled reader: ${sentBytes} bytes sent (window ${windowBytes}), off-heap memory grew ${grown} bytes while 32 MiB were produced`);
    expect(windowBytes).toBe(64 * mebibyte);
    expect(sentBytes).toBeLessThanOrEqual(16 * mebibyte);
    // A broker that ignored the transport would hold all 32 MiB, within its 64 MiB window.
    expect(grown).toBeLessThanOrEqual(16 * mebibyte);
    open.call.resume();
    await eventually(() => Promise.resolve(open.offsets.length === 512 ? true : undefined), waitMs, 'the rest once the client reads again');
    expect(open.offsets).toEqual(Array.from({ length: 512 }, (_, offset) => offset));
    open.call.cancel();
  }, 120_000);

  it('runs the Subscription example of docs/CLIENT.md as written', async () => {
    await admin.createTopic('readings', { config: { partitions: 1, replicationFactor: 1 }, replicaAssignment: [[1]] });
    await waitFor(() => (controllerNode.broker?.replicas.hosted('readings', 0)?.role === 'leading' ? true : undefined), waitMs, 'readings-0 to be led');
    await produce('readings', 0, ['a', 'b', 'c', 'd']);
    const { code, stdout, stderr } = await runDocumentedSubscription(controllerNode.grpcAddress);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe('0 a\n1 b\n2 c\n');
  }, 60_000);

  it('answers GrantCredit for an unknown subscription with SUBSCRIPTION_NOT_FOUND and for more than was sent with INVALID_REQUEST', async () => {
    await expect(consumer.grantCredit(controllerNode.grpcAddress, { subscriptionId: 'not-a-subscription', consumedBytes: 0, windowBytes: 0 })).rejects.toMatchObject({
      code: 'SUBSCRIPTION_NOT_FOUND',
      message: expect.stringContaining('subscription "not-a-subscription" is not live on broker 1') as unknown,
    });
    const open = openSubscription(consumer, controllerNode.grpcAddress, { partitions: [{ topic: 'stream', partition: 0, startOffset: 0, currentLeaderEpoch: 0 }], windowBytes: 0, maxMessageBytes: 0 });
    const { subscriptionId } = await open.started;
    const { baseOffset } = await produce('stream', 0, ['one more']);
    await eventually(() => Promise.resolve(open.offsets.at(-1) === baseOffset ? true : undefined), waitMs, 'every record of stream-0');
    const sent = open.received;
    await expect(consumer.grantCredit(controllerNode.grpcAddress, { subscriptionId, consumedBytes: sent + 1, windowBytes: 0 })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      message: `GrantCredit consumed_bytes ${sent + 1} is above the ${sent} bytes sent on this subscription; report the running total of charged_bytes received and consumed`,
    });
    open.call.cancel();
    await eventually(async () => {
      const refused = await consumer.grantCredit(controllerNode.grpcAddress, { subscriptionId, consumedBytes: 0, windowBytes: 0 }).then(() => undefined, (error: TributaryError) => error.code);
      return refused === 'SUBSCRIPTION_NOT_FOUND' ? true : undefined;
    }, waitMs, 'the cancelled subscription to leave the registry');
  });

  it('ends a partition of a deleted topic with TOPIC_NOT_FOUND, and the call OK once no partition is left', async () => {
    await admin.createTopic('doomed', { config: { partitions: 1, replicationFactor: 1 }, replicaAssignment: [[1]] });
    await waitFor(() => (controllerNode.broker?.replicas.hosted('doomed', 0)?.role === 'leading' ? true : undefined), waitMs, 'doomed-0 to be led');
    await produce('doomed', 0, ['last words']);
    const open = openSubscription(consumer, controllerNode.grpcAddress, { partitions: [{ topic: 'doomed', partition: 0, startOffset: 0, currentLeaderEpoch: 0 }], windowBytes: 0, maxMessageBytes: 0 });
    await eventually(() => Promise.resolve(open.offsets.length === 1 ? true : undefined), waitMs, 'the record of doomed-0');
    await admin.deleteTopic('doomed');
    expect(await open.ended).toBeUndefined();
    expect(open.ends).toEqual([expect.objectContaining({ topic: 'doomed', partition: 0, nextOffset: 1, error: expect.objectContaining({ code: 'TOPIC_NOT_FOUND' }) as unknown })]);
  });

  it('ends a partition whose leadership moves with NOT_LEADER and the new leader, where the subscriber resumes', async () => {
    await admin.createTopic('moving', { config: { partitions: 1, replicationFactor: 2 }, replicaAssignment: [[2, 1]] });
    await waitFor(() => (brokerNode.broker?.replicas.hosted('moving', 0)?.role === 'leading' ? true : undefined), waitMs, 'moving-0 to be led by broker 2');
    // Broker 2 stops (its leadership moves to broker 1) and comes back as a follower.
    await brokerNode.stop();
    brokerNode = await startBroker();
    await waitFor(() => (controllerNode.broker?.metadata.partition('moving', 0)?.leader === 1 ? true : undefined), waitMs, 'moving-0 to be led by broker 1');
    await produceSettled('moving', 0, ['m0', 'm1']);
    const subscription = new Subscription({ broker: controllerNode.grpcAddress, partitions: [{ topic: 'moving', partition: 0, offset: 0 }], clientId: 'subscribe-test' });
    expect((await subscription.next())?.offset).toBe(0);
    expect((await subscription.next())?.offset).toBe(1);
    // The preferred replica, broker 2, takes the partition back once it has caught up into the ISR.
    await eventually(async () => ((await admin.electLeaders('preferred', [{ topic: 'moving', partition: 0 }])).results[0]?.error === undefined ? true : undefined), waitMs, 'broker 2 to lead moving-0 again');
    expect(await subscription.next()).toBeUndefined();
    expect(subscription.ends).toEqual([expect.objectContaining({ topic: 'moving', partition: 0, nextOffset: 2, error: expect.objectContaining({ code: 'NOT_LEADER', leaderHint: expect.objectContaining({ nodeId: 2, address: brokerNode.grpcAddress }) as unknown }) as unknown })]);
    // The caller resubscribes where the hint points, from next_offset.
    const hint = subscription.ends[0]?.error.leaderHint;
    await produceSettled('moving', 0, ['m2'], { address: hint?.address });
    const resumed = new Subscription({ broker: hint?.address ?? '', partitions: [{ topic: 'moving', partition: 0, offset: subscription.position('moving', 0) }], clientId: 'subscribe-test' });
    const next = await resumed.next();
    expect([next?.offset, new TextDecoder().decode(next?.value)]).toEqual([2, 'm2']);
    resumed.close();
  }, 120_000);
});

describe('Subscribe with authentication', () => {
  let directory: string;
  let node: RunningNode;
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'trib-subscribe-auth-'));
    const peerTokenFile = join(directory, 'peer-token');
    writeFileSync(peerTokenFile, 'peer-token\n');
    node = await startTestNode({ auth: { enabled: true, tokens: [sha256('peer-token'), sha256('alice'), sha256('mallory')], peerTokenFile } });
    const admin = new AdminClient({ ...clientOptions, token: 'alice', bootstrap: [node.grpcAddress] });
    await waitFor(() => (node.controller?.state.brokers.get(1)?.fenced === false ? true : undefined), waitMs, 'broker 1 to be unfenced');
    await admin.createTopic('private', { config: { partitions: 1, replicationFactor: 1 } });
    admin.close();
    await waitFor(() => (node.broker?.replicas.hosted('private', 0)?.role === 'leading' ? true : undefined), waitMs, 'private-0 to be led');
  }, 60_000);

  afterAll(async () => {
    await node.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('lets only the principal that opened a subscription grant it credit', async () => {
    const alice = new ConsumerClient({ ...clientOptions, token: 'alice' });
    const mallory = new ConsumerClient({ ...clientOptions, token: 'mallory' });
    try {
      const open = openSubscription(alice, node.grpcAddress, { partitions: [{ topic: 'private', partition: 0, startOffset: 0, currentLeaderEpoch: 0 }], windowBytes: 0, maxMessageBytes: 0 });
      const { subscriptionId } = await open.started;
      await expect(mallory.grantCredit(node.grpcAddress, { subscriptionId, consumedBytes: 0, windowBytes: 1 })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      expect(await alice.grantCredit(node.grpcAddress, { subscriptionId, consumedBytes: 0, windowBytes: 0 })).toMatchObject({ sentBytes: 0, consumedBytes: 0 });
      open.call.cancel();
    } finally {
      alice.close();
      mallory.close();
    }
  });
});
