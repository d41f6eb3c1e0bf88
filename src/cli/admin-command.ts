import { Command } from 'commander';
import { AdminClient } from '../rpc/clients/index.js';
import { type ControllerFlags, controllerClientOptionsFrom, withControllerFlags } from './client-flags.js';
import { integerFlag, printOutput } from './print-output.js';

/** Node ids on the wire are uint32 (docs/PROTOCOL.md). */
const nodeIdMax = 4_294_967_295;

/** `trib admin transfer-leadership|add-controller|remove-controller`: the controller quorum's membership and leadership. */
export function adminCommand(): Command {
  const admin = new Command('admin').description('manage the controller quorum');
  admin.addCommand(withControllerFlags(new Command('transfer-leadership').description('hand controller leadership to another voter and wait until it leads'))
    .requiredOption('--to <id>', 'node id of the voter to lead; 0 picks the most caught-up one')
    .action((flags: ControllerFlags & { to: string }) => withAdmin(flags, async (client) => {
      const result = await client.transferLeadership(integerFlag('--to', flags.to, 0, nodeIdMax));
      printOutput(flags.json, result, () => [`controller ${result.leaderId} leads in term ${result.term}`]);
    })));
  admin.addCommand(withControllerFlags(new Command('add-controller').description('add a controller as a learner and promote it to voter once it caught up'))
    .requiredOption('--id <id>', 'node id of the new controller')
    .requiredOption('--address <host:port>', 'gRPC address of the new controller')
    .option('--learner', 'keep it a learner: it receives the log but does not vote')
    .action((flags: ControllerFlags & { id: string; address: string; learner?: boolean }) => withAdmin(flags, async (client) => {
      const result = await client.addController(integerFlag('--id', flags.id, 1, nodeIdMax), flags.address, { role: flags.learner ? 'learner' : 'voter' });
      printOutput(flags.json, result, () => [`controller ${flags.id} at ${flags.address} is a ${result.controller?.role ?? 'member'} (metadata version ${result.metadataVersion})`]);
    })));
  admin.addCommand(withControllerFlags(new Command('remove-controller').description('remove a voter or learner from the quorum'))
    .requiredOption('--id <id>', 'node id of the controller to remove')
    .action((flags: ControllerFlags & { id: string }) => withAdmin(flags, async (client) => {
      const result = await client.removeController(integerFlag('--id', flags.id, 1, nodeIdMax));
      printOutput(flags.json, result, () => [`controller ${flags.id} is not in the quorum; controllers: ${result.controllers.map((controller) => `${controller.nodeId} (${controller.role})`).join(', ')}`]);
    })));
  return admin;
}

async function withAdmin(flags: ControllerFlags, run: (client: AdminClient) => Promise<void>): Promise<void> {
  const client = new AdminClient(controllerClientOptionsFrom(flags));
  try {
    await run(client);
  } finally {
    client.close();
  }
}
