import type { Observation } from '../observation.js';

/** One replica's log as a checker rebuilds it from the replication workload's reports. */
export interface ReplicaMirror {
  readonly brokerId: number;
  /** Record ids by offset; offsets below the replica's log start hold none. */
  readonly records: Array<string | undefined>;
  logStartOffset: number;
  /** Every offset below it survives a crash. */
  durableEndOffset: number;
  /** The high watermark the replica vouches for its records up to (the consistency checker's). */
  highWatermark: number;
}

/** The value under `key`, created by `create` and stored the first time it is asked for. */
export function entryOf<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  const existing = map.get(key);
  if (existing !== undefined) return existing;
  const created = create();
  map.set(key, created);
  return created;
}

/**
 * Each replica's log, rebuilt from the append, truncation and sync reports alone, so a replication
 * checker judges what every replica held without touching it.
 */
export class ReplicaMirrors {
  /** partition → broker id → mirror. */
  private readonly byPartition = new Map<number, Map<number, ReplicaMirror>>();

  of(brokerId: number, partition: number): ReplicaMirror {
    const replicas = entryOf(this.byPartition, partition, () => new Map<number, ReplicaMirror>());
    return entryOf(replicas, brokerId, () => ({ brokerId, records: [], logStartOffset: 0, durableEndOffset: 0, highWatermark: 0 }));
  }

  /** Applies an append, a truncation or a sync to the mirror it concerns; other observations change nothing. */
  follow(observation: Observation): void {
    switch (observation.kind) {
      case 'replicaAppended': {
        const { records } = this.of(observation.brokerId, observation.partition);
        records.length = observation.offset;
        records.push(observation.recordId);
        return;
      }
      case 'replicaTruncated': {
        const replica = this.of(observation.brokerId, observation.partition);
        replica.records.length = observation.endOffset;
        replica.logStartOffset = Math.min(replica.logStartOffset, observation.endOffset);
        replica.durableEndOffset = Math.min(replica.durableEndOffset, observation.endOffset);
        return;
      }
      case 'replicaLogStartMoved': {
        const replica = this.of(observation.brokerId, observation.partition);
        const { records } = replica;
        if (observation.logStartOffset > records.length) records.length = observation.logStartOffset;
        records.fill(undefined, replica.logStartOffset, observation.logStartOffset);
        replica.logStartOffset = observation.logStartOffset;
        return;
      }
      case 'replicaSynced':
        this.of(observation.brokerId, observation.partition).durableEndOffset = observation.durableEndOffset;
        return;
      default:
        return;
    }
  }
}
