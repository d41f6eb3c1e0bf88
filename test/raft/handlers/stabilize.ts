/** `stabilize [ID...]`: host loops and message delivery on the nodes until all are quiet. */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function stabilize(env: InteractionEnv, command: ScriptCommand): void {
  const ids = command.nodeIds(0);
  env.stabilize(ids.length > 0 ? ids : env.nodeIds());
}
