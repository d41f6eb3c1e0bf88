import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  createMetadataState, decodeMetadataSnapshot, encodeMetadataSnapshot, metadataSnapshotFormat, type MetadataState,
} from '../../../src/controller/index.js';
import { MetadataHarness } from './metadata-harness.js';

const plain = new Packr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });

function populated(): MetadataHarness {
  const harness = new MetadataHarness();
  harness.liveBrokers(3, ['a', 'b']);
  harness.createTopic('orders');
  harness.ok({ type: 'registerController', nodeId: 1, address: 'c:1', role: 'voter' });
  harness.ok({
    type: 'joinGroup', groupId: 'g', memberId: '', groupInstanceId: '', clientId: 'c', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
    protocolType: 'consumer', protocols: [{ name: 'range', metadata: new Uint8Array([4]) }], nowMs: 1,
  });
  harness.ok({ type: 'commitOffsets', groupId: 'h', memberId: '', generation: 0, nowMs: 1, offsets: [{ topic: 'orders', partition: 1, offset: 3, leaderEpoch: 1, metadata: '' }] });
  harness.ok({
    type: 'upsertUploadSession', brokerId: 1, brokerEpoch: harness.state.brokers.get(1)?.brokerEpoch ?? 0, deviceId: 'd', sessionId: 's', state: 'open',
    topic: 'orders', partition: 0, committedLength: 0, digest: '', createdAtMs: 1, expiresAtMs: 0, failure: '',
    sources: [{ name: 'mic', contentType: 'audio/wav', payloadKind: 'binary', committedBytes: 0, final: false }], nowMs: 1,
  });
  return harness;
}

/** The same state with every map filled in reverse key order. */
function reversedInsertion(state: MetadataState): MetadataState {
  const reverse = <K, V>(map: Map<K, V>) => new Map([...map.entries()].reverse());
  const groups = new Map([...state.groups.entries()].reverse().map(([key, group]) => [key, { ...group, members: reverse(group.members), offsets: reverse(group.offsets) }]));
  return { ...state, brokers: reverse(state.brokers), topics: reverse(state.topics), groups, uploadSessions: reverse(state.uploadSessions), controllers: reverse(state.controllers) };
}

function snapshotObject(state: MetadataState): Record<string, unknown> {
  return plain.unpack(encodeMetadataSnapshot(state)) as Record<string, unknown>;
}

describe('metadata snapshots', () => {
  it('round-trip and do not depend on the order maps were filled in', () => {
    const { state } = populated();
    const bytes = encodeMetadataSnapshot(state);
    expect(decodeMetadataSnapshot(bytes)).toEqual(state);
    expect(Buffer.compare(encodeMetadataSnapshot(reversedInsertion(state)), bytes)).toBe(0);
  });

  it('carry a format number and refuse others', () => {
    const { state } = populated();
    const snapshot = snapshotObject(state);
    expect(snapshot.format).toBe(metadataSnapshotFormat);
    expect(() => decodeMetadataSnapshot(plain.pack({ ...snapshot, format: 99 }))).toThrow('metadata snapshot is unreadable: format 99 is not the supported format 3');
  });

  it('read format 2, whose upload sessions had no sources, expiry or failure', () => {
    const { state } = populated();
    const snapshot = snapshotObject(state);
    const sessions = (snapshot.uploadSessions as Array<Record<string, unknown>>).map(
      ({ createdAtMs: _created, expiresAtMs: _expires, failure: _failure, sources: _sources, ...format2 }) => format2,
    );
    const restored = decodeMetadataSnapshot(plain.pack({ ...snapshot, format: 2, uploadSessions: sessions }));
    expect([...restored.uploadSessions.values()]).toEqual([{ ...state.uploadSessions.get('d\u0000s'), createdAtMs: 1, expiresAtMs: 0, failure: '', sources: [] }]);
    expect(restored.uploadSourceCount).toBe(0);
  });

  it('refuse malformed, duplicated or inconsistent content with CORRUPT_RECORD', () => {
    const { state } = populated();
    const snapshot = snapshotObject(state);
    const brokers = snapshot.brokers as Array<Record<string, unknown>>;
    const topics = snapshot.topics as Array<{ partitions: Array<Record<string, unknown>> }>;
    expect(() => decodeMetadataSnapshot(new Uint8Array([0x92, 0x01]))).toThrow(expect.objectContaining({ code: 'CORRUPT_RECORD' }));
    expect(() => decodeMetadataSnapshot(plain.pack({ ...snapshot, version: 'x' }))).toThrow('metadata snapshot is unreadable: snapshot.version');
    expect(() => decodeMetadataSnapshot(plain.pack({ ...snapshot, brokers: [...brokers, brokers[0]] }))).toThrow('broker 1 appears twice');
    const badPartition = { ...topics[0]?.partitions[0], leader: 99 };
    const badTopics = [{ ...topics[0], partitions: [badPartition, ...(topics[0]?.partitions.slice(1) ?? [])] }];
    expect(() => decodeMetadataSnapshot(plain.pack({ ...snapshot, topics: badTopics }))).toThrow('its state is inconsistent: orders/0 leader 99 is outside its ISR');
  });

  it('encode the empty state', () => {
    expect(decodeMetadataSnapshot(encodeMetadataSnapshot(createMetadataState()))).toEqual(createMetadataState());
  });
});
