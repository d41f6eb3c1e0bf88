import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TributaryError } from '../../errors/index.js';
import type { CreditWindow } from './credit-window.js';
import { Subscription } from './subscription.js';

/** Random bytes in a subscription id: 128 bits, so an id cannot be guessed to steal credit or probe. */
const subscriptionIdBytes = 16;

/** A fresh subscription id from the operating system's cryptographic random source. */
export function randomSubscriptionId(): string {
  return randomBytes(subscriptionIdBytes).toString('base64url');
}

export interface SubscriptionRegistryOptions {
  readonly nodeId: number;
  /** Live subscriptions at once (BrokerServiceSettings.subscriptionsMax). */
  readonly subscriptionsMax: number;
  /** Where ids come from: randomSubscriptionId on a broker; tests may pass their own. */
  readonly newId?: () => string;
}

/**
 * The live subscriptions of one broker by id, for GrantCredit: bounded by `subscriptionsMax`, a
 * subscription is in it from SubscribeStarted until its stream ends.
 */
export class SubscriptionRegistry {
  private readonly live = new Map<string, Subscription>();
  private readonly newId: () => string;

  constructor(private readonly options: SubscriptionRegistryOptions) {
    assert.ok(Number.isSafeInteger(options.subscriptionsMax) && options.subscriptionsMax >= 1, `subscriptionsMax must be a positive integer, got ${options.subscriptionsMax}`);
    this.newId = options.newId ?? randomSubscriptionId;
  }

  get size(): number {
    return this.live.size;
  }

  /** Registers a new subscription; retriable RESOURCE_EXHAUSTED when the broker has its most. */
  open(principal: string, credit: CreditWindow): Subscription {
    const { nodeId, subscriptionsMax } = this.options;
    if (this.live.size >= subscriptionsMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `broker ${nodeId} already serves ${this.live.size} subscriptions, its most (subscriptionsMax ${subscriptionsMax}); retry later, or Fetch meanwhile`, { retriable: true });
    }
    const id = this.newId();
    assert.ok(id.length > 0 && !this.live.has(id), `subscription id "${id}" must be new`);
    const subscription = new Subscription(id, principal, credit);
    this.live.set(id, subscription);
    return subscription;
  }

  /** The live subscription `id`; SUBSCRIPTION_NOT_FOUND for an unknown or ended one. */
  find(id: string): Subscription {
    const subscription = this.live.get(id);
    if (subscription === undefined) {
      throw new TributaryError('SUBSCRIPTION_NOT_FOUND', `subscription "${id}" is not live on broker ${this.options.nodeId} (unknown here, or its stream ended); send GrantCredit to the broker of SubscribeStarted.node_id while its stream runs`);
    }
    return subscription;
  }

  /** Forgets `subscription` once its stream ended; later grants get SUBSCRIPTION_NOT_FOUND. */
  close(subscription: Subscription): void {
    if (this.live.get(subscription.id) === subscription) this.live.delete(subscription.id);
  }
}
