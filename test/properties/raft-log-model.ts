// The Raft log as plain arrays: what RaftLogStore must agree with in storage-model.test.ts.
import type { Entry } from '../../src/raft/raft-types.js';

/** Entry data follows from index and term, so the model keeps terms only and still checks bytes. */
export function modelEntry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array((index * 7 + term) % 23).fill(index % 256) };
}

/** What the store throws for an index it does not hold, by RaftStorageError kind. */
export type Outcome<T> = { readonly value: T } | { readonly error: 'compacted' | 'unavailable' };

export class RaftLogModel {
  compactionIndex = 0;
  compactionTerm = 0;
  /** terms[i] is the term of the entry at compactionIndex + 1 + i. */
  terms: number[] = [];

  firstIndex(): number {
    return this.compactionIndex + 1;
  }

  lastIndex(): number {
    return this.compactionIndex + this.terms.length;
  }

  termAt(index: number): number {
    if (index === this.compactionIndex) return this.compactionTerm;
    const term = this.terms[index - this.compactionIndex - 1];
    if (term === undefined) throw new Error(`the model holds no index ${index}`);
    return term;
  }

  append(firstIndex: number, terms: readonly number[]): Outcome<void> {
    const kept = terms.map((term, position) => ({ index: firstIndex + position, term })).filter((entry) => entry.index > this.compactionIndex);
    const first = kept[0];
    if (first === undefined) return { value: undefined };
    if (first.index > this.lastIndex() + 1) return { error: 'unavailable' };
    this.terms = [...this.terms.slice(0, first.index - this.firstIndex()), ...kept.map((entry) => entry.term)];
    return { value: undefined };
  }

  truncateSuffix(fromIndex: number): Outcome<void> {
    if (fromIndex <= this.compactionIndex) return { error: 'compacted' };
    this.terms = this.terms.slice(0, Math.max(0, fromIndex - this.firstIndex()));
    return { value: undefined };
  }

  compactPrefix(throughIndex: number, term: number): void {
    const matches = throughIndex <= this.lastIndex() && this.termAt(throughIndex) === term;
    this.terms = matches ? this.terms.slice(throughIndex - this.compactionIndex) : [];
    this.compactionIndex = throughIndex;
    this.compactionTerm = term;
  }

  entries(low: number, high: number, maxBytes: number): Outcome<Entry[]> {
    if (low < this.firstIndex()) return { error: 'compacted' };
    if (high > this.lastIndex() + 1) return { error: 'unavailable' };
    const result: Entry[] = [];
    let totalBytes = 0;
    for (let index = low; index < high; index++) {
      const entry = modelEntry(index, this.termAt(index));
      totalBytes += entry.data.byteLength + 24;
      if (totalBytes > maxBytes && result.length > 0) break;
      result.push(entry);
    }
    return { value: result };
  }
}
