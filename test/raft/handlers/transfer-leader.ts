/** `transfer-leader FROM TO`: asks node FROM (the leader) to hand leadership to TO. */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function transferLeader(env: InteractionEnv, command: ScriptCommand): void {
  const target = command.nodeId(1);
  env.observe(command.nodeId(0), '', (raft) => raft.transferLeadership(target));
}
