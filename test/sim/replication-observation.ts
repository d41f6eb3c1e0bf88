/**
 * What the replication workload reports to the checkers, as plain data (like observation.ts):
 * every record a replica writes and every truncation (a crash's lost tail included), so a checker
 * can mirror each replica's log; every high watermark a leader publishes; every acks=all write a
 * leader acknowledges; and, at the end, each partition's final leader log.
 */
export type ReplicationObservation =
  /** Broker `brokerId` wrote `recordId` at `offset` of `partition` (its log ended at `offset` before). */
  | { readonly kind: 'replicaAppended'; readonly atMs: number; readonly brokerId: number; readonly partition: number; readonly offset: number; readonly recordId: string }
  /**
   * The replica's log now ends at `endOffset`: a reconciliation truncation, or a crash. `inIsr`:
   * the controller's committed ISR (the Raft leader's metadata) holds this broker right now.
   */
  | {
      readonly kind: 'replicaTruncated';
      readonly atMs: number;
      readonly brokerId: number;
      readonly partition: number;
      readonly endOffset: number;
      readonly why: string;
      readonly inIsr: boolean;
    }
  /**
   * The replica no longer holds the offsets below `logStartOffset`: retention, or (`restarted`) a
   * follower whose leader had deleted what it lacked emptied its log and restarted it there.
   */
  | {
      readonly kind: 'replicaLogStartMoved';
      readonly atMs: number;
      readonly brokerId: number;
      readonly partition: number;
      readonly logStartOffset: number;
      readonly restarted: boolean;
    }
  /** Every record of the replica below `durableEndOffset` survives a crash (an fsync completed, or a crash kept them). */
  | { readonly kind: 'replicaSynced'; readonly atMs: number; readonly brokerId: number; readonly partition: number; readonly durableEndOffset: number }
  /**
   * A follower's own high watermark (FollowerHighWatermark) is now `highWatermark`: it vouches for
   * its records below it (they are consumer-visible). 0 after a crash, which forgets it.
   */
  | { readonly kind: 'replicaHighWatermark'; readonly atMs: number; readonly brokerId: number; readonly partition: number; readonly highWatermark: number }
  /** The leader of `leaderEpoch` published `highWatermark`: consumers may read every offset below it. */
  | {
      readonly kind: 'highWatermarkPublished';
      readonly atMs: number;
      readonly brokerId: number;
      readonly partition: number;
      readonly leaderEpoch: number;
      readonly highWatermark: number;
    }
  /**
   * The leader answered an acks=all produce of `recordId` with success at `offset`; `duplicate`:
   * the produce was a retry of a record already in its log, answered with the original's offset.
   */
  | {
      readonly kind: 'recordAcknowledged';
      readonly atMs: number;
      readonly brokerId: number;
      readonly partition: number;
      readonly leaderEpoch: number;
      readonly offset: number;
      readonly recordId: string;
      readonly duplicate: boolean;
      /** The leader's maximal ISR then: every member must hold the record durably. */
      readonly isr: readonly number[];
    }
  /** After the liveness phase: the partition's leader, its log (the records from its log start) and its high watermark. */
  | {
      readonly kind: 'replicationFinal';
      readonly atMs: number;
      readonly brokerId: number;
      readonly partition: number;
      readonly logStartOffset: number;
      readonly recordIds: readonly string[];
      readonly highWatermark: number;
    };
