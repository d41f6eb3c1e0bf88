import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';

/**
 * No acks=all write that a leader acknowledged is lost: after the liveness phase, each partition's
 * final leader holds the acknowledged record at the offset it was acknowledged at, below its high
 * watermark (so a consumer reads it back there). Judged on the final observations; an
 * acknowledgement of another record at an offset already acknowledged fails at once.
 */
export function createNoAcknowledgedRecordLost(): Checker {
  /** `${partition}/${offset}` → the acknowledgement, the first one at that offset. */
  const acknowledged = new Map<string, { recordId: string; brokerId: number; leaderEpoch: number }>();
  return {
    name: 'noAcknowledgedRecordLost',
    observe(observation: Observation): string | undefined {
      if (observation.kind === 'recordAcknowledged') {
        const { partition, offset, recordId, brokerId, leaderEpoch } = observation;
        const key = `${partition}/${offset}`;
        const first = acknowledged.get(key);
        if (first === undefined) acknowledged.set(key, { recordId, brokerId, leaderEpoch });
        else if (first.recordId !== recordId) {
          return `partition ${partition} offset ${offset}: broker ${brokerId} (leader epoch ${leaderEpoch}) acknowledged ${recordId}, but broker ${first.brokerId} (leader epoch ${first.leaderEpoch}) had acknowledged ${first.recordId} there`;
        }
        return undefined;
      }
      if (observation.kind !== 'replicationFinal') return undefined;
      return lostOn(observation, acknowledged);
    },
  };
}

function lostOn(
  final: Extract<Observation, { kind: 'replicationFinal' }>,
  acknowledged: ReadonlyMap<string, { recordId: string; brokerId: number; leaderEpoch: number }>,
): string | undefined {
  for (const [key, ack] of acknowledged) {
    const [partition, offset] = key.split('/').map(Number) as [number, number];
    if (partition !== final.partition) continue;
    const held = final.recordIds[offset];
    const where = `partition ${partition} offset ${offset}: ${ack.recordId}, acknowledged by broker ${ack.brokerId} (leader epoch ${ack.leaderEpoch})`;
    if (held !== ack.recordId) {
      return `${where}, is lost: the final leader ${final.brokerId} holds ${held ?? 'nothing'} there (its log ends at ${final.recordIds.length})`;
    }
    if (offset >= final.highWatermark) return `${where}, is not readable: the final leader ${final.brokerId}'s high watermark is ${final.highWatermark}`;
  }
  return undefined;
}
