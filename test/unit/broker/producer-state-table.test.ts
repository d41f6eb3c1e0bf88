import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ProducerBatch, producerSequenceMax, ProducerStateTable } from '../../../src/broker/index.js';

const table = (producersMax = 10) => new ProducerStateTable({ partition: 'orders-3', producersMax });
const batch = (baseSequence: number, recordCount = 2, producerEpoch = 0, producerId = 7): ProducerBatch => ({ producerId, producerEpoch, baseSequence, recordCount });

/** Checks and, when new, appends at `offset`; returns the offsets the producer is answered with. */
function produce(state: ProducerStateTable, sent: ProducerBatch, offset: number): [number, number] {
  const checked = state.check(sent);
  if (checked.kind === 'duplicate') return [checked.firstOffset, checked.lastOffset];
  state.appended(sent, offset, 1_000);
  return [offset, offset + sent.recordCount - 1];
}

describe('ProducerStateTable', () => {
  it('appends a producer\'s batches in sequence and answers a retry with its original offsets', () => {
    const state = table();
    expect(produce(state, batch(0), 10)).toEqual([10, 11]);
    expect(produce(state, batch(2), 20)).toEqual([20, 21]);
    expect(produce(state, batch(0), 99)).toEqual([10, 11]);
    expect(produce(state, batch(2), 99)).toEqual([20, 21]);
    expect(state.entries().get(7)?.batches.map((entry) => entry.lastSequence)).toEqual([1, 3]);
  });

  it('refuses a gap, an unknown producer not starting at 0, a new epoch not starting at 0, and fences an older epoch', () => {
    const state = table();
    expect(() => state.check(batch(4))).toThrow(expect.objectContaining({ code: 'UNKNOWN_PRODUCER_ID' }));
    produce(state, batch(0), 0);
    expect(() => state.check(batch(5))).toThrow(
      expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE', message: 'partition "orders-3" producer 7: sequence 5 follows none of the last 1 batches; the next expected is 2' }),
    );
    expect(() => state.check(batch(2, 2, 1))).toThrow(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE', message: expect.stringContaining('its new epoch 1 must start at sequence 0') as unknown }));
    produce(state, batch(0, 1, 1), 2);
    expect(() => state.check(batch(2))).toThrow(expect.objectContaining({ code: 'FENCED' }));
  });

  it('remembers only the last five batches: a retry of an older one is a gap', () => {
    const state = table();
    for (let index = 0; index < 6; index++) produce(state, batch(index, 1), index);
    expect(state.check(batch(5, 1))).toEqual({ kind: 'duplicate', firstOffset: 5, lastOffset: 5 });
    expect(() => state.check(batch(0, 1))).toThrow(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE' }));
  });

  it('wraps sequences after the int32 maximum', () => {
    const state = table();
    produce(state, batch(0, 1), 0);
    // Records at sequences max - 1, max, then 0: the next batch starts at 1.
    state.appended(batch(producerSequenceMax - 1, 3), 1, 1_000);
    expect(state.entries().get(7)?.batches.at(-1)).toMatchObject({ firstSequence: producerSequenceMax - 1, lastSequence: 0, firstOffset: 1, lastOffset: 3 });
    expect(state.check(batch(1))).toEqual({ kind: 'append' });
  });

  it('bounds the producers it tracks, and expires idle ones', () => {
    const state = table(1);
    produce(state, batch(0), 0);
    expect(() => state.check(batch(0, 1, 0, 8))).toThrow(expect.objectContaining({ code: 'RESOURCE_EXHAUSTED', retriable: true }));
    expect(state.expire(1_000 + 60_000, 60_000)).toBe(0);
    expect(state.expire(1_000 + 60_001, 60_000)).toBe(1);
    expect(state.check(batch(0, 1, 0, 8))).toEqual({ kind: 'append' });
  });

  it('property: whatever a producer retries, every batch is stored once and every answer is its original offsets', () => {
    const action = fc.oneof(fc.constant({ kind: 'next' as const }), fc.record({ kind: fc.constant('retry' as const), back: fc.integer({ min: 0, max: 4 }) }));
    fc.assert(
      fc.property(fc.array(fc.tuple(action, fc.integer({ min: 1, max: 5 })), { maxLength: 60 }), (script) => {
        const state = table();
        const sent: Array<{ batch: ProducerBatch; offsets: [number, number] }> = [];
        let logEnd = 0;
        let nextSequence = 0;
        for (const [step, recordCount] of script) {
          const previous = sent[sent.length - 1 - (step.kind === 'retry' ? step.back : 0)];
          if (step.kind === 'retry' && previous !== undefined) {
            expect(produce(state, previous.batch, logEnd)).toEqual(previous.offsets);
            continue;
          }
          const next = batch(nextSequence, recordCount);
          const offsets = produce(state, next, logEnd);
          expect(offsets).toEqual([logEnd, logEnd + recordCount - 1]);
          sent.push({ batch: next, offsets });
          logEnd += recordCount;
          nextSequence += recordCount;
        }
      }),
    );
  });
});
