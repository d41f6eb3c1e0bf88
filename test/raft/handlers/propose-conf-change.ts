/** `propose-conf-change ID add-learner|promote|remove N`: proposes a one-server membership change. */
import type { ConfChange } from '../../../src/raft/raft-types.js';
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

const changeTypes: Record<string, ConfChange['type']> = {
  'add-learner': 'addLearner',
  promote: 'promoteLearner',
  remove: 'removeNode',
};

export function proposeConfChange(env: InteractionEnv, command: ScriptCommand): void {
  const id = command.nodeId(0);
  const kind = command.positional(1, 'change');
  const type = changeTypes[kind];
  if (type === undefined) throw new Error(`propose-conf-change: "${kind}" is not add-learner, promote or remove`);
  const change: ConfChange = { type, nodeId: command.nodeId(2) };
  env.observe(id, '', (raft) => {
    const ticket = raft.proposeConfChange(change);
    env.print(`ticket: ${ticket.term}/${ticket.index}`);
  });
}
