/** `raft-state`: one line per node: role, term, vote, leader, commit, applied and last index. */
import type { NodeId } from '../../../src/raft/raft-types.js';
import { describeMembership } from '../describe-ready.js';
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function raftState(env: InteractionEnv, _command: ScriptCommand): void {
  for (const id of env.nodeIds()) env.print(describeNode(env, id, false));
}

export function describeNode(env: InteractionEnv, id: NodeId, withMembership = true): string {
  const raft = env.node(id).raft;
  if (raft === undefined) return `${id}: crashed`;
  const status = raft.status();
  const membership = withMembership ? ` ${describeMembership(status.membership)}` : '';
  return (
    `${id}: ${status.role} Term:${status.term} Vote:${status.vote} Lead:${status.leader}` +
    ` Commit:${status.commitIndex} Applied:${status.appliedIndex} Last:${status.lastIndex}${membership}`
  );
}
