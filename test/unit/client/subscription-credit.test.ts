import { describe, expect, it } from 'vitest';
import { SubscriptionCredit } from '../../../src/client/subscription-credit.js';

describe('SubscriptionCredit', () => {
  it('grants once half the window is consumed, as a running total, one grant at a time', () => {
    const credit = new SubscriptionCredit(100);
    credit.consumed(30);
    expect(credit.grantDue(false)).toBeUndefined();
    credit.consumed(20);
    expect(credit.grantDue(false)).toBe(50);
    credit.consumed(60);
    expect(credit.grantDue(false)).toBeUndefined();
    credit.granted(50, 100);
    expect(credit.grantDue(false)).toBe(110);
  });

  it('grants whatever is unreported once the application consumed everything received, so a small window never stalls', () => {
    const credit = new SubscriptionCredit(100);
    credit.consumed(10);
    expect(credit.grantDue(true)).toBe(10);
    credit.granted(10, 100);
    expect(credit.grantDue(true)).toBeUndefined();
  });

  it('sends a failed grant again with the next one, and follows the window the broker answers', () => {
    const credit = new SubscriptionCredit(100);
    credit.consumed(60);
    expect(credit.grantDue(false)).toBe(60);
    credit.grantFailed();
    credit.consumed(5);
    expect(credit.grantDue(false)).toBe(65);
    credit.granted(65, 1_000);
    credit.consumed(400);
    expect(credit.grantDue(false)).toBeUndefined();
  });
});
