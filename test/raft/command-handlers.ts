/** The script commands, one handler file each under handlers/. */
import { addNodes } from './handlers/add-nodes.js';
import { campaign } from './handlers/campaign.js';
import { compact } from './handlers/compact.js';
import { crash } from './handlers/crash.js';
import { deliverMsgs } from './handlers/deliver-msgs.js';
import { heal } from './handlers/heal.js';
import { partition } from './handlers/partition.js';
import { processReady } from './handlers/process-ready.js';
import { proposeConfChange } from './handlers/propose-conf-change.js';
import { propose } from './handlers/propose.js';
import { raftLog } from './handlers/raft-log.js';
import { raftState } from './handlers/raft-state.js';
import { readIndex } from './handlers/read-index.js';
import { restart } from './handlers/restart.js';
import { snapshot } from './handlers/snapshot.js';
import { stabilize } from './handlers/stabilize.js';
import { status } from './handlers/status.js';
import { tickHeartbeat } from './handlers/tick-heartbeat.js';
import { tick } from './handlers/tick.js';
import { transferLeader } from './handlers/transfer-leader.js';
import type { InteractionEnv } from './interaction-env.js';
import type { ScriptCommand } from './script-command.js';

export type CommandHandler = (env: InteractionEnv, command: ScriptCommand) => void;

export const commandHandlers: ReadonlyMap<string, CommandHandler> = new Map<string, CommandHandler>([
  ['add-nodes', addNodes],
  ['campaign', campaign],
  ['compact', compact],
  ['crash', crash],
  ['deliver-msgs', deliverMsgs],
  ['heal', heal],
  ['partition', partition],
  ['process-ready', processReady],
  ['propose', propose],
  ['propose-conf-change', proposeConfChange],
  ['raft-log', raftLog],
  ['raft-state', raftState],
  ['read-index', readIndex],
  ['restart', restart],
  ['snapshot', snapshot],
  ['stabilize', stabilize],
  ['status', status],
  ['tick', tick],
  ['tick-heartbeat', tickHeartbeat],
  ['transfer-leader', transferLeader],
]);
