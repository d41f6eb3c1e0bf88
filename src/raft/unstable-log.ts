import assert from 'node:assert/strict';
import type { Entry, Snapshot } from './raft-types.js';

/**
 * Entries and a snapshot the core has accepted but the host has not yet persisted (etcd's
 * `unstable`). They leave through Ready and become stable when the host calls advance.
 */
export class UnstableLog {
  snapshot: Snapshot | undefined = undefined;
  /** entries[i].index === offset + i. */
  entries: Entry[] = [];
  offset: number;

  constructor(offset: number) {
    assert.ok(Number.isSafeInteger(offset) && offset >= 1);
    this.offset = offset;
  }

  /** Known only while a snapshot is pending: then the log starts right after it. */
  firstIndexOrUndefined(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  lastIndexOrUndefined(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.metadata.index;
  }

  termOrUndefined(index: number): number | undefined {
    if (index < this.offset) {
      return this.snapshot !== undefined && this.snapshot.metadata.index === index ? this.snapshot.metadata.term : undefined;
    }
    return this.entries[index - this.offset]?.term;
  }

  /** The host persisted entries up to `index`; `term` guards against a truncation meanwhile. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.termOrUndefined(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapshotTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  /** Appends `entries`, first dropping any unstable entries at or after the first new index. */
  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      for (const entry of entries) this.entries.push(entry);
    } else if (after <= this.offset) {
      // The new entries replace stable ones too; the host's append truncates them in storage.
      this.offset = after;
      this.entries = [...entries];
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(entries);
    }
  }

  slice(low: number, high: number): Entry[] {
    assert.ok(this.offset <= low && low <= high && high <= this.offset + this.entries.length, `unstable slice [${low}, ${high}) out of bounds`);
    return this.entries.slice(low - this.offset, high - this.offset);
  }
}
