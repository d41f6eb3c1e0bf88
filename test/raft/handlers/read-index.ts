/** `read-index ID ctx`: starts a linearizable read on node ID; its ReadState shows in a later Ready. */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

const textEncoder = new TextEncoder();

export function readIndex(env: InteractionEnv, command: ScriptCommand): void {
  const id = command.nodeId(0);
  const context = textEncoder.encode(command.positional(1, 'context'));
  env.observe(id, '', (raft) => raft.readIndex(context));
}
