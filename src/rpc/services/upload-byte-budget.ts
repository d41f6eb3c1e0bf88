/**
 * Bytes that Upload calls on this broker have received and not yet seen committed, bounded for
 * the node as a whole: each call also has its own bound, but without this one a hundred calls
 * could make a leader hold a hundred times that ahead of its followers (measured: 3 GB of RSS per
 * node in bench:ingest before it existed). A call over the budget stops reading (HTTP/2 flow
 * control holds its device back) and resumes once the node is back under half of it.
 */
export class UploadByteBudget {
  private heldBytes = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly bytesMax: number) {
    if (!Number.isSafeInteger(bytesMax) || bytesMax < 1) throw new RangeError(`an upload byte budget is a positive integer of bytes, got ${bytesMax}`);
  }

  get held(): number {
    return this.heldBytes;
  }

  /** Counts `bytes` as held; true when the node is now over its budget (the caller stops reading). */
  hold(bytes: number): boolean {
    this.heldBytes += bytes;
    return this.heldBytes > this.bytesMax;
  }

  /** Returns `bytes`; once under half the budget, every call that waits for room is told. */
  release(bytes: number): void {
    this.heldBytes -= bytes;
    if (this.heldBytes > this.bytesMax / 2 || this.waiting.size === 0) return;
    const woken = [...this.waiting];
    this.waiting.clear();
    for (const resume of woken) resume();
  }

  /** Whether a call may read again as far as the node is concerned. */
  hasRoom(): boolean {
    return this.heldBytes <= this.bytesMax / 2;
  }

  /** Calls `resume` once there is room again; the returned function cancels that (the call ended). */
  whenRoom(resume: () => void): () => void {
    this.waiting.add(resume);
    return () => this.waiting.delete(resume);
  }
}
