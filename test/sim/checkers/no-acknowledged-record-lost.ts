import type { Observation } from '../observation.js';
import type { Checker } from './checker.js';
import { entryOf, ReplicaMirrors } from './replica-mirrors.js';

interface Acknowledgement {
  readonly recordId: string;
  readonly brokerId: number;
  readonly leaderEpoch: number;
}

/**
 * No acks=all write that a leader acknowledged is lost (DESIGN.md §6: an acknowledgement means
 * fsynced on every in-sync replica). Three views of it:
 *   1. when acknowledged, the record is durable at its offset on every member of the leader's
 *      (maximal) ISR, so even a power loss of them all keeps it (or a member already deleted it
 *      by retention, which only reaches below its own high watermark);
 *   2. no replica the controller counts in the ISR ever drops an acknowledged offset, by
 *      reconciliation or by a crash: it could be elected next;
 *   3. after the liveness phase each partition's final leader holds every acknowledged record at
 *      the offset it was acknowledged at, below its high watermark (a consumer reads it back),
 *      unless retention deleted it (below its log start).
 * Two leaders acknowledging different records at one offset fail at once.
 */
export function createNoAcknowledgedRecordLost(): Checker {
  const mirrors = new ReplicaMirrors();
  /** partition → offset → the first acknowledgement there. */
  const acknowledged = new Map<number, Map<number, Acknowledgement>>();
  const acknowledgedIn = (partition: number): Map<number, Acknowledgement> => entryOf(acknowledged, partition, () => new Map<number, Acknowledgement>());
  return {
    name: 'noAcknowledgedRecordLost',
    observe(observation: Observation): string | undefined {
      mirrors.follow(observation);
      switch (observation.kind) {
        case 'recordAcknowledged':
          return acknowledge(observation);
        case 'replicaTruncated': {
          const { brokerId, partition, endOffset, why } = observation;
          const dropped = [...acknowledgedIn(partition).keys()].find((offset) => offset >= endOffset);
          if (!observation.inIsr || dropped === undefined) return undefined;
          return `partition ${partition}: broker ${brokerId}, in the controller's ISR, truncated its log to ${endOffset} (${why}), dropping acknowledged offset ${dropped}`;
        }
        case 'replicationFinal':
          return lostOn(observation, acknowledgedIn(observation.partition));
        default:
          return undefined;
      }
    },
  };

  function acknowledge(observation: Extract<Observation, { kind: 'recordAcknowledged' }>): string | undefined {
    const { partition, offset, recordId, brokerId, leaderEpoch } = observation;
    const where = `partition ${partition} offset ${offset}: broker ${brokerId} (leader epoch ${leaderEpoch}) acknowledged ${recordId}`;
    const atOffset = acknowledgedIn(partition);
    const first = atOffset.get(offset);
    if (first !== undefined && first.recordId !== recordId) return `${where}, but broker ${first.brokerId} (leader epoch ${first.leaderEpoch}) had acknowledged ${first.recordId} there`;
    atOffset.set(offset, first ?? { recordId, brokerId, leaderEpoch });
    for (const memberId of observation.isr) {
      const member = mirrors.of(memberId, partition);
      if (member.durableEndOffset > offset && member.records[offset] === recordId) continue;
      // Retention deletes only below a replica's own high watermark: the offset was committed there
      // (a deposed leader may acknowledge after its successor published and deleted past it).
      if (offset < member.logStartOffset) continue;
      const held = member.records[offset] ?? 'nothing';
      return `${where} while broker ${memberId}, in its ISR [${observation.isr.join(', ')}], held ${held} there, durable only below ${member.durableEndOffset}`;
    }
    return undefined;
  }
}

function lostOn(final: Extract<Observation, { kind: 'replicationFinal' }>, acknowledged: ReadonlyMap<number, Acknowledgement>): string | undefined {
  for (const [offset, ack] of acknowledged) {
    // Retention deleted it, below the high watermark: that is no loss.
    if (offset < final.logStartOffset) continue;
    const held = final.recordIds[offset - final.logStartOffset];
    const where = `partition ${final.partition} offset ${offset}: ${ack.recordId}, acknowledged by broker ${ack.brokerId} (leader epoch ${ack.leaderEpoch})`;
    if (held !== ack.recordId) return `${where}, is lost: the final leader ${final.brokerId} holds ${held ?? 'nothing'} there (its log ends at ${final.logStartOffset + final.recordIds.length})`;
    if (offset >= final.highWatermark) return `${where}, is not readable: the final leader ${final.brokerId}'s high watermark is ${final.highWatermark}`;
  }
  return undefined;
}
