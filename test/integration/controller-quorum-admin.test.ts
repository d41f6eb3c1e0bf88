import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, defaultClientOptions, MetadataClient } from '../../src/rpc/clients/index.js';
import { waitFor } from '../support/in-process-raft-cluster.js';
import { startTestNode } from '../support/test-node.js';
import { controllerOf, registerLiveBrokers, startTestQuorum, type TestNode, waitForLeader } from '../support/controller-quorum.js';
import { freePorts } from '../support/free-ports.js';

const clientOptions = defaultClientOptions('controller-quorum-admin-test');

describe('admin and metadata calls on a three-controller quorum', () => {
  let quorum: Awaited<ReturnType<typeof startTestQuorum>>;
  let follower: TestNode;
  let admin: AdminClient;

  beforeAll(async () => {
    quorum = await startTestQuorum(3);
    await registerLiveBrokers(controllerOf(quorum.leader), [1, 2, 3]);
    follower = quorum.nodes.find((node) => node !== quorum.leader) as TestNode;
    admin = new AdminClient({ ...clientOptions, bootstrap: [follower.grpcAddress] });
  });
  afterAll(async () => {
    admin?.close();
    await quorum?.stop();
  });

  it('a follower answers writes with NOT_LEADER and the leader address; the client follows it', async () => {
    const direct = new AdminClient({ ...clientOptions, bootstrap: [follower.grpcAddress], routing: { attemptsMax: 1, backoffMsMin: 1, backoffMsMax: 1 } });
    try {
      await expect(direct.createTopic('via-follower')).rejects.toMatchObject({ code: 'NOT_AVAILABLE', cause: { code: 'NOT_LEADER', leaderHint: { nodeId: quorum.leader.identity.nodeId, address: quorum.leader.grpcAddress } } });
    } finally {
      direct.close();
    }
    const { topic } = await admin.createTopic('via-follower', { config: { partitions: 3 } });
    expect(topic.config.replicationFactor).toBe(3);
  });

  it('a follower describes the cluster from its own state with allow_follower, and its term and indices', async () => {
    const mine = await admin.describeController(follower.grpcAddress);
    expect(mine.responderId).toBe(follower.identity.nodeId);
    expect(mine.leaderId).toBe(quorum.leader.identity.nodeId);
    expect(mine.controllers.map((controller) => [controller.nodeId, controller.role, controller.isLeader])).toEqual(
      quorum.nodes.map((node) => [node.identity.nodeId, 'voter', node === quorum.leader]),
    );
    expect(mine.term).toBeGreaterThanOrEqual(1);
    expect(mine.appliedIndex).toBeLessThanOrEqual(mine.commitIndex);
  });

  it('a follower serves linearizable and bounded-stale reads itself, with honest freshness', async () => {
    const reader = new MetadataClient({ ...clientOptions, bootstrap: [follower.grpcAddress] });
    try {
      const linearizable = await reader.topics(['via-follower']);
      expect(linearizable.topics[0]?.topic?.name).toBe('via-follower');
      expect(linearizable.freshness).toMatchObject({ responderId: follower.identity.nodeId, servedByLeader: false, linearizable: true, stalenessMs: 0 });
      const bounded = await reader.clusterMetadata({ consistency: 'bounded', maxStalenessMs: 60_000 });
      expect(bounded.freshness).toMatchObject({ responderId: follower.identity.nodeId, servedByLeader: false, linearizable: false });
      expect(bounded.freshness.stalenessMs).toBeLessThan(60_000);
    } finally {
      reader.close();
    }
  });

  it('transfers controller leadership to a chosen voter', async () => {
    const target = follower.identity.nodeId;
    const { leaderId, term } = await admin.transferLeadership(target);
    expect(leaderId).toBe(target);
    expect(controllerOf(follower).raftStatus()).toMatchObject({ role: 'leader', term });
    await waitFor(() => (quorum.nodes.every((node) => controllerOf(node).raftStatus().leader === target) ? true : undefined), 5_000, 'every controller to follow the new leader');
  });

  it('adds a fourth controller that joins empty as a learner, promotes it, then removes it, while topics keep being created', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'trib-joiner-'));
    const [port] = await freePorts(1);
    const address = `127.0.0.1:${port}`;
    const peers = quorum.nodes.map((node) => ({ id: node.identity.nodeId, address: node.grpcAddress }));
    const joiner = await startTestNode({
      nodeId: 4, roles: ['controller'], dataDir, listen: { grpc: address, metrics: '127.0.0.1:0' },
      controller: { quorum: [...peers, { id: 4, address }], join: true, raft: { tickIntervalMs: 20, electionTimeoutTicks: 10 } },
    });
    try {
      const writes = Promise.all([1, 2, 3].map((index) => admin.createTopic(`during-add-${index}`)));
      expect((await admin.addController(4, address, { role: 'learner' })).controller).toMatchObject({ nodeId: 4, address, role: 'learner' });
      expect((await admin.describeCluster()).controllers.map((info) => [info.nodeId, info.role])).toEqual([[1, 'voter'], [2, 'voter'], [3, 'voter'], [4, 'learner']]);
      const { controller } = await admin.addController(4, address);
      expect(controller).toMatchObject({ nodeId: 4, address, role: 'voter' });
      await writes;
      expect((await admin.addController(4, address)).controller?.role).toBe('voter');
      await waitFor(() => (controllerOf(joiner).state.topics.has('during-add-3') ? true : undefined), 5_000, 'the new controller to apply the topics');
      const { controllers } = await admin.removeController(4);
      expect(controllers.map((info) => info.nodeId)).toEqual([1, 2, 3]);
      expect((await admin.describeCluster()).controllers.map((info) => info.nodeId)).toEqual([1, 2, 3]);
    } finally {
      await joiner.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
    await waitForLeader(quorum.nodes);
  });
});
