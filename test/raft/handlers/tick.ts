/** `tick ID [N]`: N ticks (default 1) of node ID's logical clock. */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function tick(env: InteractionEnv, command: ScriptCommand): void {
  const id = command.nodeId(0);
  const ticks = command.positionals.length > 1 ? command.nodeId(1) : 1;
  for (let count = 0; count < ticks; count += 1) env.observe(id, '', (raft) => raft.tick());
}
