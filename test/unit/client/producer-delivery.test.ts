import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Producer, type ProducerLinks, type RecordMetadata, TributaryError } from '../../../src/client/index.js';
import { producerBatchesCachedMax, ProducerStateTable } from '../../../src/broker/index.js';
import type { ProduceBatchInput, ProducedBatch } from '../../../src/rpc/clients/index.js';
import { brokerAddress, topicLookup } from '../../support/topic-lookups.js';

type Fault = 'none' | 'moveLeader' | 'moveLeaderWithoutHint' | 'notEnoughReplicas' | 'unavailable' | 'staleEpoch' | 'corrupt' | 'appendedThenTimeout';

const partitionCount = 3;

/**
 * Two brokers as the producer sees them, driven by a scripted list of faults (one per Produce):
 * leaders that move with a NOT_LEADER hint, retriable refusals, stale epochs, one non-retriable
 * failure, and an append whose answer is lost (TIMEOUT after the batch was stored). Idempotent
 * batches go through the real ProducerStateTable of each partition. It checks the producer's
 * promise: at most one batch in flight per partition.
 */
class ScriptedCluster {
  readonly logs = Array.from({ length: partitionCount }, () => [] as string[]);
  private producers = this.freshProducerTables();
  private nextProducerId = 1;
  initProducerIdCalls = 0;
  readonly leaders = Array.from({ length: partitionCount }, () => ({ nodeId: 1, epoch: 1 }));
  private readonly inFlight = new Set<number>();
  /** Partitions whose other broker does not know the leader: it answers NOT_LEADER without a hint. */
  private readonly hintless = new Set<number>();
  metadataLookups = 0;

  constructor(private readonly faults: Fault[]) {}

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
          return Promise.resolve({ ...identity, maxInFlightBatchesPerPartition: producerBatchesCachedMax });
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
    if (this.inFlight.has(input.partition)) throw new Error(`two batches in flight for partition ${input.partition}`);
    this.inFlight.add(input.partition);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      return this.answer(address, input);
    } finally {
      this.inFlight.delete(input.partition);
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

const fastRetries = { backoffMsMin: 1, backoffMsMax: 2, retriesMax: 50 };

describe('Producer delivery', () => {
  it('acknowledges every record at the offset it has in its partition, in send order, through moving leaders and retriable failures', async () => {
    const faults = fc.array(fc.constantFrom<Fault>('none', 'none', 'moveLeader', 'moveLeaderWithoutHint', 'notEnoughReplicas', 'unavailable', 'staleEpoch', 'appendedThenTimeout'), { maxLength: 40 });
    const sends = fc.array(fc.record({ partition: fc.option(fc.integer({ min: 0, max: partitionCount - 1 }), { nil: undefined }), key: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }) }), { minLength: 1, maxLength: 40 });
    await fc.assert(fc.asyncProperty(faults, sends, fc.integer({ min: 1, max: 300 }), async (script, records, batchBytesMax) => {
      const cluster = new ScriptedCluster([...script]);
      const producer = new Producer({ bootstrap: ['controller:1'], lingerMs: 1, batchBytesMax, ...fastRetries, random: () => 0.5 }, cluster.links());
      const sent = await Promise.all(records.map((record, index) => producer.sendRecord('t', { ...record, value: `v${index}` })));
      await producer.close();
      for (let partition = 0; partition < partitionCount; partition++) {
        const mine = sent.flatMap((metadata: RecordMetadata, index) => (metadata.partition === partition ? [{ offset: metadata.offset, value: `v${index}` }] : []));
        expect(mine.map((record) => record.offset)).toEqual(mine.map((_, offset) => offset));
        expect(cluster.logs[partition]).toEqual(mine.map((record) => record.value));
      }
      records.forEach((record, index) => {
        if (record.partition !== undefined) expect(sent[index]?.partition).toBe(record.partition);
      });
    }), { numRuns: 60 });
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
