import type { MetadataController } from '../../src/actors/metadata-controller/metadata-controller.js';
import { freePorts } from './free-ports.js';
import { waitFor } from './in-process-raft-cluster.js';
import { startTestNode } from './test-node.js';

export type TestNode = Awaited<ReturnType<typeof startTestNode>>;

/** Broker sessions outlive any test, so the leader never fences the brokers a test registered. */
const testBrokerSessionTimeoutMs = 600_000;
/** Fast elections for in-process quorums: 20 ms ticks, elections after 200–400 ms of silence. */
const testRaft = { tickIntervalMs: 20, electionTimeoutTicks: 10 };

/** The controller of a node started by startTestNode (the nodes these helpers start have the controller role). */
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

/** A single controller-only node that leads its own quorum, with `brokerIds` registered and live. */
export async function startSingleControllerWithBrokers(brokerIds: readonly number[]): Promise<TestNode> {
  const node = await startTestNode({ roles: ['controller'], controller: { raft: testRaft } });
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
 * `size` controller-only nodes in this process forming one quorum on fixed loopback ports, each with
 * its own temporary data directory; resolves once one of them leads.
 */
export async function startTestQuorum(size: number): Promise<{ nodes: TestNode[]; leader: TestNode; stop: () => Promise<void> }> {
  const ports = await freePorts(size);
  const quorum = ports.map((port, index) => ({ id: index + 1, address: `127.0.0.1:${port}` }));
  const started = await Promise.allSettled(
    quorum.map(({ id, address }) => startTestNode({ nodeId: id, roles: ['controller'], listen: { grpc: address, metrics: '127.0.0.1:0' }, controller: { quorum, raft: testRaft } })),
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
