import type { Clock } from '../../actors/clock.js';
import type { PartitionLeader } from '../../actors/partition-replica/partition-leader.js';

/**
 * Long-polls waiting on partition leaders' changes. PartitionLeader.changed() hands every caller
 * the same promise, and a promise never forgets a reaction: a poll that gave up at its deadline
 * would leave one behind on an idle partition's promise each time. Here each leader carries at
 * most one reaction, and waiters join or leave a set that it calls when the change comes.
 */
export class LeaderChanges {
  private readonly waitersByLeader = new WeakMap<PartitionLeader, Set<() => void>>();

  /** Calls `onChange` once, at the leader's next change; the returned function cancels that. */
  subscribe(leader: PartitionLeader, onChange: () => void): () => void {
    let waiters = this.waitersByLeader.get(leader);
    if (waiters === undefined) {
      const created = new Set<() => void>();
      waiters = created;
      this.waitersByLeader.set(leader, created);
      void leader.changed().then(() => {
        this.waitersByLeader.delete(leader);
        for (const waiter of created) waiter();
      });
    }
    const joined = waiters;
    joined.add(onChange);
    return () => {
      joined.delete(onChange);
    };
  }
}

export type WaitOutcome = 'changed' | 'deadline' | 'stopped';

export interface LeaderWait {
  readonly changes: LeaderChanges;
  readonly clock: Clock;
  /** The leaders whose next change may matter. */
  readonly leaders: readonly PartitionLeader[];
  readonly deadlineMs: number;
  readonly stop: AbortSignal;
  /** Whether what the waiter read has changed since; asked at each leader change and once after subscribing. */
  readonly changedSince: () => boolean;
}

/**
 * A long-poll's wait: the first of a change that matters (`changedSince` after a leader's change),
 * the deadline on the clock, or `stop`. It subscribes before it checks, so a change after the
 * check fires the subscription, and one during the pass just read (before the subscription
 * existed) shows in the check. Every subscription, the timer and the abort listener are removed
 * when it settles.
 */
export function waitForLeaderChange(wait: LeaderWait): Promise<WaitOutcome> {
  return new Promise((resolve) => {
    let cancelWatches: Array<() => void> = [];
    let settled = false;
    const settle = (outcome: WaitOutcome): void => {
      if (settled) return;
      settled = true;
      for (const cancel of cancelWatches) cancel();
      cancelTimer();
      wait.stop.removeEventListener('abort', onStop);
      resolve(outcome);
    };
    const onStop = (): void => settle('stopped');
    const watch = (): void => {
      if (settled) return;
      for (const cancel of cancelWatches) cancel();
      cancelWatches = wait.leaders.map((leader) => wait.changes.subscribe(leader, watch));
      if (wait.changedSince()) settle('changed');
    };
    wait.stop.addEventListener('abort', onStop, { once: true });
    const cancelTimer = wait.clock.setTimer(Math.max(0, wait.deadlineMs - wait.clock.nowMs()), () => settle('deadline'));
    watch();
  });
}
