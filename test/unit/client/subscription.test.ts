import { describe, expect, it } from 'vitest';
import { Subscription, type SubscriptionLinks } from '../../../src/client/index.js';
import { TributaryError } from '../../../src/errors/index.js';
import { drainedGrantDelayMs } from '../../../src/client/subscription-credit.js';
import type { SubscribedRecords, SubscriptionHandlers } from '../../../src/rpc/clients/consumer-client.js';

/** A broker side the test drives: it hands the Subscription messages and records the grants. */
class ScriptedBroker implements SubscriptionLinks {
  handlers: SubscriptionHandlers | undefined;
  readonly grants: number[] = [];
  /** pause and resume calls on the transport, in order. */
  readonly transport: string[] = [];
  cancelled = false;

  subscribe(_address: string, _input: unknown, handlers: SubscriptionHandlers) {
    this.handlers = handlers;
    handlers.started({ subscriptionId: 'sub-1', windowBytes: 100, nodeId: 1 });
    return { pause: () => this.transport.push('pause'), resume: () => this.transport.push('resume'), cancel: () => (this.cancelled = true) };
  }

  grantCredit(_address: string, input: { consumedBytes: number }) {
    this.grants.push(input.consumedBytes);
    return Promise.resolve({ sentBytes: input.consumedBytes, consumedBytes: input.consumedBytes, windowBytes: 100 });
  }

  close(): void {}

  send(partition: number, offsets: number[], chargedBytes: number, error?: TributaryError): void {
    const records = offsets.map((offset) => ({ offset, key: undefined, value: new Uint8Array([offset]), timestampMs: 0, headers: [] }));
    const message: SubscribedRecords = { topic: 'orders', partition, records, chargedBytes, error, highWatermark: 0, logStartOffset: 0 };
    this.handlers?.records(message);
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function open(offsets: Record<number, number> = { 0: 0 }) {
  const broker = new ScriptedBroker();
  const partitions = Object.entries(offsets).map(([partition, offset]) => ({ topic: 'orders', partition: Number(partition), offset }));
  const ends: unknown[] = [];
  const subscription = new Subscription({ broker: '127.0.0.1:1', partitions, onPartitionEnd: (end) => ends.push(end.nextOffset) }, broker);
  return { broker, subscription, ends };
}

describe('Subscription (SDK)', () => {
  it('skips records below the start offset and returns credit only once the application took a message', async () => {
    const { broker, subscription } = open({ 0: 2 });
    broker.send(0, [0, 1, 2, 3], 30);
    broker.send(0, [4], 10);
    await settle();
    expect(broker.grants).toEqual([]);
    expect((await subscription.next())?.offset).toBe(2);
    expect((await subscription.next())?.offset).toBe(3);
    await settle();
    expect(broker.grants).toEqual([]);
    // Coming back for more after offset 3 consumed the first message; the queue is not empty yet.
    expect((await subscription.next())?.offset).toBe(4);
    await settle();
    expect(broker.grants).toEqual([]);
    const waiting = subscription.next();
    await settle();
    // Everything received is consumed: the running total goes back once drainedGrantDelayMs passed.
    expect(broker.grants).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, drainedGrantDelayMs + 5));
    expect(broker.grants).toEqual([40]);
    broker.send(0, [5], 10);
    expect((await waiting)?.offset).toBe(5);
    expect(subscription.position('orders', 0)).toBe(6);
  });

  it('pauses the transport while a window of data waits unconsumed, should the broker break the credit rules', async () => {
    const { broker, subscription } = open();
    broker.send(0, [0], 60);
    expect(broker.transport).toEqual([]);
    broker.send(0, [1], 60);
    expect(broker.transport).toEqual(['pause']);
    expect((await subscription.next())?.offset).toBe(0);
    expect((await subscription.next())?.offset).toBe(1);
    expect(broker.transport).toEqual(['pause', 'resume']);
  });

  it('reports partition ends in stream order and finishes when the stream ends OK', async () => {
    const { broker, subscription, ends } = open({ 0: 0, 1: 0 });
    broker.send(0, [0], 10);
    broker.handlers?.partitionEnd({ topic: 'orders', partition: 0, error: new TributaryError('NOT_LEADER', 'moved'), nextOffset: 1, logStartOffset: 0, highWatermark: 1 });
    broker.send(1, [0], 10);
    broker.handlers?.ended(undefined);
    const offsets: Array<[number, number]> = [];
    for await (const record of subscription) offsets.push([record.partition, record.offset]);
    expect(offsets).toEqual([[0, 0], [1, 0]]);
    expect(ends).toEqual([1]);
    expect(subscription.ends.map((end) => end.error.code)).toEqual(['NOT_LEADER']);
  });

  it('delivers what arrived before a stream error, then throws it; a bad batch fails the subscription after the records before it', async () => {
    const failed = open();
    failed.broker.send(0, [0], 10);
    failed.broker.handlers?.ended(new TributaryError('SHUTTING_DOWN', 'broker 1 is shutting down'));
    expect((await failed.subscription.next())?.offset).toBe(0);
    await expect(failed.subscription.next()).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    const corrupt = open();
    corrupt.broker.send(0, [0, 1], 10, new TributaryError('CORRUPT_RECORD', 'batch at offset 2 failed its CRC32C'));
    corrupt.broker.send(0, [5], 10);
    expect((await corrupt.subscription.next())?.offset).toBe(0);
    expect((await corrupt.subscription.next())?.offset).toBe(1);
    await expect(corrupt.subscription.next()).rejects.toMatchObject({ code: 'CORRUPT_RECORD' });
    expect([corrupt.broker.cancelled, corrupt.subscription.position('orders', 0)]).toEqual([true, 2]);
  });
});
