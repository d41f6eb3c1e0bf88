import { isMemberExpired } from './group-rebalance.js';
import type { MetadataState } from './metadata-state.js';

export interface DueExpiries {
  /** fenceExpiredBrokers at this time would fence at least one broker. */
  brokers: boolean;
  /** expireGroupMembers at this time would remove at least one member. */
  groupMembers: boolean;
}

/**
 * What the leader's clock tick would change, so it proposes fenceExpiredBrokers and
 * expireGroupMembers only when they do something instead of filling the log with no-ops. Uses the
 * same rules as the commands; linear in brokers and group members.
 */
export function dueExpiries(state: MetadataState, nowMs: number): DueExpiries {
  let brokers = false;
  for (const broker of state.brokers.values()) {
    if (!broker.fenced && broker.heartbeatDeadlineMs <= nowMs) {
      brokers = true;
      break;
    }
  }
  return { brokers, groupMembers: anyMemberExpired(state, nowMs) };
}

function anyMemberExpired(state: MetadataState, nowMs: number): boolean {
  for (const group of state.groups.values()) {
    for (const member of group.members.values()) if (isMemberExpired(group, member, nowMs)) return true;
  }
  return false;
}
