import assert from 'node:assert/strict';
import type { NodeId } from './raft-types.js';

/** A linearizable read someone asked for: the leader itself (from = its id) or a follower. */
export interface ReadRequest {
  readonly from: NodeId;
  readonly context: Uint8Array;
}

/** One read and the heartbeat round confirming the leader was still leader after it arrived. */
export interface ReadRound {
  readonly id: number;
  /** The commit index when the read arrived: the read is served once applied up to here. */
  readonly index: number;
  readonly request: ReadRequest;
  readonly acks: Set<NodeId>;
}

const roundIdBytes = 8;

/**
 * Pending ReadIndex rounds on the leader, oldest first (etcd's readOnly). Each read gets its own
 * round id, sent as the heartbeat context and echoed back, so two reads with the same context
 * never share acknowledgements gathered before one of them arrived. Bounded by `roundsMax`.
 */
export class ReadIndexQueue {
  private rounds: ReadRound[] = [];
  /** Never reset, so a late answer from an earlier leadership cannot match a new round. */
  private lastRoundId = 0;
  readonly roundsMax: number;

  constructor(roundsMax: number) {
    assert.ok(roundsMax > 0);
    this.roundsMax = roundsMax;
  }

  get size(): number {
    return this.rounds.length;
  }

  full(): boolean {
    return this.rounds.length >= this.roundsMax;
  }

  /** Starts a round; returns the context to send in its heartbeats. The leader acks itself. */
  add(index: number, request: ReadRequest, selfId: NodeId): Uint8Array {
    assert.ok(!this.full(), 'the ReadIndex queue is full');
    this.lastRoundId++;
    this.rounds.push({ id: this.lastRoundId, index, request, acks: new Set([selfId]) });
    return encodeRoundId(this.lastRoundId);
  }

  /** Records a heartbeat answer; returns the round it acknowledges, if still pending. */
  recordAck(context: Uint8Array, from: NodeId): ReadRound | undefined {
    const id = decodeRoundId(context);
    if (id === undefined) return undefined;
    const round = this.rounds.find((candidate) => candidate.id === id);
    round?.acks.add(from);
    return round;
  }

  /**
   * Removes and returns every round up to and including `id`: a quorum confirming a later round
   * confirms leadership after the earlier reads arrived too.
   */
  releaseThrough(id: number): ReadRound[] {
    const count = this.rounds.findIndex((round) => round.id > id);
    const released = count === -1 ? this.rounds : this.rounds.slice(0, count);
    this.rounds = count === -1 ? [] : this.rounds.slice(count);
    return released;
  }

  clear(): void {
    this.rounds = [];
  }
}

function encodeRoundId(id: number): Uint8Array {
  const bytes = new Uint8Array(roundIdBytes);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, Math.floor(id / 2 ** 32));
  view.setUint32(4, id % 2 ** 32);
  return bytes;
}

function decodeRoundId(context: Uint8Array): number | undefined {
  if (context.byteLength !== roundIdBytes) return undefined;
  const view = new DataView(context.buffer, context.byteOffset, context.byteLength);
  return view.getUint32(0) * 2 ** 32 + view.getUint32(4);
}
