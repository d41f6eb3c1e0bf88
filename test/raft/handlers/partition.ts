/**
 * `partition 1 | 2 3`: splits the network into the groups between bars; nodes named in no group
 * form one more group. Messages between groups are dropped when delivered, until `heal`.
 */
import type { InteractionEnv } from '../interaction-env.js';
import type { ScriptCommand } from '../script-command.js';

export function partition(env: InteractionEnv, command: ScriptCommand): void {
  const groups: number[][] = [[]];
  for (const token of command.positionals) {
    if (token === '|') groups.push([]);
    else groups[groups.length - 1]?.push(Number(token));
  }
  for (const id of groups.flat()) {
    if (!Number.isSafeInteger(id)) throw new Error('partition: expected node ids separated by |');
    env.node(id);
  }
  env.setPartition(groups);
}
