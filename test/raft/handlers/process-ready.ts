/** `process-ready ID...`: one turn of the host loop on each node (persist, send, apply, advance). */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function processReady(env: InteractionEnv, command: ScriptCommand): void {
  const ids = command.nodeIds(0);
  if (ids.length === 0) throw new Error('process-ready: name at least one node');
  if (ids.length === 1 && ids[0] !== undefined) {
    env.processReady(ids[0], '');
    return;
  }
  for (const id of ids) {
    env.print(`> ${id} handling Ready`);
    env.processReady(id, '  ');
  }
}
