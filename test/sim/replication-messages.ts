import type { EpochEndOffset } from '../../src/broker/index.js';
import type { RecordProducer, ReplicaRecord } from './replica-log.js';

/** What a leader answers a follower's fetch. */
export type FetchResult =
  /** Records from `baseOffset` (maybe none), the high watermark the leader publishes, if any, and its log start. */
  | {
      readonly kind: 'records';
      readonly baseOffset: number;
      readonly records: readonly ReplicaRecord[];
      readonly highWatermark: number | undefined;
      readonly leaderLogStartOffset: number;
    }
  /** The follower's log departs from the leader's: reconcile (fetch-divergence.ts) and fetch again. */
  | { readonly kind: 'diverging'; readonly diverging: EpochEndOffset }
  /** NOT_LEADER, STALE_EPOCH, OFFSET_OUT_OF_RANGE…, with the leader's log bounds for the last. */
  | { readonly kind: 'error'; readonly code: string; readonly leaderLogStartOffset: number; readonly leaderLogEndOffset: number };

/**
 * The replication workload's messages over its simulated network: followers' fetches (Kafka's
 * FetchRequest with KIP-320's epochs and this project's durable end offset) and producers'
 * acks=all produce requests. Addresses are broker ids, or producer addresses above them.
 */
export type ReplicationMessage =
  | {
      readonly type: 'fetch';
      readonly from: number;
      readonly to: number;
      readonly partition: number;
      /** The leader epoch the follower fetches in (KIP-320 fencing). */
      readonly leaderEpoch: number;
      readonly fetchOffset: number;
      readonly lastFetchedEpoch: number;
      readonly durableEndOffset: number;
      /** Echoed in the response, so the follower ignores answers to fetches it gave up on. */
      readonly token: number;
    }
  | {
      readonly type: 'fetchResponse';
      readonly from: number;
      readonly to: number;
      readonly partition: number;
      readonly leaderEpoch: number;
      readonly token: number;
      readonly result: FetchResult;
    }
  | {
      readonly type: 'produce';
      readonly from: number;
      readonly to: number;
      readonly partition: number;
      readonly recordId: string;
      /** The record's stamp, the same on every attempt until an epoch bump restamps it. */
      readonly producer: RecordProducer;
      /** One per attempt: the producer ignores answers to attempts it gave up on. */
      readonly requestId: number;
    }
  | {
      readonly type: 'produceResponse';
      readonly from: number;
      readonly to: number;
      readonly partition: number;
      readonly requestId: number;
      /** Undefined on success. */
      readonly code: string | undefined;
      readonly offset: number;
    };

/** Every copy the network delivers is a fresh object, so brokers share nothing. */
export function cloneReplicationMessage(message: ReplicationMessage): ReplicationMessage {
  return structuredClone(message);
}
