import { EventEmitter } from 'node:events';
import type { StatusObject } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { fromErrorDetail } from '../../../src/rpc/error-status.js';
import { ErrorCode, ErrorDetail } from '../../../src/rpc/generated/tributary/common/v1/common.js';
import type { SubscribeRequest, SubscribeResponse } from '../../../src/rpc/generated/tributary/client/v1/consumer_service.js';
import type { BrokerServiceSettings } from '../../../src/rpc/services/broker-service-settings.js';
import { grantCredit } from '../../../src/rpc/services/grant-credit.js';
import { LeaderChanges } from '../../../src/rpc/services/leader-changes.js';
import { type SubscribeCall, type SubscribeContext, SubscribeStream } from '../../../src/rpc/services/subscribe-stream.js';
import { storedBatchFromWire } from '../../../src/rpc/services/record-batch-mapping.js';
import { SubscriptionRegistry } from '../../../src/rpc/services/subscription-registry.js';
import { batchOf } from '../../support/data-plane-calls.js';
import { alone, appendWire, ServedPartitions, untilQuiet } from '../../support/served-partitions.js';

/**
 * The server side of one Subscribe call as grpc-js hands it to the handler: what was written, how
 * it ended, and a transport whose HTTP/2 window the test fills (`write` answers false) and drains.
 */
class RecordedCall extends EventEmitter {
  readonly written: SubscribeResponse[] = [];
  endedOk = false;
  failure: StatusObject | undefined;
  /** Whether the transport takes more: false makes write() answer false, as a full window does. */
  accepting = true;

  constructor(readonly request: SubscribeRequest) {
    super();
    this.on('error', (status: StatusObject) => {
      this.failure ??= status;
    });
  }

  write(message: SubscribeResponse): boolean {
    this.written.push(message);
    return this.accepting;
  }

  end(): void {
    this.endedOk = true;
  }

  drain(): void {
    this.accepting = true;
    this.emit('drain');
  }

  error() {
    const trailer = this.failure?.metadata?.get('tributary-error-bin')[0];
    return trailer instanceof Buffer ? fromErrorDetail(ErrorDetail.decode(trailer)) : undefined;
  }

  subscriptionId(): string {
    const first = this.written[0]?.kind;
    if (first?.$case !== 'started') throw new Error('the first message is not SubscribeStarted');
    return first.value.subscriptionId;
  }

  /** Every SubscribeData as [partition, base offsets, charged bytes]. */
  data(): Array<[number, number[], number]> {
    return this.written.flatMap((response) => (response.kind?.$case === 'data' ? [[response.kind.value.topicPartition?.partition ?? -1, response.kind.value.batches.map((batch) => batch.baseOffset), response.kind.value.chargedBytes] as [number, number[], number]] : []));
  }

  ends() {
    return this.written.flatMap((response) => (response.kind?.$case === 'partitionEnd' ? [response.kind.value] : []));
  }
}

/** A value of `bytes` bytes, so a one-record batch charges a known size plus its record framing. */
const sized = (bytes: number) => 'x'.repeat(bytes);
const chargeOf = (bytes: number) => batchOf([sized(bytes)]).records.byteLength;

async function subscribed(partitions: number[], request: Partial<SubscribeRequest> = {}, settings: Partial<BrokerServiceSettings> = {}) {
  const served = new ServedPartitions(settings);
  const leaders = await Promise.all(partitions.map((partition) => served.lead(partition, alone)));
  const registry = new SubscriptionRegistry({ nodeId: 1, subscriptionsMax: served.settings.subscriptionsMax });
  const context: SubscribeContext = { partitions: served.partitions, settings: served.settings, logger: served.log.logger, clock: served.clock, changes: new LeaderChanges(), registry };
  const open = (principal = 'anonymous') => {
    const call = new RecordedCall({ header: undefined, windowBytes: 0, maxMessageBytes: 0, partitions: partitions.map((partition) => ({ topicPartition: { topic: 'orders', partition }, startOffset: 0, currentLeaderEpoch: 0 })), ...request });
    new SubscribeStream(call as unknown as SubscribeCall, context, principal).start();
    return call;
  };
  const call = open();
  const grant = (consumedBytes: number, windowBytes = 0, principal = 'anonymous', id = call.subscriptionId()) =>
    grantCredit({ header: undefined, subscriptionId: id, consumedBytes, windowBytes }, principal, registry);
  return { served, leaders, registry, call, open, grant };
}

describe('Subscribe', () => {
  it('starts with the id, the granted window and the node, then streams records produced later in order', async () => {
    const { leaders, call } = await subscribed([0], { windowBytes: 5_000 });
    expect(call.written[0]?.kind).toEqual({ $case: 'started', value: { subscriptionId: expect.stringMatching(/^[\w-]{22}$/) as unknown, windowBytes: 5_000, nodeId: 1 } });
    const leader = leaders[0]!;
    await appendWire(leader, batchOf(['a', 'b']));
    await untilQuiet();
    await appendWire(leader, batchOf(['c']));
    await untilQuiet();
    expect(call.data().map(([partition, offsets]) => [partition, offsets])).toEqual([[0, [0]], [0, [2]]]);
  });

  it('serves partitions with data round-robin', async () => {
    const { leaders, call, grant } = await subscribed([0, 1], { maxMessageBytes: 1, windowBytes: 1 });
    for (const leader of leaders) for (let batch = 0; batch < 2; batch += 1) await appendWire(leader, batchOf([`v${batch}`]));
    let consumed = 0;
    for (let message = 1; message <= 4; message += 1) {
      await untilQuiet();
      consumed += call.data().at(-1)?.[2] ?? 0;
      grant(consumed);
    }
    await untilQuiet();
    expect(call.data().map(([partition, offsets]) => [partition, offsets])).toEqual([[0, [0]], [1, [0]], [0, [1]], [1, [1]]]);
  });

  it('never has more than the window outstanding unless one message alone; resumes when credit returns', async () => {
    const charge = chargeOf(100);
    const { leaders, call, grant } = await subscribed([0], { windowBytes: 3 * charge, maxMessageBytes: 2 * charge });
    for (let batch = 0; batch < 10; batch += 1) await appendWire(leaders[0]!, batchOf([sized(100)]));
    await untilQuiet();
    // Each batch goes as it arrives, until the window is full.
    expect(call.data()).toEqual([[0, [0], charge], [0, [1], charge], [0, [2], charge]]);
    expect(grant(charge)).toEqual({ sentBytes: 3 * charge, consumedBytes: charge, windowBytes: 3 * charge });
    await untilQuiet();
    expect(call.data().slice(3)).toEqual([[0, [3], charge]]);
    // With the backlog waiting, messages fill up to max_message_bytes.
    grant(4 * charge, 10 * charge);
    await untilQuiet();
    expect(call.data().slice(4)).toEqual([[0, [4, 5], 2 * charge], [0, [6, 7], 2 * charge], [0, [8, 9], 2 * charge]]);
  });

  it('applies a window shrunk while a read is under way before sending what was read', async () => {
    const charge = chargeOf(100);
    const { leaders, call, grant } = await subscribed([0], { windowBytes: 3 * charge });
    const leader = leaders[0]!;
    await appendWire(leader, batchOf([sized(100)]));
    await appendWire(leader, batchOf([sized(100)]));
    await untilQuiet();
    expect(call.data().length).toBe(2);
    // The next read of the partition ends with a grant shrinking the window below what is outstanding.
    const read = leader.read.bind(leader);
    let shrinkDuringRead = true;
    leader.read = async (fromOffset, maxBytes) => {
      const result = await read(fromOffset, maxBytes);
      if (shrinkDuringRead) expect(grant(0, 1).windowBytes).toBe(1);
      shrinkDuringRead = false;
      return result;
    };
    await appendWire(leader, batchOf([sized(100)]));
    await untilQuiet();
    expect([shrinkDuringRead, call.data().length, call.failure]).toEqual([false, 2, undefined]);
    grant(2 * charge);
    await untilQuiet();
    expect(call.data().map(([, offsets]) => offsets)).toEqual([[0], [1], [2]]);
  });

  it('sends a batch larger than the window alone once nothing is outstanding', async () => {
    const { leaders, call, grant } = await subscribed([0], { windowBytes: chargeOf(10) });
    await appendWire(leaders[0]!, batchOf([sized(10)]));
    await appendWire(leaders[0]!, batchOf([sized(500)]));
    await untilQuiet();
    expect(call.data()).toEqual([[0, [0], chargeOf(10)]]);
    grant(chargeOf(10));
    await untilQuiet();
    expect(call.data().slice(1)).toEqual([[0, [1], chargeOf(500)]]);
  });

  it('stops writing while the transport is full and goes on after drain', async () => {
    const { leaders, call } = await subscribed([0], { windowBytes: 1_000_000, maxMessageBytes: 1 });
    call.accepting = false;
    for (let batch = 0; batch < 5; batch += 1) await appendWire(leaders[0]!, batchOf([`v${batch}`]));
    await untilQuiet();
    expect(call.data().length).toBe(1);
    call.drain();
    await untilQuiet();
    expect(call.data().map(([, offsets]) => offsets[0])).toEqual([0, 1, 2, 3, 4]);
  });

  it('ends a moved partition with NOT_LEADER and the hint, and the call OK once every partition ended', async () => {
    const { served, leaders, call } = await subscribed([0, 1]);
    await appendWire(leaders[0]!, batchOf(['a', 'b']));
    await untilQuiet();
    served.moveAway(0);
    await untilQuiet();
    expect(call.ends()).toEqual([{ topicPartition: { topic: 'orders', partition: 0 }, error: expect.objectContaining({ code: ErrorCode.NOT_LEADER, leaderHint: { nodeId: 2, address: '127.0.0.1:7402', epoch: 5 } }) as unknown, nextOffset: 2, logStartOffset: 0, highWatermark: 0 }]);
    expect(call.endedOk).toBe(false);
    served.moveAway(1);
    await untilQuiet();
    expect(call.ends().map((end) => end.topicPartition?.partition)).toEqual([0, 1]);
    expect(call.endedOk).toBe(true);
  });

  it('ends a partition whose next offset retention removed with OFFSET_OUT_OF_RANGE and its bounds', async () => {
    const { leaders, call, grant } = await subscribed([0], { windowBytes: 1, maxMessageBytes: 1 });
    const leader = leaders[0]!;
    for (let batch = 0; batch < 3; batch += 1) await appendWire(leader, batchOf([sized(100)]));
    await untilQuiet();
    expect(call.data().map(([, offsets]) => offsets)).toEqual([[0]]);
    await leader.enforceRetention(undefined, 1);
    expect(leader.logStartOffset()).toBe(2);
    grant(chargeOf(100));
    await untilQuiet();
    expect(call.ends()).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: ErrorCode.OFFSET_OUT_OF_RANGE }) as unknown, nextOffset: 1, logStartOffset: 2, highWatermark: 3 })]);
  });

  it('sends the intact batches before a stored batch that fails its checks, then ends the partition with CORRUPT_RECORD there', async () => {
    const { leaders, call, open } = await subscribed([0], { windowBytes: 1_000_000 });
    const leader = leaders[0]!;
    // Appended behind the broker's checks: an envelope of an unknown format, as a damaged disk might hold.
    const stored = storedBatchFromWire(batchOf(['bad']), { partition: leader.partition, partitionLeaderEpoch: leader.leaderEpoch, maxBatchBytes: 1024 });
    const payload = Uint8Array.from(stored.payload);
    payload[0] = 99;
    await appendWire(leader, batchOf(['a']));
    await leader.append({ recordCount: stored.recordCount, firstTimestampMs: stored.firstTimestampMs, maxTimestampMs: stored.maxTimestampMs, payload }, 'leader', 1_000);
    await untilQuiet();
    expect(call.data().map(([, offsets]) => offsets)).toEqual([[0]]);
    expect(call.ends()).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: ErrorCode.CORRUPT_RECORD }) as unknown, nextOffset: 1 })]);
    expect(call.endedOk).toBe(true);
    // A subscription opened now reads both batches at once: the good one still comes first.
    const late = open();
    await untilQuiet();
    expect([late.data().map(([, offsets]) => offsets), late.ends().map((end) => [end.error?.code, end.nextOffset])]).toEqual([[[0]], [[ErrorCode.CORRUPT_RECORD, 1]]]);
  });

  it('ends on shutdown with SHUTTING_DOWN, and on cancel; the subscription leaves the registry either way', async () => {
    const first = await subscribed([0]);
    first.open();
    expect(first.registry.size).toBe(2);
    first.served.shutdown.abort();
    expect(first.call.error()).toMatchObject({ code: 'SHUTTING_DOWN', retriable: true });
    expect(first.registry.size).toBe(0);
    const second = await subscribed([0]);
    second.call.emit('cancelled');
    expect(second.registry.size).toBe(0);
    expect(() => second.grant(0)).toThrow(expect.objectContaining({ code: 'SUBSCRIPTION_NOT_FOUND' }) as unknown);
  });

  it('refuses a subscription beyond subscriptionsMax with RESOURCE_EXHAUSTED, and a malformed request with INVALID_REQUEST', async () => {
    const { open } = await subscribed([0], {}, { subscriptionsMax: 1 });
    expect(open().error()).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retriable: true, message: 'broker 1 already serves 1 subscriptions, its most (subscriptionsMax 1); retry later, or Fetch meanwhile' });
    const twice = await subscribed([0], { partitions: [0, 0].map(() => ({ topicPartition: { topic: 'orders', partition: 0 }, startOffset: 0, currentLeaderEpoch: 0 })) });
    expect(twice.call.error()).toMatchObject({ code: 'INVALID_REQUEST', message: 'Subscribe names partition "orders-0" twice in partitions; name each partition at most once' });
  });

  it('lets only the subscriber grant, and refuses more consumed than sent naming both', async () => {
    const { leaders, call, grant } = await subscribed([0]);
    await appendWire(leaders[0]!, batchOf(['a']));
    await untilQuiet();
    const sent = call.data()[0]![2];
    expect(() => grant(1, 0, 'token:someone-else')).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }) as unknown);
    expect(() => grant(sent + 1)).toThrow(`GrantCredit consumed_bytes ${sent + 1} is above the ${sent} bytes sent on this subscription`);
    expect(() => grant(0, 0, 'anonymous', 'no-such-id')).toThrow(expect.objectContaining({ code: 'SUBSCRIPTION_NOT_FOUND', message: expect.stringContaining('"no-such-id"') as unknown }) as unknown);
  });
});
