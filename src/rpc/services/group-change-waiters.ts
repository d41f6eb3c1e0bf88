import type { Clock } from '../../actors/clock.js';
import type { MetadataUpdate } from '../../actors/metadata-controller/metadata-delta-feed.js';
import type { MetadataState } from '../../controller/index.js';
import { TributaryError } from '../../errors/index.js';

/** JoinGroup and SyncGroup long polls waiting at once on one controller; more are RESOURCE_EXHAUSTED. */
export const groupWaitersMax = 10_000;

/** What the waiters follow: the controller's applied state and its delta feed. */
export interface GroupChangeSource {
  readonly state: MetadataState;
  readonly feed: { watch(fromVersion: number, watcher: (update: MetadataUpdate) => void): () => void };
}

/**
 * Returns what the caller waits for once the state shows it, undefined to keep waiting, or throws
 * to end the wait with that error. Called synchronously after each apply that changed the group,
 * so it sees every step of the group's state machine, none skipped.
 */
export type GroupCheck<T> = (state: MetadataState) => T | undefined;

interface Waiter {
  readonly check: GroupCheck<unknown>;
  settle(outcome: { value: unknown } | { error: unknown }): void;
}

export interface GroupWait {
  readonly groupId: string;
  readonly timeoutMs: number;
  /** Any of them aborting ends the wait with its reason: the call was cancelled, the server is shutting down. */
  readonly signals: readonly AbortSignal[];
  readonly timeoutError: () => TributaryError;
}

/**
 * The long polls of the group protocol (docs/CONTROLLER.md, GroupCoordinatorService): one feed
 * subscription for the whole service, dispatching each apply's groupChanged/groupDeleted deltas to
 * the waiters of that group, so a JoinGroup sees the generation that includes its member without
 * polling and without taking one of the feed's watcher slots per call.
 */
export class GroupChangeWaiters {
  private readonly byGroup = new Map<string, Set<Waiter>>();
  private count = 0;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly source: GroupChangeSource,
    private readonly clock: Clock,
    shutdown: AbortSignal,
  ) {
    shutdown.addEventListener('abort', () => this.unsubscribe?.(), { once: true });
  }

  /** Resolves with the first value `check` returns, checking the current state first. */
  wait<T>(wait: GroupWait, check: GroupCheck<T>): Promise<T> {
    const now = check(this.source.state);
    if (now !== undefined) return Promise.resolve(now);
    if (this.count >= groupWaitersMax) {
      return Promise.reject(new TributaryError('RESOURCE_EXHAUSTED', `${this.count} group long polls are waiting on this controller (at most ${groupWaitersMax}); retry later`, { retryAfterMs: 1_000 }));
    }
    // Subscribed on first use and kept: one feed watcher slot for the service's lifetime.
    this.unsubscribe ??= this.source.feed.watch(this.source.state.version, (update) => this.changed(update));
    return new Promise<T>((resolve, reject) => this.add(wait, check, resolve, reject));
  }

  private add<T>(wait: GroupWait, check: GroupCheck<T>, resolve: (value: T) => void, reject: (error: unknown) => void): void {
    const waiters = this.byGroup.get(wait.groupId) ?? new Set<Waiter>();
    this.byGroup.set(wait.groupId, waiters);
    const onAbort = (event?: Event): void => {
      const reason: unknown = (event?.target as AbortSignal | undefined)?.reason ?? wait.signals.find((signal) => signal.aborted)?.reason;
      waiter.settle({ error: reason ?? new TributaryError('NOT_AVAILABLE', 'the call ended') });
    };
    const cancelTimer = this.clock.setTimer(wait.timeoutMs, () => waiter.settle({ error: wait.timeoutError() }));
    const waiter: Waiter = {
      check,
      settle: (outcome) => {
        if (!waiters.delete(waiter)) return;
        this.count -= 1;
        if (waiters.size === 0) this.byGroup.delete(wait.groupId);
        cancelTimer();
        for (const signal of wait.signals) signal.removeEventListener('abort', onAbort);
        if ('value' in outcome) resolve(outcome.value as T);
        else reject(outcome.error);
      },
    };
    waiters.add(waiter);
    this.count += 1;
    for (const signal of wait.signals) signal.addEventListener('abort', onAbort, { once: true });
    if (wait.signals.some((signal) => signal.aborted)) onAbort();
  }

  private changed(update: MetadataUpdate): void {
    // A snapshot replaced the state: any group may have changed.
    const groupIds = update.kind === 'image' ? [...this.byGroup.keys()] : changedGroups(update);
    for (const groupId of groupIds) {
      for (const waiter of [...(this.byGroup.get(groupId) ?? [])]) this.recheck(waiter);
    }
  }

  private recheck(waiter: Waiter): void {
    try {
      const value = waiter.check(this.source.state);
      if (value !== undefined) waiter.settle({ value });
    } catch (error) {
      waiter.settle({ error });
    }
  }
}

function changedGroups(update: Extract<MetadataUpdate, { kind: 'deltas' }>): string[] {
  const groupIds = new Set<string>();
  for (const delta of update.deltas) if (delta.kind === 'groupChanged' || delta.kind === 'groupDeleted') groupIds.add(delta.groupId);
  return [...groupIds];
}
