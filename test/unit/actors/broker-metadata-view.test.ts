import { describe, expect, it } from 'vitest';
import { BrokerMetadataView } from '../../../src/actors/broker-metadata/broker-metadata-view.js';
import type { MetadataRecord, PartitionInfo, TopicConfig } from '../../../src/rpc/clients/index.js';

const config: TopicConfig = {
  partitions: 2, replicationFactor: 3, minInSyncReplicas: 2, retentionMs: 0, retentionBytes: 0, compression: 'none', maxMessageBytes: 1_048_576, uncleanLeaderElection: false, labels: {},
};
const partition = (index: number, leader: number, leaderEpoch = 0): PartitionInfo => ({ partition: index, replicas: [1, 2, 3], leader, isr: [1, 2, 3], leaderEpoch, partitionEpoch: leaderEpoch });
const created: MetadataRecord[] = [
  { kind: 'brokerRegistered', broker: { nodeId: 1, address: '127.0.0.1:1', rack: '', incarnationEpoch: 4, state: 'active' } },
  { kind: 'topicCreated', topicId: 't1', name: 'orders', config },
  { kind: 'partitionChanged', topicId: 't1', topic: 'orders', partition: partition(0, 1) },
  { kind: 'partitionChanged', topicId: 't1', topic: 'orders', partition: partition(1, 2) },
];

describe('broker metadata view', () => {
  it('builds from an image and follows deltas, reporting the partitions each one changed', () => {
    const view = new BrokerMetadataView();
    expect(view.apply({ kind: 'image', version: 5, records: created }).map((change) => change.partitionIndex)).toEqual([0, 1]);
    expect(view.version).toBe(5);
    expect(view.partition('orders', 1)?.leader).toBe(2);
    const changes = view.apply({ kind: 'deltas', prevVersion: 5, version: 6, records: [{ kind: 'partitionChanged', topicId: 't1', topic: 'orders', partition: partition(1, 3, 1) }] });
    expect(changes).toEqual([{ topic: 'orders', topicId: 't1', partition: partition(1, 3, 1), partitionIndex: 1 }]);
    expect(view.partition('orders', 1)?.leaderEpoch).toBe(1);
    view.apply({ kind: 'deltas', prevVersion: 6, version: 7, records: [{ kind: 'brokerStateChanged', nodeId: 1, incarnationEpoch: 5, state: 'fenced' }] });
    expect(view.broker(1)).toMatchObject({ incarnationEpoch: 5, state: 'fenced' });
  });

  it('a deleted topic reports each of its partitions gone', () => {
    const view = new BrokerMetadataView();
    view.apply({ kind: 'image', version: 5, records: created });
    const changes = view.apply({ kind: 'deltas', prevVersion: 5, version: 6, records: [{ kind: 'topicDeleted', topicId: 't1', name: 'orders' }] });
    expect(changes.map((change) => [change.partitionIndex, change.partition])).toEqual([[0, undefined], [1, undefined]]);
    expect(view.topic('orders')).toBeUndefined();
  });

  it('a new image replaces the view and reports what it no longer holds as gone', () => {
    const view = new BrokerMetadataView();
    view.apply({ kind: 'image', version: 5, records: created });
    const changes = view.apply({ kind: 'image', version: 9, records: created.slice(0, 3) });
    expect(changes.map((change) => [change.partitionIndex, change.partition === undefined])).toEqual([[0, false], [1, true]]);
    expect(view.partition('orders', 1)).toBeUndefined();
  });

  it('ignores a change to an older incarnation of a topic', () => {
    const view = new BrokerMetadataView();
    view.apply({ kind: 'image', version: 5, records: created });
    expect(view.apply({ kind: 'deltas', prevVersion: 5, version: 6, records: [{ kind: 'partitionChanged', topicId: 'old', topic: 'orders', partition: partition(0, 3, 9) }] })).toEqual([]);
    expect(view.partition('orders', 0)?.leader).toBe(1);
  });

  it('refuses deltas that do not follow its version, and versions going back', () => {
    const view = new BrokerMetadataView();
    view.apply({ kind: 'image', version: 5, records: created });
    expect(() => view.apply({ kind: 'deltas', prevVersion: 6, version: 7, records: [] })).toThrow(/from version 6 cannot follow version 5/);
    expect(() => view.apply({ kind: 'heartbeat', version: 4, leaderId: 1, term: 2 })).toThrow(/would go back from 5/);
    view.apply({ kind: 'heartbeat', version: 8, leaderId: 2, term: 3 });
    expect([view.version, view.controllerLeaderId]).toEqual([8, 2]);
  });
});
