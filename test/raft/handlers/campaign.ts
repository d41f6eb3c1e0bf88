/**
 * `campaign ID`: ticks the node until it starts an election. The core has no campaign call; with
 * the harness's Random drawing 0 this takes exactly the election timeout, so traces are
 * reproducible. A follower starting an election changes role; a (pre)candidate starting another
 * one shows it only by having new (pre)vote requests to send, so it must have no pending Ready.
 */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function campaign(env: InteractionEnv, command: ScriptCommand): void {
  const id = command.nodeId(0);
  const electionTimeoutTicks = env.node(id).settings.electionTimeoutTicks;
  const raft = env.raft(id);
  const before = raft.status();
  const campaigning = before.role === 'preCandidate' || before.role === 'candidate';
  if (campaigning && raft.hasReady()) throw new Error(`campaign: node ${id} is a ${before.role} with a pending Ready; process it first`);
  for (let ticks = 1; ticks <= 2 * electionTimeoutTicks; ticks += 1) {
    env.observe(id, '', (core) => core.tick());
    const after = env.raft(id).status();
    if (after.role !== before.role || after.term !== before.term) return;
    if (campaigning && env.raft(id).hasReady()) {
      env.print(`${id} campaigns again as ${after.role} at term ${after.term}`);
      return;
    }
  }
  throw new Error(`campaign: node ${id} did not start an election within ${2 * electionTimeoutTicks} ticks`);
}
