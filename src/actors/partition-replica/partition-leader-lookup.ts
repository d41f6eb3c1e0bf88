import { validateLeaderEpoch } from '../../broker/index.js';
import { TributaryError } from '../../errors/index.js';
import { formatPartition } from '../../storage/index.js';
import type { BrokerMetadataView } from '../broker-metadata/broker-metadata-view.js';
import type { PartitionLeader } from './partition-leader.js';
import type { PartitionReplicas } from './partition-replicas.js';

/** How the broker's services find the leader of a partition they are asked to serve. */
export interface PartitionLeaderSource {
  /**
   * The running leader of `topic`/`partition` on this broker. Throws TOPIC_NOT_FOUND or
   * PARTITION_NOT_FOUND naming what exists, NOT_LEADER with the leader hint the metadata gives
   * when another broker leads (or nobody does), NOT_AVAILABLE while this broker is still opening
   * the partition it was made leader of, and the epoch fencing of `validateLeaderEpoch` when
   * `currentLeaderEpoch` is set (0 or undefined skips it, as on the wire).
   */
  leaderFor(topic: string, partition: number, currentLeaderEpoch?: number): PartitionLeader;
}

/** PartitionLeaderSource over the broker's metadata view and its hosted replicas. */
export class PartitionLeaderLookup implements PartitionLeaderSource {
  constructor(
    private readonly brokerId: number,
    private readonly metadata: BrokerMetadataView,
    private readonly replicas: PartitionReplicas,
  ) {}

  leaderFor(topic: string, partition: number, currentLeaderEpoch?: number): PartitionLeader {
    const topicView = this.metadata.topic(topic);
    if (topicView === undefined) throw new TributaryError('TOPIC_NOT_FOUND', `topic "${topic}" does not exist (as of metadata version ${this.metadata.version})`);
    const info = topicView.partitions.get(partition);
    if (info === undefined) {
      throw new TributaryError('PARTITION_NOT_FOUND', `topic "${topic}" has ${topicView.partitions.size} partitions; partition ${partition} does not exist`);
    }
    const name = formatPartition({ topic, partition });
    const leader = this.replicas.hosted(topic, partition)?.leader;
    if (leader === undefined) throw this.notLedHere(name, info.leader, info.leaderEpoch);
    if (currentLeaderEpoch !== undefined && currentLeaderEpoch !== 0) validateLeaderEpoch(name, leader.leaderEpoch, currentLeaderEpoch);
    return leader;
  }

  private notLedHere(name: string, leaderId: number, leaderEpoch: number): TributaryError {
    if (leaderId === this.brokerId) {
      return new TributaryError('NOT_AVAILABLE', `partition "${name}": broker ${this.brokerId} leads it from epoch ${leaderEpoch} but is still opening its log; retry shortly`, { retriable: true });
    }
    if (leaderId === 0) {
      return new TributaryError('NOT_LEADER', `partition "${name}" has no leader now (no in-sync replica is available); retry shortly`, { retriable: true, leaderHint: { nodeId: 0, address: '', epoch: leaderEpoch } });
    }
    const address = this.metadata.broker(leaderId)?.address ?? '';
    return new TributaryError('NOT_LEADER', `partition "${name}" is led by broker ${leaderId}${address === '' ? '' : ` at ${address}`}, not by broker ${this.brokerId}`, {
      retriable: true,
      leaderHint: { nodeId: leaderId, address, epoch: leaderEpoch },
    });
  }
}
