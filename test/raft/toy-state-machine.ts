/**
 * The host's state machine in interaction tests: the list of applied normal entries' data. Its
 * snapshot is that list as JSON, so snapshots have a size that grows with the log and can be
 * sent in several chunks.
 */
import type { Entry, Snapshot } from '../../src/raft/raft-types.js';

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

export class ToyStateMachine {
  appliedIndex = 0;
  values: string[] = [];

  /** Applies the next committed entry; entries must come in index order without gaps. */
  apply(entry: Entry): void {
    if (entry.index !== this.appliedIndex + 1) {
      throw new Error(`host: applying entry ${entry.index} after ${this.appliedIndex} leaves a gap or repeats`);
    }
    this.appliedIndex = entry.index;
    if (entry.type === 'normal' && entry.data.length > 0) this.values.push(textDecoder.decode(entry.data));
  }

  restore(snapshot: Snapshot): void {
    // A new node with no membership is sent the leader's stored snapshot before any entry; while
    // the leader has not compacted, that is the cluster's bootstrap snapshot at index 0, and empty.
    const bootstrap = snapshot.metadata.index === 0 && this.appliedIndex === 0;
    if (!bootstrap && snapshot.metadata.index <= this.appliedIndex) {
      throw new Error(`host: snapshot at ${snapshot.metadata.index} does not advance applied index ${this.appliedIndex}`);
    }
    this.appliedIndex = snapshot.metadata.index;
    this.values = snapshot.data.length === 0 ? [] : (JSON.parse(textDecoder.decode(snapshot.data)) as string[]);
  }

  snapshotData(): Uint8Array {
    return textEncoder.encode(JSON.stringify(this.values));
  }

  describe(): string {
    return `Applied:${this.appliedIndex} Values:${JSON.stringify(this.values)}`;
  }
}
