import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  applyEncodedMetadataCommand, createMetadataState, decodeMetadataCommand, encodeMetadataCommand, type MetadataCommand,
} from '../../../src/controller/index.js';
import { topicConfig } from './metadata-harness.js';

const plain = new Packr({ useRecords: false });

const everyCommand: MetadataCommand[] = [
  { type: 'registerBroker', brokerId: 1, address: 'h:1', rack: 'r', incarnationId: 'u', nowMs: 2 ** 41, sessionTimeoutMs: 9_000 },
  { type: 'brokerHeartbeat', brokerId: 1, brokerEpoch: 3, metadataVersion: 9, wantsFence: false, wantsShutdown: true, nowMs: 5, sessionTimeoutMs: 9_000 },
  { type: 'fenceExpiredBrokers', nowMs: 7 },
  { type: 'createTopic', name: 't', config: topicConfig({ labels: { team: 'ingest' } }), replicaAssignment: [[1, 2, 3]], idempotencyKey: 'k' },
  { type: 'deleteTopic', name: 't', topicId: 'abc' },
  { type: 'updateTopicConfig', name: 't', topicId: '', changes: { retentionMs: 5, compression: 'zstd' } },
  { type: 'updateTopicConfig', name: 't', topicId: '', changes: {}, labels: { set: { owner: 'ana' }, remove: ['tier'] } },
  {
    type: 'alterPartition', brokerId: 1, brokerEpoch: 3, topic: 't', topicId: 'abc', partition: 0, leaderEpoch: 1, partitionEpoch: 2,
    newIsr: [{ brokerId: 1, brokerEpoch: 3 }],
  },
  { type: 'electLeaders', election: 'unclean', partitions: [{ topic: 't', partition: 1 }] },
  {
    type: 'joinGroup', groupId: 'g', memberId: '', groupInstanceId: 'i', clientId: 'c', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000,
    protocolType: 'consumer', protocols: [{ name: 'range', metadata: new Uint8Array([1, 2, 3]) }], nowMs: 1,
  },
  {
    type: 'syncGroup', groupId: 'g', memberId: 'm', generation: 1, nowMs: 1,
    assignments: [{ memberId: 'm', partitions: [{ topic: 't', partitions: [0, 1] }], userData: new Uint8Array([9]) }],
  },
  { type: 'groupHeartbeat', groupId: 'g', memberId: 'm', generation: 1, nowMs: 1 },
  { type: 'leaveGroup', groupId: 'g', members: [{ memberId: 'm', groupInstanceId: '' }], nowMs: 1 },
  { type: 'commitOffsets', groupId: 'g', memberId: 'm', generation: 1, nowMs: 1, offsets: [{ topic: 't', partition: 0, offset: 2 ** 50, leaderEpoch: 1, metadata: 'x' }] },
  { type: 'expireGroupMembers', nowMs: 1 },
  {
    type: 'upsertUploadSession', brokerId: 1, brokerEpoch: 4, deviceId: 'd', sessionId: 's', state: 'receiving', topic: 't', partition: 0, committedLength: 10,
    digest: '', createdAtMs: 1, expiresAtMs: 60_001, failure: '', nowMs: 1,
    sources: [{ name: 'imu', contentType: 'application/x-tributary-sensor', payloadKind: 'sensor', committedBytes: 10, final: true }],
  },
  { type: 'registerController', nodeId: 1, address: 'c:1', role: 'voter' },
  { type: 'unregisterController', nodeId: 1 },
];

describe('metadata command codec', () => {
  it('round-trips every command type, with 64-bit numbers and bytes intact', () => {
    expect(new Set(everyCommand.map((command) => command.type)).size).toBe(17);
    for (const command of everyCommand) expect(decodeMetadataCommand(encodeMetadataCommand(command))).toEqual(command);
  });

  it('keeps the benchmark\'s config update small', () => {
    const bytes = encodeMetadataCommand({ type: 'updateTopicConfig', name: 'bench-topic', topicId: '', changes: { retentionMs: 86_400_000 } });
    expect(bytes.length).toBeLessThan(256);
  });

  it('refuses malformed input with INVALID_REQUEST naming the field', () => {
    const decode = (value: unknown) => () => decodeMetadataCommand(plain.pack(value));
    expect(() => decodeMetadataCommand(new Uint8Array([0x92, 0x01]))).toThrow(/a metadata command is not valid msgpack/);
    expect(decode({ type: 'launchRocket' })).toThrow('malformed metadata command (type launchRocket)');
    expect(decode({ type: 'fenceExpiredBrokers', nowMs: -1 })).toThrow('command.nowMs: Too small');
    expect(decode({ type: 'fenceExpiredBrokers', nowMs: 1.5 })).toThrow('command.nowMs');
    expect(decode({ type: 'fenceExpiredBrokers', nowMs: 1, extra: true })).toThrow('malformed metadata command (type fenceExpiredBrokers)');
    expect(decode({ type: 'deleteTopic', name: 5, topicId: '' })).toThrow('command.name');
    expect(decode({ type: 'registerBroker', brokerId: 0, address: 'h', rack: '', incarnationId: 'u', nowMs: 0, sessionTimeoutMs: 1 })).toThrow('command.brokerId');
    expect(decode(['not', 'a', 'map'])).toThrow('malformed metadata command');
    expect(decode({ type: 'expireGroupMembers' })).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });

  it('applies encoded entries, rejecting one that does not decode instead of throwing', () => {
    const state = createMetadataState();
    const applied = applyEncodedMetadataCommand(state, encodeMetadataCommand({ type: 'registerController', nodeId: 1, address: 'c:1', role: 'voter' }), 1);
    expect(applied.result.ok).toBe(true);
    const garbage = applyEncodedMetadataCommand(state, plain.pack({ type: 'fenceExpiredBrokers' }), 2);
    expect(garbage).toEqual({ result: { ok: false, code: 'INVALID_REQUEST', message: expect.stringContaining('command.nowMs') as unknown }, deltas: [] });
    expect(state.version).toBe(1);
  });
});
