/**
 * `deliver-msgs [ID...] [drop=(ID,...)]`: steps the queued messages addressed to the given nodes
 * (all nodes when none are given), and drops those addressed to `drop`. With only `drop`, nothing
 * else is delivered.
 */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function deliverMsgs(env: InteractionEnv, command: ScriptCommand): void {
  const drop = command.idListOption('drop') ?? [];
  const named = command.nodeIds(0);
  const recipients = named.length > 0 || drop.length > 0 ? [...new Set([...named, ...drop])].sort((a, b) => a - b) : env.nodeIds();
  for (const id of recipients) env.node(id);
  if (env.deliverMessages(recipients, '', new Set(drop)) === 0) env.print('no messages');
}
