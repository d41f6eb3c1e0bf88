/** `raft-log ID`: what node ID's storage holds: its snapshot (if any) and its entries. */
import { describeEntry, describeSnapshotMetadata } from '../describe-ready.js';
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function raftLog(env: InteractionEnv, command: ScriptCommand): void {
  const storage = env.node(command.nodeId(0)).storage;
  const snapshot = storage.snapshot();
  if (snapshot.metadata.index > 0) env.print(`Snapshot ${describeSnapshotMetadata(snapshot.metadata)}`);
  const firstIndex = storage.firstIndex();
  const lastIndex = storage.lastIndex();
  if (lastIndex < firstIndex) {
    env.print(`log is empty: first index=${firstIndex}, last index=${lastIndex}`);
    return;
  }
  for (const entry of storage.entries(firstIndex, lastIndex + 1, Number.MAX_SAFE_INTEGER)) env.print(describeEntry(entry));
}
