import { TributaryError } from '../../errors/index.js';
import type { CreditState, CreditWindow } from './credit-window.js';

/**
 * One live Subscribe stream as GrantCredit finds it: its id, who opened it, and its credit window.
 * The stream that sends waits on `wakeSignal()` when it is out of credit; a grant (or the stream's
 * own end) aborts that signal, so credit reaches a waiting sender without it polling.
 */
export class Subscription {
  private wake = new AbortController();

  constructor(
    readonly id: string,
    /** The caller principal that opened it (caller-principal.ts); only it may grant credit. */
    readonly principal: string,
    readonly credit: CreditWindow,
  ) {}

  /**
   * A signal aborted at the next grant or wakeUp() after this call. The sender takes one before
   * each pass over its partitions, so a grant during the pass still ends the wait that follows.
   */
  wakeSignal(): AbortSignal {
    if (this.wake.signal.aborted) this.wake = new AbortController();
    return this.wake.signal;
  }

  wakeUp(): void {
    this.wake.abort();
  }

  /**
   * A GrantCredit from `principal`: PERMISSION_DENIED for anyone but the subscriber, else the
   * credit rules of CreditWindow.grant; wakes the sender when it went through.
   */
  grant(principal: string, consumedBytes: number, windowBytes: number): CreditState {
    if (principal !== this.principal) {
      throw new TributaryError('PERMISSION_DENIED', `subscription "${this.id}" was opened by another principal; only its subscriber may grant it credit`, { retriable: false });
    }
    const state = this.credit.grant(consumedBytes, windowBytes);
    this.wakeUp();
    return state;
  }
}
