import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TributaryError } from '../../src/errors/index.js';
import {
  ControllerBrokerClient, defaultClientOptions, type MetadataRecord, type MetadataWatchUpdate,
} from '../../src/rpc/clients/index.js';
import { newRequestHeader } from '../../src/rpc/clients/request-header.js';
import { fromGrpcError } from '../../src/rpc/error-status.js';
import { ControllerBrokerServiceClient } from '../../src/rpc/generated/tributary/controller/v1/controller_broker_service.js';
import { GroupCoordinatorServiceClient } from '../../src/rpc/generated/tributary/controller/v1/group_coordinator_service.js';
import { controllerOf, startTestQuorum, type TestNode, waitForLeader } from '../support/controller-quorum.js';
import { waitFor } from '../support/in-process-raft-cluster.js';

const options = defaultClientOptions('controller-broker-quorum-test');
const deadline = () => new Date(Date.now() + 5_000);

/** The error a raw call failed with, decoded from its trailer. */
function failureOf(call: (callback: (error: ServiceError | null) => void) => void): Promise<TributaryError> {
  return new Promise((resolve, reject) => call((error) => (error ? resolve(fromGrpcError(error)) : reject(new Error('the call unexpectedly succeeded')))));
}

describe('ControllerBrokerService and GroupCoordinatorService on a three-controller quorum', () => {
  let quorum: Awaited<ReturnType<typeof startTestQuorum>>;
  let leader: TestNode;
  let follower: TestNode;

  beforeAll(async () => {
    quorum = await startTestQuorum(3);
    leader = quorum.leader;
    follower = quorum.nodes.find((node) => node !== leader) as TestNode;
    // The hint names the leader only once the follower has heard from it.
    await waitFor(() => controllerOf(follower).leaderHint().nodeId === leader.identity.nodeId || undefined, 5_000, 'the follower to know the leader');
  });
  afterAll(async () => {
    await quorum?.stop();
  });

  it('answers writes on a follower with NOT_LEADER and the leader hint, which the clients follow', async () => {
    const hint = { nodeId: leader.identity.nodeId, address: leader.grpcAddress };
    const brokerStub = new ControllerBrokerServiceClient(follower.grpcAddress, credentials.createInsecure());
    const registration = { header: newRequestHeader('raw'), nodeId: 4, address: '127.0.0.1:30004', rack: '', incarnationId: 'raw-4', clusterId: '', logDirs: [] };
    const refused = await failureOf((callback) => brokerStub.registerBroker(registration, new Metadata(), { deadline: deadline() }, callback));
    expect(refused).toMatchObject({ code: 'NOT_LEADER', retriable: true, leaderHint: expect.objectContaining(hint) as unknown });
    brokerStub.close();

    const groupStub = new GroupCoordinatorServiceClient(follower.grpcAddress, credentials.createInsecure());
    const join = { header: newRequestHeader('raw'), groupId: 'g', memberId: '', groupInstanceId: '', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, protocolType: 'consumer', protocols: [], subscription: undefined, rack: '', reason: '' };
    const joinRefused = await failureOf((callback) => groupStub.joinGroup(join, new Metadata(), { deadline: deadline() }, callback));
    expect(joinRefused).toMatchObject({ code: 'NOT_LEADER', leaderHint: expect.objectContaining(hint) as unknown });
    groupStub.close();

    const client = new ControllerBrokerClient({ ...options, bootstrap: [follower.grpcAddress] });
    const registered = await client.register({ nodeId: 4, address: '127.0.0.1:30004', incarnationId: 'routed-4' });
    expect(controllerOf(leader).state.brokers.get(4)?.brokerEpoch).toBe(registered.brokerEpoch);
    client.close();
  });

  it('serves WatchMetadata from a follower, whose heartbeats name the leader', async () => {
    const updates: MetadataWatchUpdate[] = [];
    const client = new ControllerBrokerClient({ ...options, bootstrap: [follower.grpcAddress] });
    client.watchMetadata(0, (update) => updates.push(update), { heartbeatIntervalMs: 100 });
    try {
      await waitFor(() => updates.find((update) => update.kind === 'image'), 5_000, 'the image from the follower');
      const { brokerEpoch } = await controllerOf(leader).submit({ type: 'registerBroker', brokerId: 7, address: '127.0.0.1:30007', rack: '', incarnationId: 'follower-watch', nowMs: Date.now(), sessionTimeoutMs: 600_000 });
      const registered = await waitFor(
        () => updates.find((update) => update.kind === 'deltas' && update.records.some((record) => record.kind === 'brokerRegistered' && record.broker.nodeId === 7)),
        5_000,
        'broker 7 through the follower',
      );
      expect(registered.version).toBe(brokerEpoch);
      const heartbeat = await waitFor(() => updates.find((update) => update.kind === 'heartbeat' && update.version >= brokerEpoch), 5_000, 'a heartbeat');
      expect(heartbeat).toMatchObject({ leaderId: leader.identity.nodeId });
    } finally {
      client.close();
    }
  });

  it('keeps a metadata watch going in version order across the leader stopping', async () => {
    const updates: MetadataWatchUpdate[] = [];
    const records = (): MetadataRecord[] => updates.flatMap((update) => (update.kind === 'heartbeat' ? [] : update.records));
    const addresses = [leader, ...quorum.nodes.filter((node) => node !== leader)].map((node) => node.grpcAddress);
    const client = new ControllerBrokerClient({ ...options, bootstrap: addresses, watch: { reconnectsMax: 50, backoffMsMin: 20, backoffMsMax: 200 } });
    const watch = client.watchMetadata(0, (update) => updates.push(update), { heartbeatIntervalMs: 100 });
    try {
      await waitFor(() => updates.find((update) => update.kind === 'image'), 5_000, 'the image');
      await controllerOf(leader).submit({ type: 'registerBroker', brokerId: 5, address: '127.0.0.1:30005', rack: '', incarnationId: 'before', nowMs: Date.now(), sessionTimeoutMs: 600_000 });
      await waitFor(() => records().find((record) => record.kind === 'brokerRegistered' && record.broker.nodeId === 5), 5_000, 'broker 5 on the watch');

      await leader.stop();
      const survivors = quorum.nodes.filter((node) => node !== leader);
      const next = await waitForLeader(survivors);
      await controllerOf(next).submit({ type: 'registerBroker', brokerId: 6, address: '127.0.0.1:30006', rack: '', incarnationId: 'after', nowMs: Date.now(), sessionTimeoutMs: 600_000 });
      await waitFor(() => records().find((record) => record.kind === 'brokerRegistered' && record.broker.nodeId === 6), 10_000, 'broker 6 on the watch after the failover');

      let version = -1;
      for (const update of updates) {
        if (update.kind === 'deltas') expect(update.prevVersion).toBe(version);
        expect(update.version).toBeGreaterThanOrEqual(version);
        version = update.version;
      }
      expect(updates.filter((update) => update.kind === 'image')).toHaveLength(1);
      expect(watch.version).toBe(version);
    } finally {
      client.close();
    }
  });
});
