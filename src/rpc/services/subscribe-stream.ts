import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Clock } from '../../actors/clock.js';
import type { PartitionLeader } from '../../actors/partition-replica/partition-leader.js';
import { TributaryError } from '../../errors/index.js';
import { toGrpcStatus } from '../error-status.js';
import type { SubscribeRequest, SubscribeResponse } from '../generated/tributary/client/v1/consumer_service.js';
import type { BrokerServiceSettings } from './broker-service-settings.js';
import { CreditWindow } from './credit-window.js';
import { type LeaderChanges, waitForLeaderChange } from './leader-changes.js';
import { type MessageRoom, type PartitionStep, readSubscribedPartition, type SubscribeReadContext } from './subscribe-read.js';
import { type SubscribedPartition, type SubscribePlan, subscribePlanOf } from './subscribe-plan.js';
import type { Subscription } from './subscription.js';
import type { SubscriptionRegistry } from './subscription-registry.js';

export interface SubscribeContext extends SubscribeReadContext {
  readonly settings: BrokerServiceSettings;
  readonly clock: Clock;
  readonly changes: LeaderChanges;
  readonly registry: SubscriptionRegistry;
}

/** A partition the last pass could not send from, and what would change that. */
interface Watched {
  readonly partition: SubscribedPartition;
  readonly leader: PartitionLeader;
  /** The high watermark it was caught up to; undefined when it waits for credit, not data. */
  readonly highWatermark: number | undefined;
}

/** What a pass over the partitions did: sent or ended one, or found what to wait for. */
type Pass = { readonly progressed: true } | { readonly progressed: false; readonly watched: Watched[]; readonly unavailable: boolean };

export type SubscribeCall = ServerWritableStream<SubscribeRequest, SubscribeResponse>;

/**
 * One Subscribe call (consumer_service.proto): SubscribeStarted, then SubscribeData round-robin
 * over the partitions with data, each sent only when the credit window allows it and the
 * transport has drained, and a SubscribePartitionEnd per partition that stops. Out of data or
 * credit it waits, without polling, for a leader's change (a new high watermark, a resignation)
 * or a grant. It ends OK once every partition ended, silently when the client cancels, and with
 * SHUTTING_DOWN when the server shuts down; the subscription leaves the registry whichever way.
 */
export class SubscribeStream {
  private readonly stop = new AbortController();
  private subscription: Subscription | undefined;
  /** Where the next pass starts, so every partition with data gets its turn. */
  private turn = 0;
  /** What the last write said: false until the transport drains ('drain'). */
  private writable = true;

  constructor(
    private readonly call: SubscribeCall,
    private readonly context: SubscribeContext,
    private readonly principal: string,
  ) {}

  start(): void {
    this.call.on('cancelled', () => this.endWith(() => undefined));
    const { shutdownSignal } = this.context.partitions;
    shutdownSignal.addEventListener('abort', this.onShutdown, { once: true });
    try {
      const plan = subscribePlanOf(this.call.request, this.context.settings);
      this.context.partitions.assertServing();
      const subscription = this.open(plan);
      void this.run(plan, subscription).catch((error: unknown) => this.fail(error));
    } catch (error) {
      this.fail(error);
    }
  }

  private open(plan: SubscribePlan): Subscription {
    const { settings, registry, partitions } = this.context;
    const credit = new CreditWindow(plan.windowBytesRequested, { windowBytesDefault: settings.subscribeWindowBytesDefault, windowBytesMax: settings.subscribeWindowBytesMax });
    const subscription = registry.open(this.principal, credit);
    this.subscription = subscription;
    const started = { subscriptionId: subscription.id, windowBytes: credit.state().windowBytes, nodeId: partitions.nodeId };
    this.write({ kind: { $case: 'started', value: started } });
    return subscription;
  }

  private async run(plan: SubscribePlan, subscription: Subscription): Promise<void> {
    for (;;) {
      await this.drained();
      if (this.stop.signal.aborted) return;
      if (plan.partitions.every((partition) => partition.ended)) {
        this.endWith(() => this.call.end());
        return;
      }
      // Taken before the pass: a grant during it aborts this signal, and the wait below ends at once.
      const wake = subscription.wakeSignal();
      const pass = await this.pass(plan, subscription);
      if (!pass.progressed) await this.waitFor(pass, wake);
    }
  }

  /**
   * Looks at the partitions from this turn's one on, and sends from (or ends) the first that has
   * something; the next pass starts after it.
   */
  private async pass(plan: SubscribePlan, subscription: Subscription): Promise<Pass> {
    const { partitions } = plan;
    const watched: Watched[] = [];
    let unavailable = false;
    for (let look = 0; look < partitions.length && !this.stop.signal.aborted; look += 1) {
      const position = (this.turn + look) % partitions.length;
      const partition = partitions[position] as SubscribedPartition;
      if (partition.ended) continue;
      const step = await readSubscribedPartition(partition, this.roomOf(plan, subscription), this.context);
      if (this.stop.signal.aborted) break;
      // A grant that shrank the window during the read may leave no room for what was read; that
      // grant also aborted this pass's wake signal, so the next pass comes at once and reads again.
      if (step.kind === 'data' && !subscription.credit.mayCharge(step.data.chargedBytes)) continue;
      if (step.kind === 'data' || step.kind === 'end') {
        this.send(partition, step, subscription);
        this.turn = position + 1;
        return { progressed: true };
      }
      if (step.kind === 'unavailable') unavailable = true;
      else watched.push({ partition, leader: step.leader, highWatermark: step.kind === 'caught-up' ? step.highWatermark : undefined });
    }
    return { progressed: false, watched, unavailable };
  }

  private roomOf(plan: SubscribePlan, subscription: Subscription): MessageRoom {
    const { credit } = subscription;
    return { windowBytes: credit.roomBytes(), nothingOutstanding: credit.outstandingBytes() === 0, messageBytesMax: plan.messageBytesMax, batchesMax: this.context.settings.fetchResponseBatchesMax };
  }

  private send(partition: SubscribedPartition, step: Extract<PartitionStep, { kind: 'data' | 'end' }>, subscription: Subscription): void {
    if (step.kind === 'end') {
      partition.ended = true;
      this.write({ kind: { $case: 'partitionEnd', value: step.end } });
      return;
    }
    const { data } = step;
    subscription.credit.charge(data.chargedBytes);
    const last = data.batches.at(-1);
    if (last !== undefined) partition.nextOffset = last.baseOffset + last.recordCount;
    this.write({ kind: { $case: 'data', value: data } });
  }

  private write(response: SubscribeResponse): void {
    this.writable = this.call.write(response);
  }

  /**
   * Waits while the transport holds what was written (HTTP/2 window full), so nothing piles up
   * here: every message, SubscribeStarted included, is written only after the last one drained.
   */
  private drained(): Promise<void> {
    if (this.writable || this.stop.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.call.off('drain', done);
        this.stop.signal.removeEventListener('abort', done);
        this.writable = true;
        resolve();
      };
      this.call.once('drain', done);
      this.stop.signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Waits for what could let the next pass send: a watched partition's leader changing (a moved
   * high watermark for one caught up, any leader change for all), a grant (`wake`), the end of the
   * stream, or for partitions being opened here, a short retry timer.
   */
  private async waitFor(pass: Extract<Pass, { progressed: false }>, wake: AbortSignal): Promise<void> {
    if (wake.aborted) return;
    const { clock, settings, changes, partitions } = this.context;
    const waitMs = pass.unavailable ? settings.subscribeUnavailableRetryMs : settings.subscribeWaitMsMax;
    const changedSince = (): boolean =>
      pass.watched.some(({ partition, leader, highWatermark }) => {
        try {
          const current = partitions.leaderFor(partition.topicPartition, partition.currentLeaderEpoch);
          return current !== leader || (highWatermark !== undefined && current.highWatermark() !== highWatermark);
        } catch {
          return true;
        }
      });
    const leaders = pass.watched.map(({ leader }) => leader);
    await waitForLeaderChange({ changes, clock, leaders, deadlineMs: clock.nowMs() + waitMs, stop: wake, changedSince });
  }

  private readonly onShutdown = (): void => {
    this.fail(new TributaryError('SHUTTING_DOWN', `broker ${this.context.partitions.nodeId} is shutting down; resubscribe each partition from the offset after the last record received, with its leader`));
  };

  private fail(error: unknown): void {
    this.endWith(() => this.call.emit('error', toGrpcStatus(error)));
  }

  /** Ends the stream once, however many reasons arrive; `how` tells the client (nothing when it went away). */
  private endWith(how: () => void): void {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    this.context.partitions.shutdownSignal.removeEventListener('abort', this.onShutdown);
    if (this.subscription !== undefined) {
      this.context.registry.close(this.subscription);
      this.subscription.wakeUp();
    }
    how();
  }
}
