import { EventEmitter } from 'node:events';
import type { ServerDuplexStream, StatusObject } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { fromErrorDetail } from '../../../src/rpc/error-status.js';
import { ErrorDetail } from '../../../src/rpc/generated/tributary/common/v1/common.js';
import { Acks, type ProduceStreamRequest, type ProduceStreamResponse } from '../../../src/rpc/generated/tributary/client/v1/producer_service.js';
import type { BrokerServiceSettings } from '../../../src/rpc/services/broker-service-settings.js';
import { PartitionBatchAppender } from '../../../src/rpc/services/partition-batch-appender.js';
import { ProduceStream } from '../../../src/rpc/services/produce-stream.js';
import { batchOf } from '../../support/data-plane-calls.js';
import { registerProduceResults } from '../../../src/rpc/services/produce-results.js';
import { createMetricsRegistry } from '../../../src/observability/index.js';
import { ServedPartitions, untilQuiet, withFollower } from '../../support/served-partitions.js';

/** The server side of one ProduceStream call, as grpc-js hands it to the handler: what was written, how it ended. */
class RecordedCall extends EventEmitter {
  readonly written: ProduceStreamResponse[] = [];
  endedOk = false;
  failure: StatusObject | undefined;

  constructor() {
    super();
    this.on('error', (status: StatusObject) => {
      this.failure ??= status;
    });
  }

  write(message: ProduceStreamResponse): boolean {
    this.written.push(message);
    return true;
  }

  end(): void {
    this.endedOk = true;
  }

  /** The TributaryError the stream was ended with, as a client decodes it from the trailer. */
  error() {
    const trailer = this.failure?.metadata?.get('tributary-error-bin')[0];
    return trailer instanceof Buffer ? fromErrorDetail(ErrorDetail.decode(trailer)) : undefined;
  }

  results(): Array<[number, number | string]> {
    return this.written.flatMap((response) => {
      if (response.kind?.$case !== 'result') return [];
      const { correlationId, result } = response.kind.value;
      return [[correlationId, result?.error?.message ?? result?.baseOffset ?? -1]];
    });
  }
}

async function openStream(settings: Partial<BrokerServiceSettings> = {}) {
  const served = new ServedPartitions(settings);
  const leaders = [await served.lead(0, withFollower), await served.lead(1, withFollower)];
  const appender = new PartitionBatchAppender({ partitions: served.partitions, settings: served.settings, clock: served.clock, logger: served.log.logger, results: registerProduceResults(createMetricsRegistry()) });
  const call = new RecordedCall();
  new ProduceStream(call as unknown as ServerDuplexStream<ProduceStreamRequest, ProduceStreamResponse>, { partitions: served.partitions, appender, settings: served.settings }).start();
  const send = (request: ProduceStreamRequest) => call.emit('data', request);
  send({ header: undefined, kind: { $case: 'open', value: { acks: Acks.ALL, timeoutMs: 0 } } });
  const append = (correlationId: number, partition: number, values: string[] = [`v${correlationId}`]) =>
    send({ header: undefined, kind: { $case: 'append', value: { correlationId, partitionBatch: { topicPartition: { topic: 'orders', partition }, batch: batchOf(values), currentLeaderEpoch: 0 } } } });
  /** The follower catches up on every partition: acks=all appends are answered. */
  const replicate = async () => {
    await untilQuiet();
    for (const leader of leaders) leader.followerFetched(2, { fetchOffset: leader.logEndOffset(), durableEndOffset: leader.logEndOffset() });
    await untilQuiet();
  };
  return { served, call, send, append, replicate };
}

describe('ProduceStream', () => {
  it('opens with the window and answers each partition in request order, even when a later request fails first', async () => {
    const { call, send, append, replicate } = await openStream();
    expect(call.written[0]?.kind).toEqual({ $case: 'opened', value: { maxInFlightRequests: 256, maxInFlightBytes: 32 * 1024 * 1024, nodeId: 1 } });
    append(1, 0);
    append(2, 1);
    const damaged = batchOf(['bad']);
    send({ header: undefined, kind: { $case: 'append', value: { correlationId: 3, partitionBatch: { topicPartition: { topic: 'orders', partition: 0 }, batch: { ...damaged, crc32c: (damaged.crc32c ^ 1) >>> 0 }, currentLeaderEpoch: 0 } } } });
    await untilQuiet();
    // Append 3 failed at once, but its result waits for append 1's: acks=all holds that one.
    expect(call.results()).toEqual([]);
    await replicate();
    const results = call.results();
    expect(results.filter(([id]) => id !== 2)).toEqual([[1, 0], [3, expect.stringMatching(/^batch of 1 records for partition "orders-0": CRC32C/) as unknown as string]]);
    expect(results.find(([id]) => id === 2)).toEqual([2, 0]);
  });

  it('ends the stream with RESOURCE_EXHAUSTED when the client breaks the window of requests', async () => {
    const { call, append } = await openStream({ streamInFlightRequestsMax: 2 });
    append(1, 0);
    append(2, 1);
    append(3, 0);
    expect(call.error()).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retriable: false, message: 'append 3 would be request 3 in flight; the window is 2 requests, so wait for results first' });
  });

  it('allows one request above the byte window alone, and ends the stream when another joins it', async () => {
    const { call, append, replicate } = await openStream({ streamInFlightBytesMax: 10 });
    append(1, 0, ['a'.repeat(20)]);
    await replicate();
    expect(call.results()).toEqual([[1, 0]]);
    append(2, 0, ['b'.repeat(20)]);
    append(3, 1, ['c']);
    expect(call.error()?.code).toBe('RESOURCE_EXHAUSTED');
    expect(call.error()?.message).toMatch(/^append 3 of \d+ bytes would put \d+ bytes in flight; the window is 10 bytes, so wait for results first$/);
  });

  it('ends the stream with INVALID_REQUEST for a repeated in-flight correlation id, an append before open or a second open', async () => {
    const repeated = await openStream();
    repeated.append(7, 0);
    repeated.append(7, 1);
    expect(repeated.call.error()).toMatchObject({ code: 'INVALID_REQUEST', message: 'correlation_id 7 is already in flight on this stream; use a new id per append' });
    const reopened = await openStream();
    reopened.send({ header: undefined, kind: { $case: 'open', value: { acks: Acks.LEADER, timeoutMs: 0 } } });
    expect(reopened.call.error()?.message).toBe('ProduceStream got a second open; only the first message carries open');
    const unset = await openStream();
    unset.send({ header: undefined, kind: undefined });
    expect(unset.call.error()?.message).toBe('a ProduceStream message carries neither open nor append');
  });

  it('answers what is in flight after a half-close, then ends OK', async () => {
    const { call, append, replicate } = await openStream();
    append(1, 0);
    call.emit('end');
    await untilQuiet();
    expect(call.endedOk).toBe(false);
    await replicate();
    expect(call.results()).toEqual([[1, 0]]);
    expect(call.endedOk).toBe(true);
  });

  it('ends the stream with SHUTTING_DOWN when the server shuts down', async () => {
    const { call, append, served } = await openStream();
    append(1, 0);
    served.shutdown.abort();
    expect(call.error()).toMatchObject({ code: 'SHUTTING_DOWN', message: 'broker 1 is shutting down; 1 appends in flight have an unknown outcome, retry them with the partitions\' leaders' });
  });
});
