/**
 * `status ID`: the node's full status: its state, membership and transfer target, the host's
 * state machine, and on a leader one progress line per peer.
 */
import { describeMembership } from '../describe-ready.js';
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';
import { describeNode } from './raft-state.js';

export function status(env: InteractionEnv, command: ScriptCommand): void {
  const id = command.nodeId(0);
  const node = env.node(id);
  env.print(describeNode(env, id, false));
  if (node.raft === undefined) return;
  const current = node.raft.status();
  env.print(`${describeMembership(current.membership)} LeadTransferee:${current.leadTransferee}`);
  env.print(`StateMachine ${node.stateMachine.describe()}`);
  for (const peer of [...current.progress.keys()].sort((a, b) => a - b)) {
    const progress = current.progress.get(peer);
    if (progress === undefined) continue;
    env.print(
      `${peer}: ${progress.state} match=${progress.matchIndex} next=${progress.nextIndex}` +
        ` inflight=${progress.inflightMessages}${progress.recentActive ? ' active' : ''}`,
    );
  }
}
