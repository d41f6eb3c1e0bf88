/** `tick-heartbeat ID`: ticks node ID for one heartbeat timeout. */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function tickHeartbeat(env: InteractionEnv, command: ScriptCommand): void {
  const id = command.nodeId(0);
  const ticks = env.node(id).settings.heartbeatTimeoutTicks;
  for (let count = 0; count < ticks; count += 1) env.observe(id, '', (raft) => raft.tick());
}
