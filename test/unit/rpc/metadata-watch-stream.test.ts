import { EventEmitter } from 'node:events';
import type { ServerWritableStream, ServiceError, StatusObject } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/actors/clock.js';
import { MetadataDeltaFeed } from '../../../src/actors/metadata-controller/metadata-delta-feed.js';
import { applyMetadataCommand, createMetadataState, type MetadataState } from '../../../src/controller/index.js';
import { fromGrpcError } from '../../../src/rpc/error-status.js';
import type { WatchMetadataRequest, WatchMetadataResponse } from '../../../src/rpc/generated/tributary/controller/v1/controller_broker_service.js';
import {
  createWireRecordCache, MetadataWatchStream, watchBacklogMessagesMax, watchCatchUpTimeoutMs, watchMessageBytesMin, watchStalenessMsMax,
} from '../../../src/rpc/services/metadata-watch-stream.js';

/** A clock the test moves by hand. */
class ManualClock implements Clock {
  private now = 1_000;
  private timers: Array<{ atMs: number; callback: () => void }> = [];

  nowMs(): number {
    return this.now;
  }

  setTimer(delayMs: number, callback: () => void): () => void {
    const timer = { atMs: this.now + delayMs, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((other) => other !== timer);
    };
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.atMs <= until).sort((left, right) => left.atMs - right.atMs)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.now = due.atMs;
      due.callback();
    }
    this.now = until;
  }
}

/** A server stream whose writes the test flushes (or never does, like a watcher that stopped reading). */
class FakeCall extends EventEmitter {
  readonly written: WatchMetadataResponse[] = [];
  readonly flushes: Array<() => void> = [];
  failure: StatusObject | undefined;

  constructor(readonly request: WatchMetadataRequest) {
    super();
    this.on('error', (status: StatusObject) => {
      this.failure = status;
    });
  }

  write(message: WatchMetadataResponse, flushed: () => void): boolean {
    this.written.push(message);
    this.flushes.push(flushed);
    return true;
  }
}

function harness(options: { addressBytes?: number } = {}) {
  const state: MetadataState = createMetadataState();
  const feed = new MetadataDeltaFeed(() => state, 10_000, 16);
  const clock = new ManualClock();
  let index = 0;
  const register = (brokerId: number): void => {
    index += 1;
    const address = `${'h'.repeat(options.addressBytes ?? 1)}:${brokerId}`;
    const command = { type: 'registerBroker', brokerId, address, rack: '', incarnationId: `i-${index}`, nowMs: 0, sessionTimeoutMs: 1_000 } as const;
    const { deltas } = applyMetadataCommand(state, command, index);
    feed.applied(deltas, index);
  };
  const staleness = { ms: 0 };
  const source = { nodeId: 1, feed, get state() { return state; }, leaderHint: () => ({ nodeId: 1, address: '127.0.0.1:1', epoch: 3 }), stalenessMs: () => staleness.ms };
  const open = (request: Partial<WatchMetadataRequest>): FakeCall => {
    const call = new FakeCall({ header: undefined, nodeId: 0, incarnationEpoch: 0, fromVersion: 0, maxMessageBytes: 0, heartbeatIntervalMs: 100, clusterId: '', ...request });
    const settings = { source, clock, clusterId: 'test', serverMessageBytesMax: 16 * 1024 * 1024, shutdownSignal: undefined, encode: createWireRecordCache() };
    new MetadataWatchStream(call as unknown as ServerWritableStream<WatchMetadataRequest, WatchMetadataResponse>, settings).start();
    return call;
  };
  return { state, clock, register, open, staleness };
}

function failureOf(call: FakeCall) {
  if (call.failure === undefined) return undefined;
  return fromGrpcError({ ...call.failure, message: call.failure.details } as ServiceError);
}

describe('MetadataWatchStream', () => {
  it('ends a watcher that stops reading once its backlog reaches the bound, naming the version to resume from', () => {
    const { register, open } = harness();
    const call = open({ fromVersion: 0 });
    for (let brokerId = 1; brokerId <= watchBacklogMessagesMax + 10; brokerId++) register(brokerId);
    expect(call.written).toHaveLength(watchBacklogMessagesMax);
    // The image at version 0, then one delta run per registration: the last one sent reached version 255.
    expect(failureOf(call)).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retriable: true });
    expect(failureOf(call)?.message).toMatch(/^metadata watcher fell behind: 256 messages \(\d+ bytes\) unread, at most 256 \(67108864 bytes\); resume from version 255$/);
  });

  it('keeps a watcher whose messages are flushed as they go', () => {
    const { register, open } = harness();
    const call = open({ fromVersion: 0 });
    for (let brokerId = 1; brokerId <= watchBacklogMessagesMax + 10; brokerId++) {
      register(brokerId);
      for (const flushed of call.flushes.splice(0)) flushed();
    }
    expect(call.failure).toBeUndefined();
    expect(call.written).toHaveLength(watchBacklogMessagesMax + 11);
  });

  it('waits for this controller to reach a version the watcher already has, then sends only what follows', () => {
    const { register, open, clock } = harness();
    register(1);
    const call = open({ fromVersion: 3 });
    register(2);
    register(3);
    clock.advance(1_000);
    expect(call.written).toEqual([]);
    register(4);
    expect(call.written[0]?.kind).toMatchObject({ $case: 'deltas', value: { prevVersion: 3, version: 4, more: false } });
    clock.advance(200);
    expect(call.written.at(-1)?.kind).toMatchObject({ $case: 'heartbeat', value: { version: 4, leaderId: 1, term: 3 } });
  });

  it('gives up with NOT_AVAILABLE when this controller does not reach the version in time', () => {
    const { open, clock } = harness();
    const call = open({ fromVersion: 50 });
    clock.advance(watchCatchUpTimeoutMs + 500);
    expect(failureOf(call)).toMatchObject({ code: 'NOT_AVAILABLE', message: `controller 1 has not reached metadata version 50 within ${watchCatchUpTimeoutMs} ms; watch from another controller` });
  });

  it('ends its streams once this controller has lost touch with the leader', () => {
    const { open, clock, staleness } = harness();
    const call = open({ fromVersion: 0 });
    clock.advance(1_000);
    expect(call.failure).toBeUndefined();
    staleness.ms = watchStalenessMsMax + 1;
    clock.advance(250);
    expect(failureOf(call)).toMatchObject({ code: 'NOT_AVAILABLE', retriable: true });
    expect(failureOf(call)?.message).toContain(`has not heard from a controller leader for over ${watchStalenessMsMax} ms`);
  });

  it('splits an image into chunks of at most max_message_bytes, the last one marked', () => {
    const { register, open } = harness({ addressBytes: 240 });
    for (let brokerId = 1; brokerId <= 1_000; brokerId++) register(brokerId);
    const call = open({ fromVersion: 0, maxMessageBytes: 1 });
    const chunks = call.written.map((message) => (message.kind?.$case === 'snapshot' ? message.kind.value : undefined));
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.map((chunk) => chunk?.last)).toEqual([...chunks.slice(1).map(() => false), true]);
    expect(chunks.reduce((sum, chunk) => sum + (chunk?.records.length ?? 0), 0)).toBe(1_001);
    for (const chunk of chunks) expect(chunk?.records.length ?? 0).toBeLessThanOrEqual(Math.ceil(watchMessageBytesMin / 240));
    expect(chunks[0]?.clusterId).toBe('test');
  });

  it('refuses a watcher of another cluster', () => {
    const { open } = harness();
    const call = open({ clusterId: 'other' });
    expect(failureOf(call)).toMatchObject({ code: 'INVALID_REQUEST', message: 'WatchMetadata for cluster "other" reached cluster "test"; check the controller addresses' });
  });
});
