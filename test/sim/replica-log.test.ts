import { describe, expect, it } from 'vitest';
import { noEpoch } from '../../src/broker/index.js';
import { Prng } from './prng.js';
import { ReplicaLog, type ReplicaRecord } from './replica-log.js';

/** A record of producer 1 in its epoch 0 with sequence `sequence`, appended at time 10 × sequence. */
function recordOf(epoch: number, recordId: string, sequence = 0): ReplicaRecord {
  return { epoch, recordId, producer: { producerId: 1, producerEpoch: 0, baseSequence: sequence }, timestampMs: 10 * sequence };
}

function logOf(epochs: number[]): ReplicaLog {
  const log = new ReplicaLog();
  epochs.forEach((epoch, offset) => log.append(recordOf(epoch, `r${offset}`, offset)));
  return log;
}

describe('ReplicaLog (the simulator\'s partition replica)', () => {
  it('answers epochs through the LeaderEpochCache: each epoch ends where the next starts', () => {
    const log = logOf([1, 1, 3, 3, 3]);
    expect(log.lastEpoch()).toBe(3);
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 2 });
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 1, endOffset: 2 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 5 });
    expect(log.endOffsetForEpoch(4)).toBeUndefined();
    expect(new ReplicaLog().lastEpoch()).toBe(noEpoch);
  });

  it('keeps only the durable prefix through a crash, and truncation drops epochs and durability above it', () => {
    const log = logOf([1, 1, 2, 2]);
    log.markDurable(3);
    expect(log.crash(new Prng(1), { unsyncedSurvivalRate: 0, tornWriteRate: 0 })).toBe(3);
    expect(log.recordIds()).toEqual(['r0', 'r1', 'r2']);
    expect(log.durableEndOffset()).toBe(3);
    expect(log.truncateTo(2)).toBe(2);
    expect(log.durableEndOffset()).toBe(2);
    expect(log.lastEpoch()).toBe(1);
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 2 });
    log.append(recordOf(4, 'x'));
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 1, endOffset: 2 });
    expect(() => log.append(recordOf(3, 'y'))).toThrow('record of epoch 3 appended after epoch 4');
  });

  it('moves its log start forward (retention), or restarts empty past its end (a follower whose leader deleted what it lacks)', () => {
    const log = logOf([1, 1, 2, 2, 2]);
    log.markDurable(5);
    log.advanceLogStartOffset(3);
    expect(log.logStartOffset()).toBe(3);
    expect(log.recordIds()).toEqual(['r3', 'r4']);
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 2, endOffset: 5 });
    expect(() => log.slice(2, 1)).toThrow('offset 2 is below the log start 3');
    log.advanceLogStartOffset(9);
    expect([log.logStartOffset(), log.endOffset(), log.durableEndOffset(), log.lastEpoch()]).toEqual([9, 9, 9, noEpoch]);
    expect(log.recordIds()).toEqual([]);
    expect(log.append(recordOf(3, 'x'))).toBe(9);
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 10 });
  });

  it('summarises its records as batches of one, with their producer stamps, those retention dropped first, for a new leader to rebuild from', () => {
    const log = logOf([1, 1, 2]);
    log.advanceLogStartOffset(1);
    expect(log.batchSummaries()).toEqual([
      { baseOffset: 0, lastOffset: 0, maxTimestampMs: 0, storedBytes: 0, producer: { producerId: 1, producerEpoch: 0, baseSequence: 0 } },
      { baseOffset: 1, lastOffset: 1, maxTimestampMs: 10, storedBytes: 0, producer: { producerId: 1, producerEpoch: 0, baseSequence: 1 } },
      { baseOffset: 2, lastOffset: 2, maxTimestampMs: 20, storedBytes: 0, producer: { producerId: 1, producerEpoch: 0, baseSequence: 2 } },
    ]);
  });

  it('lets write-back save a prefix of the unsynced records, which are then durable', () => {
    const log = logOf([1, 1, 1, 1, 1, 1]);
    log.markDurable(2);
    // Seed 7 lets three of the four unsynced records through.
    const endOffset = log.crash(new Prng(7), { unsyncedSurvivalRate: 1, tornWriteRate: 0 });
    expect(endOffset).toBe(5);
    expect(log.recordIds()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(log.durableEndOffset()).toBe(5);
  });
});
