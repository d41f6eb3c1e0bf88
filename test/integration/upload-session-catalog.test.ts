import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerMetadataView } from '../../src/actors/broker-metadata/broker-metadata-view.js';
import {
  AdminClient, ControllerBrokerClient, defaultClientOptions, type MetadataWatch, type UploadSessionCatalogEntry,
} from '../../src/rpc/clients/index.js';
import { controllerOf, type TestNode, waitForLeader } from '../support/controller-quorum.js';
import { waitFor } from '../support/in-process-raft-cluster.js';
import { startTestNode } from '../support/test-node.js';

function session(overrides: Partial<UploadSessionCatalogEntry> = {}): UploadSessionCatalogEntry {
  return {
    deviceId: 'cam-7', sessionId: 'walk-1', state: 'receiving', topic: 'uploads', partition: 0, committedLength: 4096, digest: '',
    createdAtMs: 1_000, updatedAtMs: 0, expiresAtMs: 3_601_000, failure: '',
    sources: [{ name: 'mic', contentType: 'audio/wav', payloadKind: 'binary', committedBytes: 4096, final: false }],
    ...overrides,
  };
}

describe('the upload-session catalog through ControllerBrokerService', () => {
  let node: TestNode;
  let client: ControllerBrokerClient;
  let admin: AdminClient;
  const watches: MetadataWatch[] = [];
  let brokerEpoch = 0;

  beforeAll(async () => {
    node = await startTestNode({ roles: ['controller'], controller: { raft: { tickIntervalMs: 20, electionTimeoutTicks: 10 } } });
    await waitForLeader([node]);
    const options = { ...defaultClientOptions('upload-catalog-test'), bootstrap: [node.grpcAddress] };
    client = new ControllerBrokerClient(options);
    admin = new AdminClient(options);
    const registered = await client.register({ nodeId: 1, address: '127.0.0.1:30001', incarnationId: 'broker-1-a' });
    brokerEpoch = registered.brokerEpoch;
    await client.heartbeat({ nodeId: 1, brokerEpoch, metadataVersion: registered.metadataVersion });
    await admin.createTopic('uploads', { config: { partitions: 2, replicationFactor: 1 } });
  });
  afterAll(async () => {
    for (const watch of watches) watch.close();
    client?.close();
    admin?.close();
    await node?.stop();
  });

  function followedView(fromVersion = 0): BrokerMetadataView {
    const view = new BrokerMetadataView();
    watches.push(client.watchMetadata(fromVersion, (update) => view.apply(update), { heartbeatIntervalMs: 100 }));
    return view;
  }

  it('records a session that a broker watching the metadata then sees, and an image carries it to a new watcher', async () => {
    const live = followedView();
    await waitFor(() => live.topic('uploads'), 5_000, 'the topic in the view');
    const recorded = await client.recordUploadSession(1, brokerEpoch, session());
    expect(recorded).toMatchObject({ deviceId: 'cam-7', sessionId: 'walk-1', state: 'receiving', committedLength: 4096 });
    expect(recorded.updatedAtMs).toBeGreaterThan(0);
    const seen = await waitFor(() => live.uploadSession('cam-7', 'walk-1'), 5_000, 'the session in the view');
    expect(seen).toEqual(recorded);

    const complete = session({
      state: 'complete', committedLength: 8192, digest: 'cd'.repeat(32),
      sources: [{ name: 'mic', contentType: 'audio/wav', payloadKind: 'binary', committedBytes: 8192, final: true }],
    });
    await client.recordUploadSession(1, brokerEpoch, complete);
    await client.recordUploadSession(1, brokerEpoch, session({ deviceId: 'cam-3', sessionId: 'z', createdAtMs: 5 }));
    await client.recordUploadSession(1, brokerEpoch, session({ deviceId: 'cam-7', sessionId: 'a', createdAtMs: 2_000, partition: 1 }));
    const fresh = followedView();
    await waitFor(() => (fresh.uploadSessions().length === 3 ? true : undefined), 5_000, 'the image with every session');
    expect(fresh.uploadSessions().map((entry) => `${entry.deviceId}/${entry.sessionId}`)).toEqual(['cam-3/z', 'cam-7/walk-1', 'cam-7/a']);
    expect(fresh.uploadSessions({ deviceIdPrefix: 'cam-7', states: ['complete'] }).map((entry) => entry.sessionId)).toEqual(['walk-1']);
    await waitFor(() => (live.uploadSessions().length === 3 ? true : undefined), 5_000, 'the deltas in the live view');
    expect(live.uploadSessions()).toEqual(fresh.uploadSessions());
  });

  it('refuses a replaced broker, a step backwards and a change to a closed session, with their codes', async () => {
    await expect(client.recordUploadSession(1, brokerEpoch - 1, session({ sessionId: 'other' }))).rejects.toMatchObject({ code: 'FENCED' });
    await client.recordUploadSession(1, brokerEpoch, session({ sessionId: 'back' }));
    await expect(client.recordUploadSession(1, brokerEpoch, session({ sessionId: 'back', committedLength: 1 }))).rejects.toMatchObject({
      code: 'OFFSET_MISMATCH', message: 'session "cam-7/back" has 4096 committed bytes; 1 would go backwards',
    });
    await expect(client.recordUploadSession(1, brokerEpoch, session({ state: 'failed', failure: 'late' }))).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    expect(controllerOf(node).state.uploadSessions.size).toBe(4);
  });
});
