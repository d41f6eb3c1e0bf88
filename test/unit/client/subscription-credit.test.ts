import { describe, expect, it } from 'vitest';
import { drainedGrantDelayMs, SubscriptionCredit } from '../../../src/client/subscription-credit.js';

describe('SubscriptionCredit', () => {
  it('grants once half the window is consumed, as a running total, one grant at a time', () => {
    const credit = new SubscriptionCredit(100);
    credit.consumed(30);
    expect(credit.grantDue(false, 0)).toBeUndefined();
    credit.consumed(20);
    expect(credit.grantDue(false, 0)).toBe(50);
    credit.consumed(60);
    expect(credit.grantDue(false, 0)).toBeUndefined();
    credit.granted(50, 100);
    expect(credit.grantDue(false, 0)).toBe(110);
  });

  it('grants whatever is unreported once the application has been drained for drainedGrantDelayMs, so a small window never stalls', () => {
    const credit = new SubscriptionCredit(100);
    credit.consumed(10);
    expect(credit.grantDue(true, 1_000)).toBeUndefined();
    expect(credit.drainedGrantAtMs()).toBe(1_000 + drainedGrantDelayMs);
    // More small messages consumed meanwhile join the same grant; the delay counts from the first.
    credit.consumed(10);
    expect(credit.grantDue(true, 1_000 + drainedGrantDelayMs - 1)).toBeUndefined();
    expect(credit.grantDue(true, 1_000 + drainedGrantDelayMs)).toBe(20);
    expect(credit.drainedGrantAtMs()).toBeUndefined();
    credit.granted(20, 100);
    expect(credit.grantDue(true, 2_000)).toBeUndefined();
    expect(credit.drainedGrantAtMs()).toBeUndefined();
  });

  it('does not wait when half the window is unreported, drained or not', () => {
    const credit = new SubscriptionCredit(100);
    credit.consumed(50);
    expect(credit.grantDue(true, 0)).toBe(50);
  });

  it('sends a failed grant again with the next one, and follows the window the broker answers', () => {
    const credit = new SubscriptionCredit(100);
    credit.consumed(60);
    expect(credit.grantDue(false, 0)).toBe(60);
    credit.grantFailed();
    credit.consumed(5);
    expect(credit.grantDue(false, 0)).toBe(65);
    credit.granted(65, 1_000);
    credit.consumed(400);
    expect(credit.grantDue(false, 0)).toBeUndefined();
  });
});
