/**
 * `restart ID`: recreates a crashed node from its storage; its state machine restarts from the
 * stored snapshot, so committed entries after it are applied again.
 */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';
import { describeNode } from './raft-state.js';

export function restart(env: InteractionEnv, command: ScriptCommand): void {
  const id = command.nodeId(0);
  env.start(env.node(id));
  env.print(describeNode(env, id));
}
