import { EventEmitter } from 'node:events';
import { type ClientDuplexStream, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TributaryError } from '../../../src/errors/index.js';
import { toErrorDetail } from '../../../src/rpc/error-status.js';
import { ProduceStreamChannel } from '../../../src/rpc/clients/produce-stream-channel.js';
import { Acks, type ProduceStreamRequest, type ProduceStreamResponse } from '../../../src/rpc/generated/tributary/client/v1/producer_service.js';
import { batchOf } from '../../support/data-plane-calls.js';

/** The client side of one ProduceStream call as grpc-js hands it out: what was written, and the broker's side scripted. */
class ScriptedCall extends EventEmitter {
  readonly written: ProduceStreamRequest[] = [];
  cancelled = false;

  write(request: ProduceStreamRequest): boolean {
    this.written.push(request);
    return true;
  }

  cancel(): void {
    this.cancelled = true;
  }

  /** Correlation ids of the appends written so far. */
  appended(): number[] {
    return this.written.flatMap((request) => (request.kind?.$case === 'append' ? [request.kind.value.correlationId] : []));
  }

  opened(maxInFlightRequests: number): void {
    this.emit('data', { kind: { $case: 'opened', value: { maxInFlightRequests, maxInFlightBytes: 1024 * 1024, nodeId: 1 } } });
  }

  result(correlationId: number, baseOffset: number): void {
    this.emit('data', { kind: { $case: 'result', value: { correlationId, result: { topicPartition: undefined, error: undefined, baseOffset, logAppendTimeMs: 5, logStartOffset: 0, duplicate: false } } } });
  }

  /** The call ends with a gRPC status, as grpc-js reports it: 'error' first for a failure, then 'status'. */
  ended(code: GrpcStatus, details: string): void {
    if (code !== GrpcStatus.OK) this.emit('error', Object.assign(new Error(details), { code, details, metadata: new Metadata() }));
    this.emit('status', { code, details, metadata: new Metadata() });
  }
}

const timeouts = { openTimeoutMs: 1_000, resultTimeoutMs: 5_000, idleCloseMs: 3_000 };

function openChannel(queuedMax = 100) {
  const call = new ScriptedCall();
  const channel = new ProduceStreamChannel(call as unknown as ClientDuplexStream<ProduceStreamRequest, ProduceStreamResponse>, {
    address: 'broker-1:7101', clientId: 'test', acks: Acks.ALL, ackTimeoutMs: 3_000, queuedMax, ...timeouts,
  });
  const outcomes: Array<number | string> = [];
  const append = (value = 'v') => {
    const index = outcomes.length;
    outcomes.push('pending');
    void channel.append({ topicPartition: { topic: 'orders', partition: 0 }, batch: batchOf([value]), currentLeaderEpoch: 0 }).then(
      (produced) => (outcomes[index] = produced.baseOffset),
      (error: TributaryError) => (outcomes[index] = `${error.code}${error.retriable ? ' (retriable)' : ''}: ${error.message}`),
    );
  };
  return { call, channel, outcomes, append };
}

/** Lets promise callbacks run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('ProduceStreamChannel', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends open with the acks and a request header first, holds appends until opened, then sends them in call order', async () => {
    const { call, append, outcomes } = openChannel();
    expect(call.written[0]).toMatchObject({ kind: { $case: 'open', value: { acks: Acks.ALL, timeoutMs: 3_000 } }, header: { clientId: 'test' } });
    append();
    append();
    append();
    expect(call.appended()).toEqual([]);
    call.opened(2);
    expect(call.appended()).toEqual([1, 2]);
    call.result(2, 11);
    expect(call.appended()).toEqual([1, 2, 3]);
    call.result(1, 10);
    call.result(3, 12);
    await settle();
    expect(outcomes).toEqual([10, 11, 12]);
  });

  it('rejects an append with the error its result carries and stays usable', async () => {
    const { call, channel, append, outcomes } = openChannel();
    call.opened(10);
    append();
    append();
    const notLeader = toErrorDetail(new TributaryError('NOT_LEADER', 'partition "orders-0" is led by broker 2', { leaderHint: { nodeId: 2, address: 'broker-2:7101', epoch: 4 } }));
    call.emit('data', { kind: { $case: 'result', value: { correlationId: 1, result: { error: notLeader, baseOffset: 0, logAppendTimeMs: 0, logStartOffset: 0, duplicate: false } } } });
    call.result(2, 7);
    await settle();
    expect(outcomes).toEqual(['NOT_LEADER (retriable): partition "orders-0" is led by broker 2', 7]);
    expect(channel.usable).toBe(true);
  });

  it('fails every append it holds, retriable and with the broker\'s code, when the call fails after opened', async () => {
    const { call, channel, append, outcomes } = openChannel();
    call.opened(1);
    append();
    append();
    call.ended(GrpcStatus.RESOURCE_EXHAUSTED, 'window broken');
    await settle();
    expect(outcomes).toEqual(['RESOURCE_EXHAUSTED (retriable): window broken', 'RESOURCE_EXHAUSTED (retriable): window broken']);
    expect(channel.usable).toBe(false);
    append();
    await settle();
    expect(outcomes[2]).toBe('RESOURCE_EXHAUSTED (retriable): window broken');
  });

  it('keeps a final refusal final when the call fails before opened: a new stream would be refused alike', async () => {
    const { call, append, outcomes } = openChannel();
    append();
    call.ended(GrpcStatus.UNAUTHENTICATED, 'no token');
    await settle();
    expect(outcomes).toEqual(['UNAUTHENTICATED: no token']);
  });

  it('fails the stream on an end it did not ask for, and on a result for an id not in flight', async () => {
    const ended = openChannel();
    ended.call.opened(10);
    ended.append();
    ended.call.ended(GrpcStatus.OK, '');
    const unknown = openChannel();
    unknown.call.opened(10);
    unknown.append();
    unknown.call.result(9, 0);
    await settle();
    expect(ended.outcomes).toEqual(['NOT_AVAILABLE (retriable): the broker at broker-1:7101 ended the produce stream']);
    expect(unknown.outcomes).toEqual(['NOT_AVAILABLE (retriable): the broker at broker-1:7101 sent a result for correlation id 9, which is not in flight']);
    expect(unknown.call.cancelled).toBe(true);
  });

  it('fails the stream when opened is late, or when a result is late, with every append it holds', async () => {
    const unopened = openChannel();
    unopened.append();
    await vi.advanceTimersByTimeAsync(timeouts.openTimeoutMs);
    expect(unopened.outcomes).toEqual(['TIMEOUT (retriable): the broker at broker-1:7101 did not open the produce stream within 1000 ms']);

    const { call, channel, append, outcomes } = openChannel();
    call.opened(1);
    append();
    await vi.advanceTimersByTimeAsync(1_000);
    append();
    await vi.advanceTimersByTimeAsync(timeouts.resultTimeoutMs - 1_001);
    expect(channel.usable).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    const late = 'TIMEOUT (retriable): the broker at broker-1:7101 did not answer append 1 within 5000 ms; its outcome is unknown';
    expect(outcomes).toEqual([late, late]);
    expect([channel.usable, call.cancelled]).toEqual([false, true]);
  });

  it('refuses an append beyond the local queue, closes itself when idle, and close() fails what it holds', async () => {
    const full = openChannel(1);
    full.append();
    full.append();
    await settle();
    expect(full.outcomes[1]).toBe('RESOURCE_EXHAUSTED (retriable): 1 appends already wait for the produce stream\'s window; the queue holds at most 1, so retry after results arrive');

    const idle = openChannel();
    idle.call.opened(10);
    idle.append();
    idle.call.result(1, 0);
    await vi.advanceTimersByTimeAsync(timeouts.idleCloseMs - 1);
    expect(idle.channel.usable).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect([idle.channel.usable, idle.call.cancelled]).toEqual([false, true]);

    const closed = openChannel();
    closed.append();
    closed.channel.close();
    await settle();
    expect(closed.outcomes).toEqual(['NOT_AVAILABLE (retriable): the produce stream to broker-1:7101 was closed before the append\'s result arrived']);
    expect(closed.call.cancelled).toBe(true);
  });
});
