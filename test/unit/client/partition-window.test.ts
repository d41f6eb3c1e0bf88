import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PartitionWindow, type WindowEntry } from '../../../src/client/partition-window.js';

type Outcome = 'ok' | 'retriable' | 'lost' | 'final';

const producerId = 7;
const backoffMs = 5;

/**
 * Drives a window as the producer does, with batches numbered 0, 1, ... and a stamp model of one
 * partition (an epoch and the next sequence), checking the rules of Kafka's Sender on every step.
 */
class Harness {
  readonly window = new PartitionWindow<number>(true);
  nowMs = 0;
  private nextBatch = 0;
  private epoch = 0;
  private nextSequence = 0;
  /** What the spec says: any failure starts a recovery, and a success of a batch sent during it ends it. */
  private recovering = false;
  private readonly sentRecovering = new Set<number>();
  readonly settled: number[] = [];
  readonly sends: number[] = [];

  constructor(private readonly capacity: number, private readonly batchesMax: number) {}

  act(): void {
    const action = this.window.action(this.nowMs, this.capacity);
    if (action.kind === 'take') this.take();
    if (action.kind === 'sleep') this.nowMs = action.untilMs;
    if (action.kind === 'restamp') this.restamp(action.lost.producerEpoch);
    if (action.kind === 'send') this.send(action.entry);
  }

  answer(pick: number, outcome: Outcome): void {
    const inFlight = this.inFlight();
    const entry = inFlight[pick % Math.max(1, inFlight.length)];
    if (entry === undefined) return;
    if (outcome === 'ok') {
      if (this.sentRecovering.has(entry.batch)) this.recovering = false;
      this.window.acknowledged(entry);
      this.settled.push(entry.batch);
    } else if (outcome === 'final') {
      this.window.failed(entry);
      this.settled.push(entry.batch);
      this.recovering = true;
    } else if (outcome === 'lost' && this.window.isOldest(entry)) {
      this.window.sequenceLost(entry);
      this.recovering = true;
    } else {
      this.window.retry(entry, this.nowMs + (outcome === 'retriable' ? backoffMs : 0));
      this.recovering = true;
    }
    if (this.window.size === 0) this.recovering = false;
  }

  inFlight(): Array<WindowEntry<number>> {
    return this.window.unacknowledged().filter((entry) => entry.inFlight);
  }

  get taken(): number {
    return this.nextBatch;
  }

  private take(): void {
    expect(this.recovering).toBe(false);
    if (this.nextBatch >= this.batchesMax) return;
    this.window.add(this.nextBatch++);
    expect(this.window.size).toBeLessThanOrEqual(this.capacity);
  }

  private send(entry: WindowEntry<number>): void {
    if (entry.stamp === undefined) {
      this.window.stamped(entry, { producerId, producerEpoch: this.epoch, baseSequence: this.nextSequence++ });
      const again = this.window.action(this.nowMs, this.capacity);
      if (again.kind !== 'send' || again.entry !== entry) return;
    }
    const inFlight = this.inFlight();
    // Calls leave in sequence order: never ahead of a batch still in flight, never across epochs.
    for (const other of inFlight) {
      expect(other.batch).toBeLessThan(entry.batch);
      expect(other.stamp?.producerEpoch).toBe(entry.stamp?.producerEpoch);
      expect(other.stamp?.baseSequence).toBeLessThan(entry.stamp?.baseSequence ?? 0);
    }
    if (this.recovering) {
      // Recovering: the in-flight batches settled first, then the oldest goes alone.
      expect(inFlight).toEqual([]);
      expect(this.window.isOldest(entry)).toBe(true);
      this.sentRecovering.add(entry.batch);
    }
    this.window.sent(entry);
    this.sends.push(entry.batch);
  }

  private restamp(lostEpoch: number): void {
    expect(this.inFlight()).toEqual([]);
    if (lostEpoch === this.epoch) this.epoch += 1;
    this.nextSequence = 0;
    this.window.restamped(this.window.unacknowledged().map(() => ({ producerId, producerEpoch: this.epoch, baseSequence: this.nextSequence++ })));
  }
}

const step = fc.oneof(
  fc.constant({ kind: 'act' as const }),
  fc.record({ kind: fc.constant('answer' as const), pick: fc.nat(4), outcome: fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'retriable', 'lost', 'final') }),
);

describe('PartitionWindow', () => {
  it('sends in sequence order within one epoch, recovers one batch at a time, and settles every batch once', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.array(step, { maxLength: 200 }), (capacity, steps) => {
      const harness = new Harness(capacity, 20);
      for (const next of steps) {
        if (next.kind === 'act') harness.act();
        else harness.answer(next.pick, next.outcome);
      }
      // Healed: every answer is a success from now on, and every batch taken settles.
      for (let turn = 0; turn < 1_000 && (harness.window.size > 0 || harness.taken < 20); turn++) {
        harness.act();
        harness.answer(0, 'ok');
      }
      expect(harness.window.size).toBe(0);
      expect([...harness.settled].sort((left, right) => left - right)).toEqual(Array.from({ length: 20 }, (_, batch) => batch));
    }), { numRuns: 300 });
  });

  it('after a failure takes nothing new, lets the batches in flight settle, then resends the oldest alone until it succeeds', () => {
    const window = new PartitionWindow<string>(false);
    for (const batch of ['a', 'b', 'c']) {
      expect(window.action(0, 3)).toEqual({ kind: 'take' });
      window.add(batch);
      const action = window.action(0, 3);
      expect(action).toMatchObject({ kind: 'send', entry: { batch } });
      if (action.kind === 'send') window.sent(action.entry);
    }
    const [a, b, c] = window.unacknowledged() as Array<WindowEntry<string>>;
    window.retry(a as WindowEntry<string>, 10);
    expect(window.action(20, 3)).toEqual({ kind: 'idle' });
    window.retry(b as WindowEntry<string>, 0);
    window.acknowledged(c as WindowEntry<string>);
    expect(window.action(0, 3)).toEqual({ kind: 'sleep', untilMs: 10 });
    expect(window.action(10, 3)).toMatchObject({ kind: 'send', entry: { batch: 'a', failures: 1 } });
    window.sent(a as WindowEntry<string>);
    expect(window.action(10, 3)).toEqual({ kind: 'idle' });
    window.acknowledged(a as WindowEntry<string>);
    // The oldest succeeded: the window is open again, and b goes before anything new.
    expect(window.action(10, 3)).toMatchObject({ kind: 'send', entry: { batch: 'b' } });
    window.sent(b as WindowEntry<string>);
    expect(window.action(10, 3)).toEqual({ kind: 'take' });
  });

  it('asks for a restamp after a lost sequence on the oldest batch, once nothing is in flight', () => {
    const window = new PartitionWindow<string>(true);
    const stamp = (producerEpoch: number, baseSequence: number) => ({ producerId, producerEpoch, baseSequence });
    for (const [index, batch] of ['a', 'b'].entries()) {
      window.add(batch);
      const entry = window.unacknowledged()[index] as WindowEntry<string>;
      window.stamped(entry, stamp(0, index));
      window.sent(entry);
    }
    const [a, b] = window.unacknowledged() as Array<WindowEntry<string>>;
    expect(() => window.sequenceLost(b as WindowEntry<string>)).toThrow('a lost sequence is only one of the oldest stamped batch');
    window.sequenceLost(a as WindowEntry<string>);
    expect(window.action(0, 5)).toEqual({ kind: 'idle' });
    window.retry(b as WindowEntry<string>, 0);
    expect(window.action(0, 5)).toEqual({ kind: 'restamp', lost: stamp(0, 0) });
    window.restamped([stamp(1, 0), stamp(1, 1)]);
    expect(window.action(0, 5)).toMatchObject({ kind: 'send', entry: { batch: 'a', stamp: stamp(1, 0) } });
  });

  it('holds a batch of a newer epoch until the batches before it are acknowledged', () => {
    const window = new PartitionWindow<string>(true);
    window.add('old');
    const old = window.unacknowledged()[0] as WindowEntry<string>;
    window.stamped(old, { producerId, producerEpoch: 0, baseSequence: 4 });
    window.sent(old);
    window.add('new');
    const fresh = window.unacknowledged()[1] as WindowEntry<string>;
    expect(window.action(0, 5)).toMatchObject({ kind: 'send', entry: { batch: 'new' } });
    window.stamped(fresh, { producerId, producerEpoch: 1, baseSequence: 0 });
    expect(window.action(0, 5)).toEqual({ kind: 'take' });
    window.acknowledged(old);
    expect(window.action(0, 5)).toMatchObject({ kind: 'send', entry: { batch: 'new' } });
  });
});
