/** `crash ID`: the node loses its volatile state and queued messages; its storage survives. */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function crash(env: InteractionEnv, command: ScriptCommand): void {
  env.crash(command.nodeId(0));
}
