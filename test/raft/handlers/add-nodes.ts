/**
 * `add-nodes N [voters=(1,2,3)] [learners=(4)] [pre-vote=true] [check-quorum=true]
 * [election-ticks=10] [heartbeat-ticks=1] [inflight-max=] [entries-per-message-max=]
 * [message-bytes-max=] [uncommitted-max=] [snapshot-chunk-bytes=]`: creates N nodes with the next
 * free ids. Without voters/learners, the first nodes of a script start as voters of a cluster of
 * exactly themselves, and nodes added later start with no membership (they join through the leader).
 * Options not given are left to the core's defaults.
 */
import type { InteractionEnv, NodeSettings } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';
import { describeNode } from './raft-state.js';

export function addNodes(env: InteractionEnv, command: ScriptCommand): void {
  const count = command.nodeId(0);
  const firstId = Math.max(0, ...env.nodeIds()) + 1;
  const ids = Array.from({ length: count }, (_, offset) => firstId + offset);
  const voters = command.idListOption('voters') ?? (env.nodes.size === 0 ? ids : []);
  const learners = command.idListOption('learners') ?? [];
  const settings: NodeSettings = {
    electionTimeoutTicks: command.numberOption('election-ticks') ?? 10,
    heartbeatTimeoutTicks: command.numberOption('heartbeat-ticks') ?? 1,
    ...defined('preVote', command.booleanOption('pre-vote')),
    ...defined('checkQuorum', command.booleanOption('check-quorum')),
    ...defined('inflightMessagesMax', command.numberOption('inflight-max')),
    ...defined('entriesPerMessageMax', command.numberOption('entries-per-message-max')),
    ...defined('messageBytesMax', command.numberOption('message-bytes-max')),
    ...defined('uncommittedEntriesMax', command.numberOption('uncommitted-max')),
    ...defined('snapshotChunkBytesMax', command.numberOption('snapshot-chunk-bytes')),
  };
  for (const id of ids) {
    env.addNode(id, { voters, learners }, settings);
    env.print(describeNode(env, id));
  }
}

function defined<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
