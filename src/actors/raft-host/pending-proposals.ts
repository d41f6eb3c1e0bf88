import { TributaryError } from '../../errors/index.js';
import type { ProposalTicket } from '../../raft/raft-types.js';
import type { Clock } from '../clock.js';

interface Waiter<Result> {
  readonly term: number;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: Error) => void;
  readonly cancelTimer: () => void;
}

/**
 * Proposals waiting for their entry to be applied, by log index. An entry applied at a waiter's
 * index with another term means a new leader overwrote the proposal: it was never committed, so
 * it fails with a retriable NOT_LEADER. A proposal not applied within `timeoutMs` fails with
 * TIMEOUT: its outcome is unknown, so only an idempotent command may be retried blindly.
 */
export class PendingProposals<Result> {
  private readonly waiters = new Map<number, Waiter<Result>>();

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    readonly pendingMax: number,
  ) {}

  get size(): number {
    return this.waiters.size;
  }

  /** Throws RESOURCE_EXHAUSTED when `pendingMax` proposals already wait: check before proposing. */
  assertRoom(): void {
    if (this.waiters.size >= this.pendingMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `${this.waiters.size} proposals are already waiting to commit (at most ${this.pendingMax}); retry later`, {
        retryAfterMs: 10,
      });
    }
  }

  wait(ticket: ProposalTicket): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      const cancelTimer = this.clock.setTimer(this.timeoutMs, () => {
        this.waiters.delete(ticket.index);
        reject(new TributaryError('TIMEOUT', `the proposal at log index ${ticket.index} was not applied within ${this.timeoutMs} ms; its outcome is unknown`));
      });
      this.waiters.set(ticket.index, { term: ticket.term, resolve, reject, cancelTimer });
    });
  }

  /** The entry at `index` with `term` was applied with `result` (undefined for a no-op or membership entry). */
  applied(index: number, term: number, result: () => Result): void {
    const waiter = this.waiters.get(index);
    if (waiter === undefined) return;
    this.waiters.delete(index);
    waiter.cancelTimer();
    if (waiter.term === term) waiter.resolve(result());
    else waiter.reject(new TributaryError('NOT_LEADER', `the proposal at log index ${index} was overwritten by a leader of term ${term}; it was not committed`));
  }

  failAll(error: Error): void {
    for (const waiter of this.waiters.values()) {
      waiter.cancelTimer();
      waiter.reject(error);
    }
    this.waiters.clear();
  }
}
