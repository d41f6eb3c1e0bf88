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
