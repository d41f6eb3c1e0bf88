import { Command } from 'commander';
import { checkHealth } from '../rpc/clients/index.js';
import { exitCodes } from './cli-error.js';
import { type ClientFlags, clientOptionsFrom, withClientFlags } from './client-flags.js';

/**
 * `trib health --server ADDR [--service NAME]`: asks the node's grpc.health.v1 service. Exits 0
 * when SERVING and 1 otherwise, so scripts and probes can use it directly.
 */
export function healthCommand(): Command {
  return withClientFlags(new Command('health').description("check a node's gRPC health"), { serverRequired: true })
    .option('--service <name>', 'fully qualified service to ask about; the whole server when omitted', '')
    .action(async (flags: ClientFlags & { service: string }) => {
      const status = await checkHealth(flags.server, flags.service, clientOptionsFrom(flags));
      console.log(`${flags.server}${flags.service ? ` ${flags.service}` : ''}: ${status}`);
      if (status !== 'SERVING') process.exitCode = exitCodes.failed;
    });
}
