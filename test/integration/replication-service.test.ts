import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/node/start-node.js';
import type { TributaryError } from '../../src/errors/index.js';
import { AdminClient, defaultClientOptions } from '../../src/rpc/clients/index.js';
import { newRequestHeader } from '../../src/rpc/clients/request-header.js';
import { ReplicationStream, type ReplicationStreamOpen } from '../../src/rpc/clients/replication-stream.js';
import { fromGrpcError } from '../../src/rpc/error-status.js';
import { BrokerReplicationServiceClient, type ReplicateStreamRequest } from '../../src/rpc/generated/tributary/broker/v1/broker_replication_service.js';
import { ErrorCode } from '../../src/rpc/generated/tributary/common/v1/common.js';
import { unary } from '../support/data-plane-calls.js';
import { waitFor } from '../support/in-process-raft-cluster.js';
import { startTestNode } from '../support/test-node.js';

const waitMs = 20_000;

describe('BrokerReplicationService on a combined node', () => {
  let node: RunningNode;
  let admin: AdminClient;
  let clusterId: string;

  beforeAll(async () => {
    node = await startTestNode({ controller: { raft: { tickIntervalMs: 20 } } });
    admin = new AdminClient({ ...defaultClientOptions('replication-service-test'), deadlineMs: 5_000, bootstrap: [node.grpcAddress] });
    await waitFor(() => (node.controller?.state.brokers.get(1)?.fenced === false ? true : undefined), waitMs, 'the broker to be unfenced');
    clusterId = node.identity.clusterId;
    await admin.createTopic('orders', { config: { partitions: 1, replicationFactor: 1 } });
    await waitFor(() => (node.broker?.replicas.hosted('orders', 0)?.role === 'leading' ? true : undefined), waitMs, 'orders-0 to be led');
  }, 60_000);

  afterAll(async () => {
    admin.close();
    await node.stop();
  });

  const openAs = (open: Partial<ReplicationStreamOpen>) =>
    ReplicationStream.open({
      address: node.grpcAddress, credentials: credentials.createInsecure(), token: undefined, clientId: 'replication-service-test', answerTimeoutMs: 5_000,
      open: { replicaId: 2, incarnationEpoch: 1, leaderId: 1, clusterId, ...open },
    }).then(
      () => undefined,
      (error: unknown) => error as TributaryError,
    );

  it('refuses a follower of another cluster, one addressing another broker, and one it does not know', async () => {
    expect(await openAs({ clusterId: 'elsewhere' })).toMatchObject({ code: 'INVALID_REQUEST', message: `the follower is in cluster "elsewhere", this broker in "${clusterId}"` });
    expect(await openAs({ leaderId: 7 })).toMatchObject({ code: 'INVALID_REQUEST', message: 'the follower means to reach broker 7; this is broker 1' });
    expect(await openAs({ replicaId: 1 })).toMatchObject({ code: 'INVALID_REQUEST', message: 'replica id 1 is not another broker\'s node id' });
    expect(await openAs({ replicaId: 5 })).toMatchObject({ code: 'NOT_AVAILABLE', retriable: true });
  });

  it('ends a stream that does not start with open', async () => {
    const client = new BrokerReplicationServiceClient(node.grpcAddress, credentials.createInsecure());
    try {
      const call = client.replicateStream(new Metadata());
      const ended = new Promise<TributaryError>((resolve) => call.on('error', (error: ServiceError) => resolve(fromGrpcError(error))));
      const fetch: ReplicateStreamRequest = {
        header: newRequestHeader('replication-service-test'),
        kind: { $case: 'fetch', value: { fetchId: 1, maxWaitMs: 0, minBytes: 0, maxBytes: 0, partitions: [], removedPartitions: [] } },
      };
      call.write(fetch);
      expect(await ended).toMatchObject({ code: 'INVALID_REQUEST', message: 'a ReplicateStream must start with open, not fetch' });
    } finally {
      client.close();
    }
  });

  it('answers GetLeaderEpoch for the partitions it leads, with an error per partition it cannot answer', async () => {
    const client = new BrokerReplicationServiceClient(node.grpcAddress, credentials.createInsecure());
    try {
      const response = await unary(client.getLeaderEpoch.bind(client), {
        header: newRequestHeader('replication-service-test'), replicaId: 0,
        partitions: [
          { topicPartition: { topic: 'orders', partition: 0 }, currentLeaderEpoch: 0, leaderEpoch: 1 },
          { topicPartition: { topic: 'orders', partition: 9 }, currentLeaderEpoch: 0, leaderEpoch: 1 },
        ],
      });
      expect(response.partitions.map((partition) => [partition.error?.code ?? ErrorCode.UNSPECIFIED, partition.leaderEpoch, partition.endOffset])).toEqual([
        [ErrorCode.UNSPECIFIED, 1, 0],
        [ErrorCode.PARTITION_NOT_FOUND, 0, 0],
      ]);
    } finally {
      client.close();
    }
  });
});
