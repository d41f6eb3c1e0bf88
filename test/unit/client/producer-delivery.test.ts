import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Producer, type ProducerLinks, type RecordMetadata, TributaryError } from '../../../src/client/index.js';
import { inFlightBatchesPerPartitionMax } from '../../../src/client/producer.js';
import { producerBatchesCachedMax, ProducerStateTable } from '../../../src/broker/index.js';
import type { ProduceBatchInput, ProducedBatch } from '../../../src/rpc/clients/index.js';
import { brokerAddress, topicLookup } from '../../support/topic-lookups.js';

type Fault = 'none' | 'moveLeader' | 'moveLeaderWithoutHint' | 'notLeaderBriefly' | 'notEnoughReplicas' | 'unavailable' | 'staleEpoch' | 'corrupt' | 'appendedThenTimeout';

const partitionCount = 3;

/**
 * Two brokers as the producer sees them, driven by a scripted list of faults (one per Produce, in
 * the order the calls are processed): leaders that move with a NOT_LEADER hint, a NOT_LEADER from
 * a leader that stays (an election racing the call), retriable refusals, stale epochs, one
 * non-retriable failure, and an append whose answer is lost (TIMEOUT after the batch was stored).
 * Idempotent batches go through the real ProducerStateTable of each partition, so the batches
 * behind a refused one meet OUT_OF_ORDER_SEQUENCE as from a real leader. Several calls of a
 * partition may be outstanding; they are processed in call order, as the broker's produce stream
 * does, but a stored batch's answer takes a turn longer than a refusal (acks), so answers may
 * overtake each other. It records how many calls of each partition were outstanding at once.
 */
class ScriptedCluster {
  readonly logs = Array.from({ length: partitionCount }, () => [] as string[]);
  private producers = this.freshProducerTables();
  private nextProducerId = 1;
  initProducerIdCalls = 0;
  readonly leaders = Array.from({ length: partitionCount }, () => ({ nodeId: 1, epoch: 1 }));
  /** Produce calls of each partition not answered yet, and the most there ever were at once. */
  readonly outstanding = Array.from({ length: partitionCount }, () => 0);
  readonly outstandingMax = Array.from({ length: partitionCount }, () => 0);
  /** Each partition's calls, processed one after another in call order. */
  private readonly processing = Array.from({ length: partitionCount }, () => Promise.resolve());
  /** Partitions whose calls wait here before they are processed. */
  private readonly held = new Map<number, { promise: Promise<void>; release: () => void }>();
  /** Partitions whose other broker does not know the leader: it answers NOT_LEADER without a hint. */
  private readonly hintless = new Set<number>();
  metadataLookups = 0;

  constructor(
    private readonly faults: Fault[],
    /** What InitProducerId tells the producer it may have in flight per partition. */
    private readonly brokerWindow = producerBatchesCachedMax,
  ) {}

  /** Holds the calls of `partitions` (all by default) until `release`: they stay outstanding. */
  hold(partitions: readonly number[] = Array.from({ length: partitionCount }, (_, partition) => partition)): void {
    for (const partition of partitions) {
      let release = () => undefined as void;
      const promise = new Promise<void>((resolve) => (release = resolve));
      this.held.set(partition, { promise, release });
    }
  }

  release(): void {
    for (const { release } of this.held.values()) release();
    this.held.clear();
  }

  links(): ProducerLinks {
    return {
      metadata: {
        topics: () => {
          this.metadataLookups++;
          return Promise.resolve(topicLookup('t', this.leaders));
        },
        close: () => undefined,
      },
      brokers: {
        produce: (address, input) => this.produce(address, input),
        initProducerId: (_address, producerId, producerEpoch) => {
          this.initProducerIdCalls++;
          const identity = producerId === 0 ? { producerId: this.nextProducerId++, producerEpoch: 0 } : { producerId, producerEpoch: producerEpoch + 1 };
          return Promise.resolve({ ...identity, maxInFlightBatchesPerPartition: this.brokerWindow });
        },
        close: () => undefined,
      },
    };
  }

  /** Every partition forgets its producers, as leaders do for producers idle longer than producerIdleMsMax. */
  expireProducers(): void {
    this.producers = this.freshProducerTables();
  }

  private freshProducerTables(): ProducerStateTable[] {
    return Array.from({ length: partitionCount }, (_, partition) => new ProducerStateTable({ partition: `t-${partition}`, producersMax: 10 }));
  }

  private async produce(address: string, input: ProduceBatchInput): Promise<ProducedBatch> {
    const { partition } = input;
    this.outstanding[partition] = (this.outstanding[partition] ?? 0) + 1;
    this.outstandingMax[partition] = Math.max(this.outstandingMax[partition] ?? 0, this.outstanding[partition] ?? 0);
    const processed = (this.processing[partition] ?? Promise.resolve()).then(async () => {
      await nextTurn();
      await this.held.get(partition)?.promise;
      return this.answer(address, input);
    });
    this.processing[partition] = processed.then(() => undefined, () => undefined);
    try {
      const produced = await processed;
      await nextTurn();
      return produced;
    } finally {
      this.outstanding[partition] = (this.outstanding[partition] ?? 1) - 1;
    }
  }

  private answer(address: string, input: ProduceBatchInput): ProducedBatch {
    const leader = this.leaders[input.partition] ?? { nodeId: 0, epoch: 0 };
    const hint = () => ({ nodeId: leader.nodeId, address: brokerAddress(leader.nodeId), epoch: leader.epoch });
    if (address !== brokerAddress(leader.nodeId)) {
      throw new TributaryError('NOT_LEADER', 'not the leader', { leaderHint: this.hintless.has(input.partition) ? { nodeId: 0, address: '', epoch: 0 } : hint() });
    }
    if (input.currentLeaderEpoch !== leader.epoch) throw new TributaryError('STALE_EPOCH', `epoch ${input.currentLeaderEpoch} is not ${leader.epoch}`);
    const fault = this.faults.shift() ?? 'none';
    if (fault === 'moveLeader' || fault === 'moveLeaderWithoutHint') {
      leader.nodeId = 3 - leader.nodeId;
      leader.epoch++;
      // Without hints, only asking the controllers again finds the new leader.
      if (fault === 'moveLeaderWithoutHint') this.hintless.add(input.partition);
      else this.hintless.delete(input.partition);
      throw new TributaryError('NOT_LEADER', 'leadership moved', { leaderHint: fault === 'moveLeader' ? hint() : { nodeId: 0, address: '', epoch: 0 } });
    }
    if (fault === 'notLeaderBriefly') throw new TributaryError('NOT_LEADER', 'not the leader for a moment', { leaderHint: { nodeId: 0, address: '', epoch: 0 } });
    if (fault === 'notEnoughReplicas') throw new TributaryError('NOT_ENOUGH_REPLICAS', 'isr below min');
    if (fault === 'unavailable') throw new TributaryError('NOT_AVAILABLE', 'connection refused');
    if (fault === 'staleEpoch') throw new TributaryError('STALE_EPOCH', 'refresh your metadata');
    if (fault === 'corrupt') throw new TributaryError('CORRUPT_RECORD', 'crc mismatch');
    const appended = this.append(input);
    if (fault === 'appendedThenTimeout') throw new TributaryError('TIMEOUT', 'the acks did not arrive in time; the batch may still commit', { retriable: true });
    return appended;
  }

  private append(input: ProduceBatchInput): ProducedBatch {
    const log = this.logs[input.partition] ?? [];
    const table = this.producers[input.partition] as ProducerStateTable;
    const producer = input.producer === undefined ? undefined : { ...input.producer, recordCount: input.records.length };
    const verdict = producer === undefined ? undefined : table.check(producer);
    if (verdict?.kind === 'duplicate') return { baseOffset: verdict.firstOffset, logAppendTimeMs: 1, logStartOffset: 0, duplicate: true };
    const baseOffset = log.length;
    if (producer !== undefined) table.appended(producer, baseOffset, 1);
    for (const record of input.records) log.push(Buffer.from(record.value).toString());
    return { baseOffset, logAppendTimeMs: 1, logStartOffset: 0, duplicate: false };
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Turns of the event loop until `done` holds; fails after `turnsMax`. */
async function turnsUntil(done: () => boolean, turnsMax = 1_000): Promise<void> {
  for (let turn = 0; !done(); turn++) {
    if (turn >= turnsMax) throw new Error(`condition not met after ${turnsMax} turns`);
    await nextTurn();
  }
}

/**
 * The partition's log holds each acknowledged record once, at the offset it was acknowledged
 * with, in send order, and nothing else but records whose send failed (a batch refused for good
 * after an earlier attempt of it was stored, the ambiguity every producer has).
 */
function expectStoredInOrder(log: readonly string[], outcomes: ReadonlyArray<PromiseSettledResult<RecordMetadata>>, partition: number): void {
  expect(new Set(log).size).toBe(log.length);
  const sendIndexes = log.map((value) => Number(value.slice(1)));
  expect(sendIndexes).toEqual([...sendIndexes].sort((left, right) => left - right));
  outcomes.forEach((outcome, index) => {
    if (outcome.status === 'fulfilled' && outcome.value.partition === partition) expect(log[outcome.value.offset]).toBe(`v${index}`);
  });
  for (const index of sendIndexes) {
    const outcome = outcomes[index];
    // A record in the log was acknowledged in this partition, or its send failed.
    expect(outcome?.status === 'rejected' || outcome?.value.partition === partition).toBe(true);
  }
}

const fastRetries = { backoffMsMin: 1, backoffMsMax: 2, retriesMax: 50 };
const bootstrap = ['controller:1'];

/** `count` one-record batches to `partition`, valued v0, v1, ... */
function sendEach(producer: Producer, partition: number, count: number): Array<Promise<RecordMetadata>> {
  return Array.from({ length: count }, (_, index) => producer.sendRecord('t', { value: `v${index}`, partition }));
}

describe('Producer delivery', () => {
  it('stores every partition\'s records once, in send order, at the offsets it acknowledges, with windows of 5 and 1, through faults on any batch in flight', async () => {
    const faults = fc.array(
      fc.constantFrom<Fault>('none', 'none', 'moveLeader', 'moveLeaderWithoutHint', 'notLeaderBriefly', 'notEnoughReplicas', 'unavailable', 'staleEpoch', 'appendedThenTimeout', 'corrupt'),
      { maxLength: 40 },
    );
    const sends = fc.array(fc.record({ partition: fc.option(fc.integer({ min: 0, max: partitionCount - 1 }), { nil: undefined }), key: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }) }), { minLength: 1, maxLength: 40 });
    const windows = fc.constantFrom(1, 5);
    let outstandingSeenMax = 0;
    await fc.assert(fc.asyncProperty(faults, sends, fc.integer({ min: 1, max: 300 }), windows, async (script, records, batchBytesMax, window) => {
      const cluster = new ScriptedCluster([...script]);
      const producer = new Producer({ bootstrap, lingerMs: 1, batchBytesMax, maxInFlightBatchesPerPartition: window, ...fastRetries, random: () => 0.5 }, cluster.links());
      const outcomes = await Promise.allSettled(records.map((record, index) => producer.sendRecord('t', { ...record, value: `v${index}` })));
      await producer.close();
      for (const outcome of outcomes) {
        // Only the scripted non-retriable fault may fail a record: every other one is acknowledged.
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'CORRUPT_RECORD' });
      }
      for (let partition = 0; partition < partitionCount; partition++) expectStoredInOrder(cluster.logs[partition] ?? [], outcomes, partition);
      expect(Math.max(...cluster.outstandingMax)).toBeLessThanOrEqual(window);
      outstandingSeenMax = Math.max(outstandingSeenMax, ...cluster.outstandingMax);
      records.forEach((record, index) => {
        const outcome = outcomes[index];
        if (record.partition !== undefined && outcome?.status === 'fulfilled') expect(outcome.value.partition).toBe(record.partition);
      });
    }), { numRuns: 120 });
    // The runs did pipeline: the faults met batches with others in flight behind them.
    expect(outstandingSeenMax).toBeGreaterThan(1);
  });

  it('keeps maxInFlightBatchesPerPartition batches of a partition in flight when idempotent, and one when not', async () => {
    for (const [idempotent, expected] of [[true, 5], [false, 1]] as const) {
      const cluster = new ScriptedCluster([]);
      cluster.hold();
      const producer = new Producer({ bootstrap, lingerMs: 0, batchRecordsMax: 1, idempotent, ...fastRetries }, cluster.links());
      const sent = Promise.all(sendEach(producer, 0, 12));
      await turnsUntil(() => cluster.outstanding[0] === expected);
      // Held answers: the producer starts no more calls than its window.
      for (let turn = 0; turn < 50; turn++) await nextTurn();
      expect(cluster.outstanding[0]).toBe(expected);
      cluster.release();
      expect((await sent).map((metadata) => metadata.offset)).toEqual(Array.from({ length: 12 }, (_, offset) => offset));
      await producer.close();
      expect(cluster.logs[0]).toEqual(Array.from({ length: 12 }, (_, index) => `v${index}`));
      expect(cluster.outstandingMax[0]).toBe(expected);
    }
  });

  it('keeps the smaller of the option and the window the brokers allow', async () => {
    for (const [option, brokerWindow, expected] of [[2, 5, 2], [5, 3, 3]] as const) {
      const cluster = new ScriptedCluster([], brokerWindow);
      cluster.hold();
      const producer = new Producer({ bootstrap, lingerMs: 0, batchRecordsMax: 1, maxInFlightBatchesPerPartition: option, ...fastRetries }, cluster.links());
      const sent = Promise.all(sendEach(producer, 1, 8));
      await turnsUntil(() => cluster.outstanding[1] === expected);
      for (let turn = 0; turn < 50; turn++) await nextTurn();
      cluster.release();
      await sent;
      await producer.close();
      expect(cluster.outstandingMax[1]).toBe(expected);
    }
  });

  it('resends the batches behind a refused one in order, without a new epoch, when they meet OUT_OF_ORDER_SEQUENCE', async () => {
    const cluster = new ScriptedCluster(['notLeaderBriefly']);
    cluster.hold();
    const producer = new Producer({ bootstrap, lingerMs: 0, batchRecordsMax: 1, ...fastRetries }, cluster.links());
    const sent = Promise.all(sendEach(producer, 0, 5));
    await turnsUntil(() => cluster.outstanding[0] === 5);
    cluster.release();
    expect((await sent).map((metadata) => metadata.offset)).toEqual([0, 1, 2, 3, 4]);
    await producer.close();
    expect(cluster.logs[0]).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    expect(cluster.initProducerIdCalls).toBe(1);
  });

  it('answers the retry of a stored batch with its offsets while the batches behind it were stored after it', async () => {
    const cluster = new ScriptedCluster(['appendedThenTimeout']);
    cluster.hold();
    const producer = new Producer({ bootstrap, lingerMs: 0, batchRecordsMax: 1, ...fastRetries }, cluster.links());
    const sent = Promise.all(sendEach(producer, 2, 5));
    await turnsUntil(() => cluster.outstanding[2] === 5);
    cluster.release();
    expect((await sent).map((metadata) => metadata.offset)).toEqual([0, 1, 2, 3, 4]);
    await producer.close();
    expect(cluster.logs[2]).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('after a batch in the middle of the window fails for good, moves to a new epoch and stores the ones behind it in order', async () => {
    const cluster = new ScriptedCluster(['none', 'corrupt']);
    cluster.hold();
    const producer = new Producer({ bootstrap, lingerMs: 0, batchRecordsMax: 1, ...fastRetries }, cluster.links());
    const sent = sendEach(producer, 0, 5);
    await turnsUntil(() => cluster.outstanding[0] === 5);
    cluster.release();
    const outcomes = await Promise.allSettled(sent);
    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.offset : TributaryError.from(outcome.reason).code))).toEqual([0, 'CORRUPT_RECORD', 1, 2, 3]);
    await producer.close();
    expect(cluster.logs[0]).toEqual(['v0', 'v2', 'v3', 'v4']);
    expect(cluster.initProducerIdCalls).toBe(2);
  });

  it('sends no batch of a new epoch while older batches of its partition are unacknowledged, so a retry of one is not fenced', async () => {
    // Processing order: x0 fails for good, x1 meets UNKNOWN_PRODUCER_ID and goes again in epoch 1, then a0 (epoch 0) is refused once.
    const cluster = new ScriptedCluster(['corrupt', 'none', 'none', 'notEnoughReplicas']);
    cluster.hold([1]);
    const producer = new Producer({ bootstrap, lingerMs: 0, ...fastRetries }, cluster.links());
    const first = producer.sendRecord('t', { value: 'a0', partition: 1 });
    await turnsUntil(() => cluster.outstanding[1] === 1);
    await expect(producer.sendRecord('t', { value: 'x0', partition: 0 })).rejects.toThrow('crc mismatch');
    await expect(producer.sendRecord('t', { value: 'x1', partition: 0 })).resolves.toMatchObject({ offset: 0 });
    expect(cluster.initProducerIdCalls).toBe(2);
    // Stamped in epoch 1 at sequence 0: were it sent now, a leader would take it before a0's retry and then fence a0.
    const second = producer.sendRecord('t', { value: 'a1', partition: 1 });
    for (let turn = 0; turn < 50; turn++) await nextTurn();
    expect(cluster.outstanding[1]).toBe(1);
    cluster.release();
    await expect(Promise.all([first, second])).resolves.toMatchObject([{ offset: 0 }, { offset: 1 }]);
    await producer.close();
    expect(cluster.logs[1]).toEqual(['a0', 'a1']);
  });

  it('refuses a window outside 1 to 5, naming the value', () => {
    for (const window of [0, 6, 1.5]) {
      expect(() => new Producer({ bootstrap, maxInFlightBatchesPerPartition: window })).toThrow(`option maxInFlightBatchesPerPartition must be an integer from 1 to 5 (leaders remember a producer's last 5 batches per partition), got ${window}`);
    }
    expect(inFlightBatchesPerPartitionMax).toBe(producerBatchesCachedMax);
  });

  it('fails the records of a batch that met a non-retriable error, naming the partition, and delivers the rest', async () => {
    const cluster = new ScriptedCluster(['corrupt']);
    const producer = new Producer({ bootstrap: ['controller:1'], lingerMs: 0, ...fastRetries }, cluster.links());
    const first = producer.sendRecord('t', { value: 'a', partition: 1 });
    await expect(first).rejects.toThrow('batch of 1 records for partition t-1 not delivered: crc mismatch (CORRUPT_RECORD is not retriable)');
    // The failed batch took sequence 0, so the leader does not know the next one: the producer bumps its epoch and starts over at 0.
    await expect(producer.sendRecord('t', { value: 'b', partition: 1 })).resolves.toMatchObject({ partition: 1, offset: 0 });
    await producer.close();
    expect(cluster.logs[1]).toEqual(['b']);
    expect(cluster.initProducerIdCalls).toBe(2);
  });

  it('without idempotence a lost answer writes a batch twice; with it (the default for acks all) exactly once', async () => {
    for (const idempotent of [false, true]) {
      const cluster = new ScriptedCluster(['appendedThenTimeout']);
      const producer = new Producer({ bootstrap: ['controller:1'], lingerMs: 0, ...fastRetries, ...(idempotent ? {} : { idempotent: false }) }, cluster.links());
      // The retry's answer is where the record is: the original's offset, or the copy's.
      await expect(producer.sendRecord('t', { value: 'a', partition: 2 })).resolves.toMatchObject({ offset: idempotent ? 0 : 1 });
      await producer.close();
      expect(cluster.logs[2]).toEqual(idempotent ? ['a'] : ['a', 'a']);
    }
  });

  it('starts a new epoch when the leaders forgot the producer, and goes on exactly once', async () => {
    const cluster = new ScriptedCluster([]);
    const producer = new Producer({ bootstrap: ['controller:1'], lingerMs: 0, ...fastRetries }, cluster.links());
    await producer.sendRecord('t', { value: 'a', partition: 0 });
    cluster.expireProducers();
    await expect(producer.sendRecord('t', { value: 'b', partition: 0 })).resolves.toMatchObject({ offset: 1 });
    await expect(producer.sendRecord('t', { value: 'c', partition: 0 })).resolves.toMatchObject({ offset: 2 });
    await producer.close();
    expect(cluster.logs[0]).toEqual(['a', 'b', 'c']);
    expect(cluster.initProducerIdCalls).toBe(2);
  });

  it('refuses idempotence without acks all, naming both options', () => {
    expect(() => new Producer({ bootstrap: ['controller:1'], acks: 'leader', idempotent: true })).toThrow('option idempotent needs acks "all", got acks "leader"');
  });

  it('gives up after retriesMax retries with the last error, and routes the next batch by fresh metadata', async () => {
    const cluster = new ScriptedCluster(['notEnoughReplicas', 'notEnoughReplicas', 'notEnoughReplicas']);
    const producer = new Producer({ bootstrap: ['controller:1'], lingerMs: 0, ...fastRetries, retriesMax: 2 }, cluster.links());
    await expect(producer.sendRecord('t', { value: 'a', partition: 0 })).rejects.toThrow('batch of 1 records for partition t-0 not delivered: isr below min (gave up after 3 attempts (retriesMax 2))');
    await expect(producer.sendRecord('t', { value: 'b', partition: 0 })).resolves.toMatchObject({ offset: 0 });
    await producer.close();
    expect(cluster.metadataLookups).toBe(1);
  });
});
