import { credentials, Metadata } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { TributaryError } from '../../src/errors/index.js';
import { createMetricsRegistry, type MetricsRegistry } from '../../src/observability/index.js';
import type { Message, NodeId } from '../../src/raft/index.js';
import { defaultClientOptions, listServices } from '../../src/rpc/clients/index.js';
import { createGrpcRaftTransport, type GrpcRaftTransport, type GrpcRaftTransportOptions } from '../../src/rpc/clients/raft-peer-transport.js';
import { newRequestHeader } from '../../src/rpc/clients/request-header.js';
import { fromGrpcError } from '../../src/rpc/error-status.js';
import { ControllerRaftServiceClient, ControllerRaftServiceService, type StreamMessagesRequest } from '../../src/rpc/generated/tributary/controller/v1/controller_raft_service.js';
import { toRaftMessageProto } from '../../src/rpc/raft-message-mapping.js';
import { type RpcServer, startRpcServer } from '../../src/rpc/server/rpc-server.js';
import { serverCredentialsFor } from '../../src/rpc/server/server-credentials.js';
import { createControllerRaftService, type ControllerRaftServiceOptions } from '../../src/rpc/services/controller-raft-service.js';
import { captureLogger } from '../support/log-capture.js';
import { startTestNode } from '../support/test-node.js';

const clusterId = 'raft-transport-test';
const limits = { maxMessageBytes: 16 * 1024 * 1024, maxConcurrentStreams: 100, requestTimeoutMs: 30_000, shutdownGraceMs: 5_000 };
/** Fast reconnects keep the tests short; the bounds are what is under test, not their defaults. */
const transportLimits = { backoffMsMin: 20, backoffMsMax: 200 };

/** A controller's receiving side: a real gRPC server with ControllerRaftService and a recording sink. */
interface Receiver {
  readonly id: NodeId;
  readonly server: RpcServer;
  readonly received: Message[];
  readonly metrics: MetricsRegistry;
}

const servers: RpcServer[] = [];
const transports: GrpcRaftTransport[] = [];

afterEach(async () => {
  await Promise.all(transports.splice(0).map((transport) => transport.close()));
  await Promise.all(servers.splice(0).map((server) => server.shutdown()));
});

async function startReceiver(id: NodeId, address = '127.0.0.1:0', overrides: Partial<ControllerRaftServiceOptions> = {}): Promise<Receiver> {
  const received: Message[] = [];
  const metrics = createMetricsRegistry();
  const shutdown = new AbortController();
  const service = createControllerRaftService({ nodeId: id, clusterId, sink: (message) => received.push(message), shutdownSignal: shutdown.signal, ...overrides });
  const server = await startRpcServer({ address, services: [service], limits, logger: captureLogger().logger, metrics, credentials: serverCredentialsFor(undefined) });
  server.shutdownSignal.addEventListener('abort', () => shutdown.abort());
  servers.push(server);
  return { id, server, received, metrics };
}

async function stopReceiver(receiver: Receiver): Promise<void> {
  servers.splice(servers.indexOf(receiver.server), 1);
  await receiver.server.shutdown();
}

function startTransport(nodeId: NodeId, peers: readonly Receiver[], options: Partial<GrpcRaftTransportOptions> = {}): GrpcRaftTransport {
  const transport = createGrpcRaftTransport({ nodeId, clusterId, client: { clientId: `raft-${nodeId}` }, limits: transportLimits, ...options });
  transport.setPeers(new Map(peers.map((peer) => [peer.id, peer.server.address])));
  transports.push(transport);
  return transport;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const context = (text: string) => new TextEncoder().encode(text);

/** One message of every type that travels on StreamMessages; `sequence` makes each distinct and orderable. */
function everyStreamedType(from: NodeId, to: NodeId, sequence: number): Message[] {
  const base = { from, to, term: sequence };
  return [
    { ...base, type: 'preVote', lastLogIndex: sequence, lastLogTerm: 1, transfer: false },
    { ...base, type: 'preVoteResponse', reject: true },
    { ...base, type: 'vote', lastLogIndex: sequence + 1, lastLogTerm: 2, transfer: true },
    { ...base, type: 'voteResponse', reject: false },
    {
      ...base,
      type: 'append',
      prevLogIndex: sequence,
      prevLogTerm: 1,
      entries: [
        { index: sequence + 1, term: sequence, type: 'normal', data: context(`command ${sequence}`) },
        { index: sequence + 2, term: sequence, type: 'confChange', data: context('conf') },
      ],
      commit: sequence,
    },
    { ...base, type: 'appendResponse', reject: true, index: sequence, conflictTerm: 3, conflictIndex: 7 },
    { ...base, type: 'heartbeat', commit: sequence, context: context(`read ${sequence}`) },
    { ...base, type: 'heartbeatResponse', context: context(`read ${sequence}`) },
    { ...base, type: 'snapshotResponse', reject: false, snapshotIndex: 40, nextOffset: 4096, done: false },
    { ...base, type: 'timeoutNow' },
    { ...base, type: 'readIndex', context: context(`forwarded ${sequence}`) },
    { ...base, type: 'readIndexResponse', context: context(`forwarded ${sequence}`), index: sequence, reject: false },
  ];
}

function heartbeats(from: NodeId, to: NodeId, terms: readonly number[]): Message[] {
  return terms.map((term) => ({ from, to, term, type: 'heartbeat', commit: 0, context: new Uint8Array() }));
}

function snapshotChunks(from: NodeId, to: NodeId, chunkCount: number, chunkBytes: number): Message[] {
  const metadata = { index: 40, term: 3, membership: { voters: [1, 2, 3], learners: [4] } };
  return Array.from({ length: chunkCount }, (_, chunk) => ({
    from,
    to,
    term: 5,
    type: 'snapshot',
    metadata,
    offset: chunk * chunkBytes,
    data: new Uint8Array(chunkBytes).fill(chunk + 1),
    done: chunk === chunkCount - 1,
  }));
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, position) => first + position);
}

function requestCount(metrics: MetricsRegistry, method: string, code: string): Promise<number> {
  return metrics.metrics().then((text) => {
    const line = text.split('\n').find((entry) => entry.startsWith(`trib_rpc_requests_total{`) && entry.includes(`method="${method}"`) && entry.includes(`code="${code}"`));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  });
}

describe('gRPC Raft transport between real servers', () => {
  it('delivers every message type intact and in order per peer, in both directions', async () => {
    const [one, two, three] = await Promise.all([startReceiver(1), startReceiver(2), startReceiver(3)]);
    const fromOne = startTransport(1, [two, three]);
    const fromTwo = startTransport(2, [one, three]);
    const sentToTwo = range(1, 20).flatMap((sequence) => everyStreamedType(1, 2, sequence));
    const sentToThree = range(1, 20).flatMap((sequence) => everyStreamedType(1, 3, sequence * 10));
    const sentToOne = range(1, 5).flatMap((sequence) => everyStreamedType(2, 1, sequence));
    for (let sequence = 0; sequence < 20; sequence++) {
      // A Ready addresses several peers at once; each gets its own messages in emission order.
      fromOne.send([...sentToTwo.slice(sequence * 12, sequence * 12 + 12), ...sentToThree.slice(sequence * 12, sequence * 12 + 12)]);
    }
    fromTwo.send(sentToOne);
    await waitFor(() => two.received.length === sentToTwo.length && three.received.length === sentToThree.length && one.received.length === sentToOne.length, 'every message');
    expect(two.received).toEqual(sentToTwo);
    expect(three.received).toEqual(sentToThree);
    expect(one.received).toEqual(sentToOne);
    expect(fromOne.stats()).toEqual({ droppedMessages: 0, unroutableMessages: 0, queuedMessages: new Map([[2, 0], [3, 0]]) });
  });

  it('sends a snapshot of several chunks over InstallSnapshot, beside the message stream', async () => {
    const two = await startReceiver(2);
    const transport = startTransport(1, [two]);
    const chunks = snapshotChunks(1, 2, 4, 64 * 1024);
    const [heartbeat] = heartbeats(1, 2, [5]);
    transport.send([...chunks, heartbeat as Message]);
    await waitFor(() => two.received.length === 5, 'four chunks and a heartbeat');
    expect(two.received.filter((message) => message.type === 'snapshot')).toEqual(chunks);
    expect(two.received).toContainEqual(heartbeat);
    // After the last chunk the sender half-closes; the receiver answers and the call completes.
    await expect.poll(() => requestCount(two.metrics, 'InstallSnapshot', 'OK')).toBe(1);
  });

  it('reconnects to a peer that was down and delivers what was queued and what came later, in order', async () => {
    const first = await startReceiver(2);
    const address = first.server.address;
    await stopReceiver(first);
    const unreachable: NodeId[] = [];
    const transport = createGrpcRaftTransport({ nodeId: 1, clusterId, client: { clientId: 'raft-1' }, limits: transportLimits, onPeerUnreachable: (peer) => unreachable.push(peer) });
    transports.push(transport);
    transport.setPeers(new Map([[2, address]]));
    transport.send(heartbeats(1, 2, range(1, 10)));
    await waitFor(() => unreachable.length >= 2, 'the peer to be reported unreachable twice');
    expect(new Set(unreachable)).toEqual(new Set([2]));
    const second = await startReceiver(2, address);
    transport.send(heartbeats(1, 2, range(11, 20)));
    await waitFor(() => second.received.length === 20, 'all twenty heartbeats');
    expect(second.received.map((message) => message.term)).toEqual(range(1, 20));
  });

  it('keeps at most peerQueueMessagesMax messages for a peer that is down, dropping the oldest, never blocking', async () => {
    const first = await startReceiver(2);
    const address = first.server.address;
    await stopReceiver(first);
    const transport = createGrpcRaftTransport({ nodeId: 1, clusterId, client: { clientId: 'raft-1' }, limits: { ...transportLimits, peerQueueMessagesMax: 16 } });
    transports.push(transport);
    transport.setPeers(new Map([[2, address]]));
    for (const term of range(1, 100)) transport.send(heartbeats(1, 2, [term]));
    expect(transport.stats()).toEqual({ droppedMessages: 84, unroutableMessages: 0, queuedMessages: new Map([[2, 16]]) });
    transport.send(snapshotChunks(1, 2, 2, 8));
    expect(transport.stats()).toMatchObject({ droppedMessages: 86, queuedMessages: new Map([[2, 16]]) });
    const second = await startReceiver(2, address);
    await waitFor(() => second.received.length === 16, 'the sixteen newest messages');
    expect(second.received.filter((message) => message.type === 'heartbeat').map((message) => message.term)).toEqual(range(87, 100));
    expect(second.received.filter((message) => message.type === 'snapshot')).toHaveLength(2);
  });

  it('counts messages for nodes that are not peers, and ignores its own id among the peers', async () => {
    const two = await startReceiver(2);
    const transport = startTransport(1, [two]);
    transport.setPeers(new Map([[1, '127.0.0.1:1'], [2, two.server.address]]));
    transport.send([...heartbeats(1, 7, [1]), ...heartbeats(1, 2, [2])]);
    await waitFor(() => two.received.length === 1, 'the routable heartbeat');
    expect(transport.stats()).toMatchObject({ unroutableMessages: 1, queuedMessages: new Map([[2, 0]]) });
  });

  it('refuses a stream for another cluster or node, naming both values, and delivers nothing', async () => {
    const two = await startReceiver(2);
    const { logger, lines } = captureLogger();
    const otherCluster = startTransport(1, [two], { clusterId: 'other-cluster', logger });
    otherCluster.send(heartbeats(1, 2, [1]));
    const misaddressed = startTransport(1, [], { logger });
    misaddressed.setPeers(new Map([[5, two.server.address]]));
    misaddressed.send(heartbeats(1, 5, [1]));
    await waitFor(() => lines().filter((line) => line.msg === 'raft peer stream failed; reconnecting with backoff').length >= 2, 'both refusals');
    const errors = lines().map((line) => line.error);
    expect(errors).toContain(`StreamMessages stream for cluster "other-cluster" node 2 reached cluster "${clusterId}" node 2; check the controller addresses the sender was given`);
    expect(errors).toContain(`StreamMessages stream for cluster "${clusterId}" node 5 reached cluster "${clusterId}" node 2; check the controller addresses the sender was given`);
    expect(lines().find((line) => line.peer === 5)).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(two.received).toEqual([]);
  });

  it('gives up on a stream the peer never accepts after acceptTimeoutMs, and retries', async () => {
    const silent = { definition: ControllerRaftServiceService, implementation: { streamMessages: () => undefined, installSnapshot: () => undefined } };
    const server = await startRpcServer({ address: '127.0.0.1:0', services: [silent], limits: { ...limits, shutdownGraceMs: 200 }, logger: captureLogger().logger, metrics: createMetricsRegistry(), credentials: serverCredentialsFor(undefined) });
    servers.push(server);
    const { logger, lines } = captureLogger();
    const unreachable: NodeId[] = [];
    const transport = createGrpcRaftTransport({ nodeId: 1, clusterId, client: { clientId: 'raft-1' }, limits: { ...transportLimits, acceptTimeoutMs: 100 }, onPeerUnreachable: (peer) => unreachable.push(peer), logger });
    transports.push(transport);
    transport.setPeers(new Map([[2, server.address]]));
    transport.send(heartbeats(1, 2, [1]));
    await waitFor(() => unreachable.length >= 2, 'two timed-out attempts');
    expect(lines().find((line) => line.peer === 2)).toMatchObject({ code: 'TIMEOUT', error: 'the peer did not accept the stream within 100 ms' });
    expect(transport.stats().queuedMessages).toEqual(new Map([[2, 1]]));
  });

  it('closes its streams cleanly and leaves no sockets or timers behind', async () => {
    const two = await startReceiver(2);
    const baseline = activeHandles();
    const transport = startTransport(1, [two]);
    transport.send([...heartbeats(1, 2, [1, 2, 3]), ...snapshotChunks(1, 2, 3, 1024).slice(0, 2)]);
    await waitFor(() => two.received.length === 5, 'the messages');
    await transport.close();
    await expect.poll(() => requestCount(two.metrics, 'StreamMessages', 'OK')).toBe(1);
    await expect.poll(() => requestCount(two.metrics, 'InstallSnapshot', 'OK')).toBe(1);
    await expect.poll(() => activeHandles().sockets, { timeout: 5_000 }).toBe(baseline.sockets);
    expect(activeHandles().timers).toBeLessThanOrEqual(baseline.timers);
    transport.send(heartbeats(1, 2, [4]));
    expect(two.received).toHaveLength(5);
  });

  it('lets a receiving server shut down at once, ending open streams with SHUTTING_DOWN', async () => {
    const two = await startReceiver(2);
    const transport = startTransport(1, [two]);
    transport.send(heartbeats(1, 2, [1]));
    await waitFor(() => two.received.length === 1, 'the heartbeat');
    servers.splice(servers.indexOf(two.server), 1);
    await expect(two.server.shutdown()).resolves.toEqual({ forced: false });
    expect(await requestCount(two.metrics, 'StreamMessages', 'UNAVAILABLE')).toBe(1);
  });
});

/** Open sockets and timers of this process: what a leaking client would leave behind. */
function activeHandles(): { sockets: number; timers: number } {
  const kinds = process.getActiveResourcesInfo();
  return { sockets: kinds.filter((kind) => kind === 'TCPSocketWrap').length, timers: kinds.filter((kind) => kind === 'Timeout').length };
}

describe('ControllerRaftService on the wire', () => {
  function rawStream(receiver: Receiver, requests: readonly StreamMessagesRequest[]): Promise<TributaryError | number> {
    const client = new ControllerRaftServiceClient(receiver.server.address, credentials.createInsecure());
    return new Promise<TributaryError | number>((resolve) => {
      const call = client.streamMessages(new Metadata(), (error, response) => resolve(error ? fromGrpcError(error) : response.messageCount));
      for (const request of requests) call.write(request);
      call.end();
    }).finally(() => client.close());
  }

  const route = { header: newRequestHeader('raw'), clusterId, fromId: 1, toId: 2, messages: [] };
  const proto = (messages: readonly Message[]) => ({ header: undefined, clusterId: '', fromId: 0, toId: 0, messages: messages.map(toRaftMessageProto) });

  it('answers a half-closed stream with the number of messages delivered', async () => {
    const two = await startReceiver(2);
    await expect(rawStream(two, [route, proto(heartbeats(1, 2, [1, 2])), proto(heartbeats(1, 2, [3]))])).resolves.toBe(3);
    expect(two.received.map((message) => message.term)).toEqual([1, 2, 3]);
  });

  it('refuses a message that does not travel on the stream\'s route, and delivers nothing of its batch', async () => {
    const two = await startReceiver(2);
    const error = await rawStream(two, [route, proto([...heartbeats(1, 2, [1]), ...heartbeats(3, 2, [2])])]);
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', message: 'StreamMessages stream from node 1 to node 2 carried a heartbeat message from node 3 to node 2' });
    expect(two.received).toEqual([]);
  });

  it('bounds the messages per request and keeps snapshot chunks off StreamMessages', async () => {
    const two = await startReceiver(2, '127.0.0.1:0', { streamBatchMessagesMax: 2 });
    const tooMany = await rawStream(two, [route, proto(heartbeats(1, 2, [1, 2, 3]))]);
    expect(tooMany).toMatchObject({ code: 'INVALID_REQUEST', message: 'StreamMessages request carries 3 messages; at most 2 are allowed per request' });
    const chunk = await rawStream(two, [route, proto(snapshotChunks(1, 2, 1, 8))]);
    expect(chunk).toMatchObject({ code: 'INVALID_REQUEST', message: 'StreamMessages carries no snapshot chunks; send them on InstallSnapshot' });
  });

  it('bounds the bytes of a snapshot chunk', async () => {
    const two = await startReceiver(2, '127.0.0.1:0', { snapshotChunkBytesMax: 1024 });
    const { logger, lines } = captureLogger();
    const transport = startTransport(1, [two], { logger });
    transport.send(snapshotChunks(1, 2, 1, 2048));
    await waitFor(() => lines().some((line) => line.code === 'INVALID_REQUEST'), 'the refusal');
    expect(lines().find((line) => line.code === 'INVALID_REQUEST')?.error).toBe('snapshot chunk at offset 0 has 2048 bytes; at most 1024 are allowed per chunk');
    expect(two.received).toEqual([]);
  });
});

describe('a controller node', () => {
  it('serves ControllerRaftService, lists it through reflection, and takes a peer stream', async () => {
    const node = await startTestNode();
    try {
      // The exact list a node serves is node-services.test.ts's business; here, that the Raft service is in it.
      expect(await listServices(node.grpcAddress, defaultClientOptions('raft-transport-test'))).toContain('tributary.controller.v1.ControllerRaftService');
      // Peers name the cluster id every node of the cluster is configured with: the stream is accepted.
      const unreachable: NodeId[] = [];
      const transport = createGrpcRaftTransport({ nodeId: 2, clusterId: node.identity.clusterId, client: { clientId: 'raft-2' }, limits: transportLimits, onPeerUnreachable: (peer) => unreachable.push(peer) });
      transports.push(transport);
      transport.setPeers(new Map([[1, node.grpcAddress]]));
      transport.send(heartbeats(2, 1, [1]));
      await waitFor(() => transport.stats().queuedMessages.get(1) === 0, 'the heartbeat to leave the queue');
      expect(transport.stats().droppedMessages).toBe(0);
      expect(unreachable).toEqual([]);
      await transport.close();
    } finally {
      await node.stop();
    }
  });
});
