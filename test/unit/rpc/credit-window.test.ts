import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CreditWindow } from '../../../src/rpc/services/credit-window.js';
import { refusal } from '../../support/record-batches.js';

const limits = { windowBytesDefault: 100, windowBytesMax: 1_000 };

describe('CreditWindow', () => {
  it('starts with the requested window, the default for 0, clamped to the maximum', () => {
    expect(new CreditWindow(0, limits).state()).toEqual({ sentBytes: 0, consumedBytes: 0, windowBytes: 100 });
    expect(new CreditWindow(250, limits).state().windowBytes).toBe(250);
    expect(new CreditWindow(5_000, limits).state().windowBytes).toBe(1_000);
  });

  it('sends while outstanding plus the next message fit the window, and anything when nothing is outstanding', () => {
    const credit = new CreditWindow(100, limits);
    expect(credit.roomBytes()).toBe(100);
    expect(credit.mayCharge(500)).toBe(true);
    credit.charge(60);
    expect([credit.outstandingBytes(), credit.roomBytes(), credit.mayCharge(40), credit.mayCharge(41)]).toEqual([60, 40, true, false]);
    credit.charge(40);
    expect([credit.roomBytes(), credit.mayCharge(1)]).toEqual([0, false]);
    expect(() => credit.charge(1)).toThrow(/breaks the window: 100 outstanding of 100/);
  });

  it('lets a batch larger than the window through alone, then nothing until it is consumed', () => {
    const credit = new CreditWindow(100, limits);
    credit.charge(300);
    expect([credit.outstandingBytes(), credit.roomBytes(), credit.mayCharge(1)]).toEqual([300, 0, false]);
    credit.grant(300, 0);
    expect(credit.roomBytes()).toBe(100);
  });

  it('takes cumulative consumed totals: lower ones are ignored, higher than sent are refused naming both', () => {
    const credit = new CreditWindow(100, limits);
    credit.charge(80);
    expect(credit.grant(50, 0)).toEqual({ sentBytes: 80, consumedBytes: 50, windowBytes: 100 });
    expect(credit.grant(20, 0).consumedBytes).toBe(50);
    const refused = refusal(() => credit.grant(81, 0));
    expect(refused.code).toBe('INVALID_REQUEST');
    expect(refused.message).toBe('GrantCredit consumed_bytes 81 is above the 80 bytes sent on this subscription; report the running total of charged_bytes received and consumed');
    expect(credit.state().consumedBytes).toBe(50);
  });

  it('resizes the window on a grant (0 keeps it, larger is clamped); a shrink applies as bytes are consumed', () => {
    const credit = new CreditWindow(100, limits);
    credit.charge(90);
    expect(credit.grant(0, 2_000).windowBytes).toBe(1_000);
    expect(credit.grant(0, 0).windowBytes).toBe(1_000);
    expect(credit.grant(10, 50).windowBytes).toBe(50);
    expect([credit.outstandingBytes(), credit.roomBytes()]).toEqual([80, 0]);
    credit.grant(60, 0);
    expect(credit.roomBytes()).toBe(20);
  });

  it('never lets outstanding bytes exceed the window plus one message, whatever the sends and grants', () => {
    const action = fc.oneof(
      fc.record({ send: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ consumedShare: fc.double({ min: 0, max: 1, noNaN: true }), window: fc.integer({ min: 0, max: 1_500 }) }),
    );
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
        const credit = new CreditWindow(0, limits);
        let largestMessage = 0;
        for (const step of actions) {
          if ('send' in step) {
            if (credit.mayCharge(step.send)) {
              credit.charge(step.send);
              largestMessage = Math.max(largestMessage, step.send);
            }
          } else {
            const { sentBytes, consumedBytes } = credit.state();
            credit.grant(consumedBytes + Math.floor((sentBytes - consumedBytes) * step.consumedShare), step.window);
          }
          expect(credit.outstandingBytes()).toBeLessThanOrEqual(Math.max(limits.windowBytesMax, largestMessage));
        }
      }),
    );
  });
});
