import { describe, expect, it } from 'vitest';
import { describeGroup, getUploadSession, listBrokers, metadataImage, partitionsLedBy } from '../../../src/controller/index.js';
import { MetadataHarness } from './metadata-harness.js';

describe('metadata queries', () => {
  it('list brokers by id, fenced ones only on request', () => {
    const harness = new MetadataHarness();
    harness.register(3);
    harness.liveBrokers(2);
    expect(listBrokers(harness.state, { includeFenced: false }).map((broker) => broker.brokerId)).toEqual([1, 2]);
    expect(listBrokers(harness.state, { includeFenced: true }).map((broker) => [broker.brokerId, broker.fenced])).toEqual([[1, false], [2, false], [3, true]]);
  });

  it('list the partitions a broker leads in topic then partition order, and answer copies', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(2);
    harness.createTopic('b', { partitions: 2, replicationFactor: 1, minInSyncReplicas: 1 });
    harness.createTopic('a', { partitions: 2, replicationFactor: 1, minInSyncReplicas: 1 });
    expect(partitionsLedBy(harness.state, 1)).toEqual([{ topic: 'a', partition: 0 }, { topic: 'b', partition: 0 }]);
    const brokers = listBrokers(harness.state, { includeFenced: true });
    (brokers[0] as { fenced: boolean }).fenced = true;
    expect(harness.state.brokers.get(1)?.fenced).toBe(false);
    expect(describeGroup(harness.state, 'none')).toBeNull();
    expect(getUploadSession(harness.state, 'd', 's')).toBeNull();
  });
});

describe('metadataImage', () => {
  it('lists controllers, brokers, then each topic followed by its partitions, all at the current version', () => {
    const harness = new MetadataHarness();
    harness.liveBrokers(1);
    harness.createTopic('t', { partitions: 2, replicationFactor: 1, minInSyncReplicas: 1 });
    const image = metadataImage(harness.state);
    expect(image.map((record) => record.kind)).toEqual(['controllersChanged', 'brokerRegistered', 'topicCreated', 'partitionChanged', 'partitionChanged']);
    expect(new Set(image.map((record) => record.version))).toEqual(new Set([harness.state.version]));
    expect(image[1]).toMatchObject({ broker: { brokerId: 1, fenced: false } });
  });
});
