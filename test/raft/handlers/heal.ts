/** `heal`: ends the partition. */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function heal(env: InteractionEnv, _command: ScriptCommand): void {
  env.heal();
}
