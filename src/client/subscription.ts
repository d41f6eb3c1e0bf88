import { TributaryError } from '../errors/index.js';
import { backoffDelayMs, ConsumerClient, defaultClientOptions } from '../rpc/clients/index.js';
import type {
  SubscribeCall, SubscribedPartitionEnd, SubscribedRecords, SubscriptionHandlers, SubscriptionStarted,
} from '../rpc/clients/consumer-client.js';
import { type ConnectionOptions, integerOption } from './client-settings.js';
import type { ConsumerRecord } from './consumer.js';
import { SubscriptionCredit } from './subscription-credit.js';

/** A partition a broker stopped delivering: why, and the offset to resume it from elsewhere. */
export type PartitionEnd = SubscribedPartitionEnd;

export interface SubscriptionOptions extends Omit<ConnectionOptions, 'bootstrap'> {
  /** The broker leading the partitions, "host:port" (from metadata, or a NOT_LEADER hint). */
  broker: string;
  /** Partitions and the offset of the first record wanted; `leaderEpoch` 0 or unset skips the epoch check. */
  partitions: ReadonlyArray<{ topic: string; partition: number; offset: number; leaderEpoch?: number }>;
  /** Credit window in record bytes: the most the broker sends ahead of consumption (default: the broker's, 4 MiB). */
  windowBytes?: number;
  /** Most record bytes in one message (default: the broker's, 1 MiB). */
  maxMessageBytes?: number;
  /** Called, in stream order, when a partition ends: resubscribe it at `end.nextOffset` where `end.error` says. */
  onPartitionEnd?: (end: PartitionEnd) => void;
  /** Failed GrantCredit calls in a row before the subscription fails (default 10). */
  grantRetriesMax?: number;
  /** Jitter of the grant retries' backoff (default Math.random). */
  random?: () => number;
}

/** What a Subscription talks to: the ConsumerService wire client by default. */
export type SubscriptionLinks = Pick<ConsumerClient, 'subscribe' | 'grantCredit' | 'close'>;

/** What the stream delivered and the application has not yet taken, in order. */
type Delivery = { readonly kind: 'records'; readonly message: SubscribedRecords; taken: number } | { readonly kind: 'end'; readonly end: PartitionEnd };

const grantBackoff = { backoffMsMin: 50, backoffMsMax: 2_000 };

/**
 * A push subscription (ConsumerService.Subscribe) to partitions of one broker, read as an async
 * iterator of records in offset order per partition. Credit goes back to the broker as the
 * application takes records, never merely as they arrive, so a slow application holds the broker
 * to its window. Records below a partition's start offset are skipped; a partition's end is
 * reported (onPartitionEnd, `ends`) with the offset to resume from. The iterator finishes when
 * every partition ended or close() is called, and throws the stream's error after delivering
 * what arrived before it; `position()` says where to resume each partition then.
 */
export class Subscription implements AsyncIterable<ConsumerRecord> {
  /** Partition ends in the order the application reached them. */
  readonly ends: PartitionEnd[] = [];
  private readonly links: SubscriptionLinks;
  private readonly positions = new Map<string, number>();
  private readonly deliveries: Delivery[] = [];
  private readonly call: SubscribeCall;
  private started: SubscriptionStarted | undefined;
  private credit: SubscriptionCredit | undefined;
  /** Set when the stream ended: undefined for OK, or its error; thrown once the deliveries are taken. */
  private outcome: { error: TributaryError | undefined } | undefined;
  private waiter: (() => void) | undefined;
  /** Charged bytes of the queued messages: the broker keeps it within the window, and the transport is paused if it does not. */
  private queuedBytes = 0;
  private transportPaused = false;
  private grantFailures = 0;
  private readonly grantRetriesMax: number;
  private cancelGrantRetry: (() => void) | undefined;
  /** Armed while credit of a drained subscription waits for SubscriptionCredit's delay. */
  private drainedGrantTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SubscriptionOptions, links?: SubscriptionLinks) {
    if (options.partitions.length === 0) throw new TributaryError('INVALID_REQUEST', 'a Subscription needs at least one partition');
    this.grantRetriesMax = integerOption('grantRetriesMax', options.grantRetriesMax, 10, 0, 1_000);
    const windowBytes = integerOption('windowBytes', options.windowBytes, 0, 1, 0xffff_ffff);
    const maxMessageBytes = integerOption('maxMessageBytes', options.maxMessageBytes, 0, 1, 0xffff_ffff);
    this.links = links ?? new ConsumerClient({ ...defaultClientOptions(options.clientId ?? 'tributary-subscription'), ...connectionOf(options) });
    for (const { topic, partition, offset } of options.partitions) {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new TributaryError('INVALID_REQUEST', `partition "${topic}-${partition}": offset must be a non-negative integer, got ${offset}`);
      this.positions.set(keyOf(topic, partition), offset);
    }
    const partitions = options.partitions.map(({ topic, partition, offset, leaderEpoch }) => ({ topic, partition, startOffset: offset, currentLeaderEpoch: leaderEpoch ?? 0 }));
    this.call = this.links.subscribe(options.broker, { partitions, windowBytes, maxMessageBytes }, this.handlers());
  }

  /** The subscription id and granted window, once the broker has started it. */
  get subscription(): SubscriptionStarted | undefined {
    return this.started;
  }

  /** The offset of the next record the application will get from `topic`/`partition`: where to resume it. */
  position(topic: string, partition: number): number {
    const position = this.positions.get(keyOf(topic, partition));
    if (position === undefined) throw new TributaryError('INVALID_REQUEST', `partition "${topic}-${partition}" is not part of this subscription`);
    return position;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    for (;;) {
      const record = await this.next();
      if (record === undefined) return;
      yield record;
    }
  }

  /** The next record, waiting for one; undefined once the subscription is over. */
  async next(): Promise<ConsumerRecord | undefined> {
    for (;;) {
      const record = this.take();
      if (record !== undefined) return record;
      if (this.deliveries.length > 0) continue;
      this.grantIfDue();
      if (this.outcome !== undefined) {
        if (this.outcome.error !== undefined) throw this.outcome.error;
        return undefined;
      }
      if (this.waiter !== undefined) throw new TributaryError('INVALID_REQUEST', 'Subscription.next() was called again before the previous call returned; take records one at a time');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  /** Ends the subscription: the broker forgets it, and the iterator finishes without what is still queued. */
  close(): void {
    this.call.cancel();
    this.deliveries.length = 0;
    this.finish(undefined);
  }

  private handlers(): SubscriptionHandlers {
    return {
      started: (started) => {
        this.started = started;
        this.credit = new SubscriptionCredit(started.windowBytes);
      },
      records: (message) => {
        this.queuedBytes += message.chargedBytes;
        this.deliver({ kind: 'records', message, taken: 0 });
        this.holdTransport();
      },
      partitionEnd: (end) => this.deliver({ kind: 'end', end }),
      ended: (error) => this.finish(error),
    };
  }

  private deliver(delivery: Delivery): void {
    this.deliveries.push(delivery);
    this.wake();
  }

  /** The stream is over: no grant can matter any more, so the client's channels close too. */
  private finish(error: TributaryError | undefined): void {
    this.outcome ??= { error };
    this.cancelGrantRetry?.();
    clearTimeout(this.drainedGrantTimer);
    this.links.close();
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /**
   * The next record of the first delivery, skipping records below the partition's position (a
   * message may begin inside a batch). A delivery whose records are all taken counts as consumed
   * now, when the application comes back for more, and leaves the queue; a partition end is
   * reported when the application reaches it.
   */
  private take(): ConsumerRecord | undefined {
    const delivery = this.deliveries[0];
    if (delivery === undefined) return undefined;
    if (delivery.kind === 'end') {
      this.deliveries.shift();
      this.reportEnd(delivery.end);
      return undefined;
    }
    const { message } = delivery;
    const key = keyOf(message.topic, message.partition);
    for (; delivery.taken < message.records.length; delivery.taken += 1) {
      const record = message.records[delivery.taken];
      if (record === undefined || record.offset < (this.positions.get(key) ?? 0)) continue;
      delivery.taken += 1;
      this.positions.set(key, record.offset + 1);
      return { topic: message.topic, partition: message.partition, ...record };
    }
    this.deliveries.shift();
    this.queuedBytes -= message.chargedBytes;
    this.holdTransport();
    this.credit?.consumed(message.chargedBytes);
    if (message.error !== undefined) this.fail(message.error);
    else this.grantIfDue();
    return undefined;
  }

  /**
   * Bounds the queue by the granted window even against a broker that breaks the credit rules:
   * the transport stops reading (HTTP/2 flow control then holds the broker) while the queue holds
   * a window's worth, and reads again once the application has taken enough.
   */
  private holdTransport(): void {
    const full = this.queuedBytes >= (this.started?.windowBytes ?? Number.POSITIVE_INFINITY);
    if (full === this.transportPaused) return;
    this.transportPaused = full;
    if (full) this.call.pause();
    else this.call.resume();
  }

  private reportEnd(end: PartitionEnd): void {
    this.ends.push(end);
    this.positions.set(keyOf(end.topic, end.partition), end.nextOffset);
    this.options.onPartitionEnd?.(end);
  }

  /** Sends GrantCredit when SubscriptionCredit says one is due; retries a retriable failure after a backoff. */
  private grantIfDue(): void {
    const { started, credit } = this;
    if (started === undefined || credit === undefined || this.outcome !== undefined) return;
    const total = credit.grantDue(this.deliveries.length === 0, Date.now());
    if (total === undefined) return this.armDrainedGrant(credit);
    this.links.grantCredit(this.options.broker, { subscriptionId: started.subscriptionId, consumedBytes: total, windowBytes: 0 }).then(
      (answer) => {
        this.grantFailures = 0;
        credit.granted(total, answer.windowBytes);
        this.grantIfDue();
      },
      (error: unknown) => this.grantFailed(credit, TributaryError.from(error)),
    );
  }

  /** Comes back when the drained rule's delay ends, unless a grant goes before then. */
  private armDrainedGrant(credit: SubscriptionCredit): void {
    const atMs = credit.drainedGrantAtMs();
    if (atMs === undefined || this.drainedGrantTimer !== undefined) return;
    this.drainedGrantTimer = setTimeout(() => {
      this.drainedGrantTimer = undefined;
      this.grantIfDue();
    }, Math.max(0, atMs - Date.now()));
  }

  /**
   * A failed grant. SUBSCRIPTION_NOT_FOUND means the stream is ending: its own end says why. A
   * retriable failure is retried after a backoff (the broker may be waiting for this credit, and
   * nothing else would send it), up to grantRetriesMax; anything else fails the subscription.
   */
  private grantFailed(credit: SubscriptionCredit, error: TributaryError): void {
    credit.grantFailed();
    if (error.code === 'SUBSCRIPTION_NOT_FOUND' || this.outcome !== undefined) return;
    this.grantFailures += 1;
    if (!error.retriable || this.grantFailures > this.grantRetriesMax) {
      this.fail(error);
      return;
    }
    const timer = setTimeout(() => this.grantIfDue(), backoffDelayMs(this.grantFailures, grantBackoff, this.options.random ?? Math.random));
    this.cancelGrantRetry = () => clearTimeout(timer);
  }

  /**
   * Ends the subscription with `error` at once. What is still queued is dropped: after a bad
   * batch, later records of its partition would skip it; the caller resumes from position().
   */
  private fail(error: TributaryError): void {
    this.call.cancel();
    this.deliveries.length = 0;
    this.finish(error);
  }
}

function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function connectionOf(options: SubscriptionOptions) {
  return {
    deadlineMs: integerOption('deadlineMs', options.deadlineMs, 5_000, 1, 3_600_000),
    tls: options.tls,
    token: options.token,
  };
}
