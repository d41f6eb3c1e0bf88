import { expect } from 'vitest';
import {
  applyMetadataCommand, checkMetadataInvariants, createMetadataState, metadataWatermarks, type AppliedMetadataCommand,
  type MetadataCommand, type MetadataCommandOutputs, type MetadataDelta, type MetadataState, type TopicConfig,
} from '../../../src/controller/index.js';

export const brokerSessionTimeoutMs = 10_000;

export function topicConfig(overrides: Partial<TopicConfig> = {}): TopicConfig {
  return {
    partitions: 3, replicationFactor: 3, minInSyncReplicas: 2, retentionMs: 0, retentionBytes: 0, compression: 'none',
    maxMessageBytes: 1_048_576, uncleanLeaderElection: false, labels: {}, ...overrides,
  };
}

/**
 * One replica's state machine with a Raft index counter: applies commands as a host would, and
 * after every apply checks the invariants against the previous state's watermarks.
 */
export class MetadataHarness {
  readonly state: MetadataState = createMetadataState();
  index = 0;
  nowMs = 1_000_000;
  readonly deltas: MetadataDelta[] = [];

  apply<C extends MetadataCommand>(command: C): AppliedMetadataCommand<MetadataCommandOutputs[C['type']]> {
    const before = metadataWatermarks(this.state);
    this.index += 1;
    const applied = applyMetadataCommand(this.state, command, this.index);
    expect(checkMetadataInvariants(this.state, before)).toEqual([]);
    this.deltas.push(...applied.deltas);
    return applied;
  }

  /** Applies and returns the success value, failing the test with the error otherwise. */
  ok<C extends MetadataCommand>(command: C): MetadataCommandOutputs[C['type']] {
    const { result } = this.apply(command);
    if (!result.ok) throw new Error(`${command.type} was rejected: ${result.code} ${result.message}`);
    return result.value;
  }

  /** Applies a command expected to fail; returns its code and message. */
  fail(command: MetadataCommand): { code: string; message: string } {
    const { result, deltas } = this.apply(command);
    if (result.ok) throw new Error(`${command.type} was accepted: ${JSON.stringify(result.value).slice(0, 300)}`);
    expect(deltas).toEqual([]);
    return { code: result.code, message: result.message };
  }

  register(brokerId: number, rack = '', incarnationId = `incarnation-${brokerId}-${this.index}`): number {
    const { brokerEpoch } = this.ok({
      type: 'registerBroker', brokerId, address: `127.0.0.1:${9000 + brokerId}`, rack, incarnationId, nowMs: this.nowMs, sessionTimeoutMs: brokerSessionTimeoutMs,
    });
    return brokerEpoch;
  }

  heartbeat(brokerId: number, options: { wantsShutdown?: boolean; wantsFence?: boolean } = {}) {
    const broker = this.state.brokers.get(brokerId);
    if (broker === undefined) throw new Error(`broker ${brokerId} is not registered`);
    return this.ok({
      type: 'brokerHeartbeat', brokerId, brokerEpoch: broker.brokerEpoch, metadataVersion: this.state.version, wantsFence: options.wantsFence ?? false,
      wantsShutdown: options.wantsShutdown ?? false, nowMs: this.nowMs, sessionTimeoutMs: brokerSessionTimeoutMs,
    });
  }

  /** Registers and unfences brokers 1..count, with racks taken in turn from `racks`. */
  liveBrokers(count: number, racks: readonly string[] = []): void {
    for (let id = 1; id <= count; id += 1) {
      this.register(id, racks.length === 0 ? '' : (racks[(id - 1) % racks.length] ?? ''));
      this.heartbeat(id);
    }
  }

  createTopic(name: string, overrides: Partial<TopicConfig> = {}) {
    return this.ok({ type: 'createTopic', name, config: topicConfig(overrides), replicaAssignment: [], idempotencyKey: '' }).topic;
  }

  partition(topic: string, partition: number) {
    const record = this.state.topics.get(topic)?.partitions[partition];
    if (record === undefined) throw new Error(`${topic}/${partition} does not exist`);
    return record;
  }

  /** The leader's AlterPartition shrinking the ISR to itself. */
  shrinkIsrToLeader(topic: string, partition: number): void {
    const record = this.partition(topic, partition);
    const brokerEpoch = this.state.brokers.get(record.leader)?.brokerEpoch ?? 0;
    this.ok({
      type: 'alterPartition', brokerId: record.leader, brokerEpoch, topic, topicId: this.state.topics.get(topic)?.topicId ?? '', partition,
      leaderEpoch: record.leaderEpoch, partitionEpoch: record.partitionEpoch, newIsr: [{ brokerId: record.leader, brokerEpoch }],
    });
  }
}
