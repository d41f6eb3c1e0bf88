import { TributaryError } from '../../errors/index.js';
import type { ReadState } from '../../raft/raft-types.js';
import type { Clock } from '../clock.js';

interface ReadWaiter {
  /** The read index, once the leader confirmed it; undefined while that is pending. */
  index: number | undefined;
  readonly resolve: (index: number) => void;
  readonly reject: (error: Error) => void;
  readonly cancelTimer: () => void;
}

const contextBytes = 8;

/**
 * Linearizable reads in flight (ReadIndex, Raft §6.4): each gets a unique context, waits for the
 * leader to confirm a read index, then for the state machine to apply up to it.
 */
export class PendingReads {
  private readonly waiters = new Map<string, ReadWaiter>();
  private nextContext = 1;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    readonly pendingMax: number,
  ) {}

  /** Registers a read and returns the context to hand the core. */
  start(): { context: Uint8Array; done: Promise<number> } {
    if (this.waiters.size >= this.pendingMax) {
      throw new TributaryError('RESOURCE_EXHAUSTED', `${this.waiters.size} linearizable reads are already pending (at most ${this.pendingMax}); retry later`, {
        retryAfterMs: 10,
      });
    }
    const context = Buffer.alloc(contextBytes);
    context.writeBigUInt64BE(BigInt(this.nextContext++));
    const key = context.toString('hex');
    const done = new Promise<number>((resolve, reject) => {
      const cancelTimer = this.clock.setTimer(this.timeoutMs, () => {
        this.waiters.delete(key);
        reject(new TributaryError('TIMEOUT', `the leader did not confirm a linearizable read within ${this.timeoutMs} ms`));
      });
      this.waiters.set(key, { index: undefined, resolve, reject, cancelTimer });
    });
    return { context, done };
  }

  /** The core could not start the read (no leader): forget it. */
  abandon(context: Uint8Array, error: Error): void {
    const key = Buffer.from(context).toString('hex');
    const waiter = this.waiters.get(key);
    if (waiter === undefined) return;
    this.waiters.delete(key);
    waiter.cancelTimer();
    waiter.reject(error);
  }

  confirmed(readStates: readonly ReadState[]): void {
    for (const readState of readStates) {
      const waiter = this.waiters.get(Buffer.from(readState.context).toString('hex'));
      if (waiter !== undefined) waiter.index = readState.index;
    }
  }

  /** Serves every confirmed read whose index the state machine has reached. */
  appliedTo(appliedIndex: number): void {
    for (const [key, waiter] of this.waiters) {
      if (waiter.index === undefined || waiter.index > appliedIndex) continue;
      this.waiters.delete(key);
      waiter.cancelTimer();
      waiter.resolve(waiter.index);
    }
  }

  failAll(error: Error): void {
    for (const waiter of this.waiters.values()) {
      waiter.cancelTimer();
      waiter.reject(error);
    }
    this.waiters.clear();
  }
}
