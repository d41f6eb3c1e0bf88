import { createServer, type Server } from 'node:net';
import type { MetadataController } from '../../src/actors/metadata-controller/metadata-controller.js';
import { waitFor } from './in-process-raft-cluster.js';
import { startTestNode } from './test-node.js';

export type TestNode = Awaited<ReturnType<typeof startTestNode>>;

/** Broker sessions outlive any test, so the leader never fences the brokers a test registered. */
const testBrokerSessionTimeoutMs = 600_000;
/** Fast elections for in-process quorums: 20 ms ticks, elections after 200–400 ms of silence. */
const testRaft = { tickIntervalMs: 20, electionTimeoutTicks: 10 };

/** `count` loopback ports that were free a moment ago: bound on port 0, then released. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<Server>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** The controller of a node started by startTestNode (every test node has the controller role). */
export function controllerOf(node: TestNode): MetadataController {
  if (node.controller === undefined) throw new Error(`node at ${node.grpcAddress} has no controller role`);
  return node.controller;
}

export function waitForLeader(nodes: readonly TestNode[], timeoutMs = 10_000): Promise<TestNode> {
  return waitFor(() => nodes.find((node) => controllerOf(node).raftStatus().role === 'leader'), timeoutMs, 'a controller leader');
}

/** Registers brokers with the given ids and unfences them, as brokers would through ControllerBrokerService. */
export async function registerLiveBrokers(controller: MetadataController, ids: readonly number[]): Promise<void> {
  for (const brokerId of ids) {
    const base = { brokerId, nowMs: Date.now(), sessionTimeoutMs: testBrokerSessionTimeoutMs };
    const { brokerEpoch } = await controller.submit({ type: 'registerBroker', ...base, address: `127.0.0.1:${20_000 + brokerId}`, rack: '', incarnationId: `test-broker-${brokerId}` });
    await controller.submit({ type: 'brokerHeartbeat', ...base, brokerEpoch, metadataVersion: controller.state.version, wantsFence: false, wantsShutdown: false });
  }
}

/** A single combined node that leads its own quorum, with `brokerIds` registered and live. */
export async function startSingleControllerWithBrokers(brokerIds: readonly number[]): Promise<TestNode> {
  const node = await startTestNode({ controller: { raft: testRaft } });
  try {
    await waitForLeader([node]);
    await registerLiveBrokers(controllerOf(node), brokerIds);
  } catch (error) {
    await node.stop();
    throw error;
  }
  return node;
}

/**
 * `size` combined nodes in this process forming one quorum on fixed loopback ports, each with
 * its own temporary data directory; resolves once one of them leads.
 */
export async function startTestQuorum(size: number): Promise<{ nodes: TestNode[]; leader: TestNode; stop: () => Promise<void> }> {
  const ports = await freePorts(size);
  const quorum = ports.map((port, index) => ({ id: index + 1, address: `127.0.0.1:${port}` }));
  const started = await Promise.allSettled(
    quorum.map(({ id, address }) => startTestNode({ nodeId: id, listen: { grpc: address, metrics: '127.0.0.1:0' }, controller: { quorum, raft: testRaft } })),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  return { nodes, leader: await waitForLeader(nodes), stop };
}
