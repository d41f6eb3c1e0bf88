/**
 * The simulator's virtual clock and its pending events. Time is integer milliseconds and only
 * moves when the next event is taken; events due at the same millisecond run in the order they
 * were scheduled (a sequence number breaks ties), so a run never depends on heap layout.
 */
export interface ScheduledEvent<T> {
  readonly atMs: number;
  readonly sequence: number;
  readonly payload: T;
}

export class EventQueue<T> {
  private readonly heap: ScheduledEvent<T>[] = [];
  private sequenceNext = 0;
  private currentMs = 0;

  /** @param eventsPendingMax bound on the queue: exceeding it means a runaway schedule, a bug. */
  constructor(private readonly eventsPendingMax = 1_000_000) {}

  get nowMs(): number {
    return this.currentMs;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `payload` `delayMs` from now (rounded down to whole milliseconds, at least 0). */
  schedule(delayMs: number, payload: T): void {
    if (!(delayMs >= 0) || !Number.isFinite(delayMs)) throw new RangeError(`delay must be finite and >= 0, got ${delayMs}`);
    this.scheduleAt(this.currentMs + Math.floor(delayMs), payload);
  }

  scheduleAt(atMs: number, payload: T): void {
    if (atMs < this.currentMs) throw new RangeError(`cannot schedule in the past: ${atMs} < ${this.currentMs}`);
    if (this.heap.length >= this.eventsPendingMax) {
      throw new Error(`event queue exceeds eventsPendingMax (${this.eventsPendingMax})`);
    }
    this.heap.push({ atMs, sequence: this.sequenceNext++, payload });
    this.siftUp(this.heap.length - 1);
  }

  /** Removes the earliest event and moves the clock to its time; undefined when none is left. */
  next(): ScheduledEvent<T> | undefined {
    const first = this.heap[0];
    if (first === undefined) return undefined;
    const last = this.heap.pop() as ScheduledEvent<T>;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    this.currentMs = first.atMs;
    return first;
  }

  peekAtMs(): number | undefined {
    return this.heap[0]?.atMs;
  }

  private siftUp(start: number): void {
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(index, parent)) return;
      this.swap(index, parent);
      index = parent;
    }
  }

  private siftDown(start: number): void {
    let index = start;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if (left < this.heap.length && this.before(left, smallest)) smallest = left;
      if (right < this.heap.length && this.before(right, smallest)) smallest = right;
      if (smallest === index) return;
      this.swap(index, smallest);
      index = smallest;
    }
  }

  private before(a: number, b: number): boolean {
    const left = this.heap[a] as ScheduledEvent<T>;
    const right = this.heap[b] as ScheduledEvent<T>;
    return left.atMs < right.atMs || (left.atMs === right.atMs && left.sequence < right.sequence);
  }

  private swap(a: number, b: number): void {
    [this.heap[a], this.heap[b]] = [this.heap[b] as ScheduledEvent<T>, this.heap[a] as ScheduledEvent<T>];
  }
}
