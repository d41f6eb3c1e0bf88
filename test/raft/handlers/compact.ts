/** `compact ID INDEX`: the host drops node ID's stored entries up to INDEX (covered by a snapshot). */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function compact(env: InteractionEnv, command: ScriptCommand): void {
  const storage = env.node(command.nodeId(0)).storage;
  storage.compact(command.nodeId(1));
  env.print(`first index=${storage.firstIndex()}, last index=${storage.lastIndex()}`);
}
