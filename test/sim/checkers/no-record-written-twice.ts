import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';
import { entryOf, ReplicaMirrors } from './replica-mirrors.js';

interface Acknowledgement {
  readonly offset: number;
  readonly brokerId: number;
  readonly leaderEpoch: number;
}

/**
 * Idempotent producers write each record once (issue #7: exactly once per offset across producer
 * retries and leader kills). Three views of it:
 *   1. no replica's log, durable or not, holds one record id at two offsets at once: a retry or a
 *      delayed original the leader failed to recognise shows here as soon as it is appended, and
 *      a follower copying the leader's log shows the leader's duplicate too. A record truncated
 *      away (a divergent suffix, a crash's lost tail) or deleted below the log start is no longer
 *      held, so writing it again, at the same offset or another, is no duplicate in this view;
 *   2. every acknowledgement of a record id names the same offset: a record written twice and
 *      committed twice is acknowledged twice, even when a retention cut one copy from every log;
 *   3. a consumer reading the partition from its start never reads one record id at two offsets:
 *      the records below the highest published high watermark, as each leader held them when it
 *      published, hold each id once (retention may have deleted the first copy by then).
 */
export function createNoRecordWrittenTwice(): Checker {
  const mirrors = new ReplicaMirrors();
  /** partition → broker id → record id → the offset it was last written at (checked against the mirror). */
  const writtenAt = new Map<number, Map<number, Map<string, number>>>();
  /** partition → record id → its first acknowledgement. */
  const acknowledged = new Map<number, Map<string, Acknowledgement>>();
  /** partition → the consumer-visible records in offset order, and the offset of each id among them. */
  const visible = new Map<number, { readonly records: Array<string | undefined>; readonly offsets: Map<string, number> }>();
  return {
    name: 'noRecordWrittenTwice',
    observe(observation: Observation): string | undefined {
      mirrors.follow(observation);
      switch (observation.kind) {
        case 'replicaAppended':
          return written(observation);
        case 'recordAcknowledged':
          return acknowledge(observation);
        case 'highWatermarkPublished':
          return publish(observation);
        default:
          return undefined;
      }
    },
  };

  function written(observation: Extract<Observation, { kind: 'replicaAppended' }>): string | undefined {
    const { brokerId, partition, offset, recordId } = observation;
    const offsets = entryOf(entryOf(writtenAt, partition, () => new Map<number, Map<string, number>>()), brokerId, () => new Map<string, number>());
    const earlier = offsets.get(recordId);
    offsets.set(recordId, offset);
    // The index may name an offset since truncated or deleted: the mirror says what the log holds now.
    if (earlier === undefined || earlier === offset || mirrors.of(brokerId, partition).records[earlier] !== recordId) return undefined;
    return `partition ${partition}: broker ${brokerId} wrote ${recordId} at offset ${offset} while its log still held it at offset ${earlier}`;
  }

  function acknowledge(observation: Extract<Observation, { kind: 'recordAcknowledged' }>): string | undefined {
    const { brokerId, partition, offset, recordId, leaderEpoch } = observation;
    const first = entryOf(acknowledged, partition, () => new Map<string, Acknowledgement>());
    const earlier = first.get(recordId);
    if (earlier === undefined) first.set(recordId, { offset, brokerId, leaderEpoch });
    if (earlier === undefined || earlier.offset === offset) return undefined;
    return `partition ${partition}: broker ${brokerId} (leader epoch ${leaderEpoch}) acknowledged ${recordId} at offset ${offset}, ` +
      `but broker ${earlier.brokerId} (leader epoch ${earlier.leaderEpoch}) had acknowledged it at offset ${earlier.offset}`;
  }

  function publish(observation: Extract<Observation, { kind: 'highWatermarkPublished' }>): string | undefined {
    const { brokerId, partition, highWatermark } = observation;
    const seen = entryOf(visible, partition, () => ({ records: [], offsets: new Map<string, number>() }));
    const leader = mirrors.of(brokerId, partition);
    for (let offset = seen.records.length; offset < highWatermark; offset++) {
      // Another checker judges a leader publishing beyond its log; this one reads only what it holds.
      const recordId = leader.records[offset];
      seen.records.push(recordId);
      if (recordId === undefined) continue;
      const earlier = seen.offsets.get(recordId);
      if (earlier !== undefined) return `partition ${partition}: a consumer reads ${recordId} at offset ${earlier} and again at offset ${offset}, below the high watermark ${highWatermark} broker ${brokerId} published`;
      seen.offsets.set(recordId, offset);
    }
    return undefined;
  }
}
