/**
 * `snapshot ID`: the host snapshots node ID's state machine at its applied index into storage
 * (without compacting; see `compact`).
 */
import { describeSnapshotMetadata } from '../describe-ready.js';
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function snapshot(env: InteractionEnv, command: ScriptCommand): void {
  const id = command.nodeId(0);
  const node = env.node(id);
  const membership = env.raft(id).status().membership;
  const created = node.storage.createSnapshot(node.stateMachine.appliedIndex, membership, node.stateMachine.snapshotData());
  env.print(`Snapshot ${describeSnapshotMetadata(created.metadata)} Bytes:${created.data.length}`);
}
