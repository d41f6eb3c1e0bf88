/** `propose ID data`: proposes a normal entry on node ID; prints its ticket or the error. */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

const textEncoder = new TextEncoder();

export function propose(env: InteractionEnv, command: ScriptCommand): void {
  const id = command.nodeId(0);
  const data = textEncoder.encode(command.positional(1, 'data'));
  env.observe(id, '', (raft) => {
    const ticket = raft.propose(data);
    env.print(`ticket: ${ticket.term}/${ticket.index}`);
  });
}
