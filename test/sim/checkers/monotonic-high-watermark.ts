import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';

/** What one leader epoch of a partition published: its first high watermark and its highest. */
interface EpochHighWatermarks {
  readonly brokerId: number;
  readonly first: number;
  last: number;
}

/**
 * The high watermark a partition publishes never goes down, across leader changes too, for a
 * reader that follows leader epochs forward (KIP-320: a fetch names the epoch it knows, and a
 * deposed leader answers a newer one with an error). So the published values, ordered by leader
 * epoch and then by time, never decrease: within an epoch each value is at least the last; a new
 * epoch's values are at least everything older epochs published (KIP-207 holds a new leader's
 * back until then); and a deposed leader still publishing (it has not learned it was replaced)
 * never goes above what any newer epoch first published, which holds because it counted the new
 * leader's durable end from before its election, at most the new leader's epoch start.
 */
export function createMonotonicHighWatermark(): Checker {
  /** partition → leader epoch → what that epoch published. */
  const published = new Map<number, Map<number, EpochHighWatermarks>>();
  return {
    name: 'monotonicHighWatermark',
    observe(observation: Observation): string | undefined {
      if (observation.kind !== 'highWatermarkPublished') return undefined;
      const { partition, highWatermark, brokerId, leaderEpoch } = observation;
      const epochs = published.get(partition) ?? new Map<number, EpochHighWatermarks>();
      published.set(partition, epochs);
      const what = `partition ${partition}: broker ${brokerId} (leader epoch ${leaderEpoch}) published high watermark ${highWatermark}`;
      for (const [epoch, earlier] of epochs) {
        if (epoch <= leaderEpoch && highWatermark < earlier.last) return `${what}, below ${earlier.last} published by broker ${earlier.brokerId} in leader epoch ${epoch}`;
        if (epoch > leaderEpoch && highWatermark > earlier.first) {
          return `${what}, above ${earlier.first}, the first published in the newer leader epoch ${epoch} by broker ${earlier.brokerId}`;
        }
      }
      const own = epochs.get(leaderEpoch);
      if (own === undefined) epochs.set(leaderEpoch, { brokerId, first: highWatermark, last: highWatermark });
      else own.last = highWatermark;
      return undefined;
    },
  };
}
