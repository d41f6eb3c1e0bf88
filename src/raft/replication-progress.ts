import assert from 'node:assert/strict';
import { Inflights } from './inflights.js';
import type { PeerProgress, Snapshot } from './raft-types.js';

/** A snapshot being streamed to one follower in chunks. */
export interface SnapshotTransfer {
  readonly snapshot: Snapshot;
  /** Bytes the follower has acknowledged. */
  ackedOffset: number;
  /** Bytes sent so far (acked or in flight). */
  sentOffset: number;
  /** The chunk with done = true has been sent since the last rewind. */
  doneSent: boolean;
  /** ackedOffset when the last heartbeat answer arrived: no progress since means chunks were lost. */
  ackedOffsetAtHeartbeat: number;
}

/**
 * The leader's view of one member's log (etcd's tracker.Progress). States:
 *   probe     — one append at a time until the follower's match is known;
 *   replicate — appends pipelined optimistically, bounded by the inflight window;
 *   snapshot  — the log it needs is compacted; a snapshot is streaming and appends wait.
 */
export class ReplicationProgress implements PeerProgress {
  matchIndex = 0;
  nextIndex: number;
  state: 'probe' | 'replicate' | 'snapshot' = 'probe';
  /** In probe state: an append is out, so wait for its answer (or a heartbeat answer). */
  probeSent = false;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /**
   * The follower said its log is empty: it may lack even the state our log starts from (a new
   * node knows no membership), so it gets our storage snapshot, however old, before any entry.
   */
  needsBaseSnapshot = false;
  snapshotTransfer: SnapshotTransfer | undefined = undefined;
  readonly inflights: Inflights;

  constructor(nextIndex: number, inflightMessagesMax: number) {
    this.nextIndex = nextIndex;
    this.inflights = new Inflights(inflightMessagesMax);
  }

  get inflightMessages(): number {
    return this.inflights.count;
  }

  becomeProbe(): void {
    // After a snapshot the follower has at least the snapshot's index.
    const snapshotIndex = this.snapshotTransfer?.snapshot.metadata.index ?? 0;
    this.resetState('probe');
    this.nextIndex = Math.max(this.matchIndex + 1, snapshotIndex + 1);
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.nextIndex = this.matchIndex + 1;
  }

  becomeSnapshot(snapshot: Snapshot): void {
    this.resetState('snapshot');
    this.needsBaseSnapshot = false;
    this.snapshotTransfer = { snapshot, ackedOffset: 0, sentOffset: 0, doneSent: false, ackedOffsetAtHeartbeat: 0 };
  }

  private resetState(state: ReplicationProgress['state']): void {
    this.state = state;
    this.probeSent = false;
    this.snapshotTransfer = undefined;
    this.inflights.reset();
  }

  /** An append up to `index` was acknowledged; returns whether the match moved. */
  maybeUpdate(index: number): boolean {
    const updated = index > this.matchIndex;
    if (updated) {
      this.matchIndex = index;
      this.probeSent = false;
    }
    this.nextIndex = Math.max(this.nextIndex, index + 1);
    return updated;
  }

  /**
   * The follower rejected an append at `rejected`; `hintNext` is where its hint says to retry.
   * Returns false when the rejection is stale (answers an append sent before a newer one).
   */
  maybeDecreaseTo(rejected: number, hintNext: number): boolean {
    // A follower never rejects what it acknowledged unless it lost its log (or a test-only bug
    // made it diverge): resending at once would ping-pong, so wait for the next heartbeat.
    if (rejected <= this.matchIndex) return false;
    if (this.state === 'replicate') {
      this.nextIndex = this.matchIndex + 1;
      return true;
    }
    if (this.nextIndex - 1 !== rejected) return false;
    this.nextIndex = Math.max(this.matchIndex + 1, Math.min(rejected, hintNext));
    this.probeSent = false;
    assert.ok(this.nextIndex > this.matchIndex);
    return true;
  }

  /** Records an append carrying entries up to `lastIndex` (an empty probe has lastIndex = next - 1). */
  sentAppend(lastIndex: number, entryCount: number): void {
    if (this.state === 'replicate') {
      if (entryCount === 0) return;
      this.nextIndex = lastIndex + 1;
      this.inflights.add(lastIndex);
    } else {
      assert.equal(this.state, 'probe');
      this.probeSent = true;
    }
  }

  isPaused(): boolean {
    if (this.state === 'probe') return this.probeSent;
    if (this.state === 'replicate') return this.inflights.full();
    return true;
  }

  view(): PeerProgress {
    const { matchIndex, nextIndex, state, recentActive } = this;
    return { matchIndex, nextIndex, state, inflightMessages: this.inflights.count, recentActive };
  }
}
