import { Command } from 'commander';
import { getVersion, type NodeVersion } from '../rpc/clients/index.js';
import { packageVersion } from '../node/package-version.js';
import { type ClientFlags, clientOptionsFrom, withClientFlags } from './client-flags.js';

/** `trib version [--server ADDR] [--json]`: this program's version, and a node's when asked. */
export function versionCommand(): Command {
  const command = new Command('version').description("print trib's version, and a node's with --server");
  return withClientFlags(command, { serverRequired: false }).option('--json', 'print JSON').action(async (flags: Partial<ClientFlags> & { json?: boolean }) => {
    const node = flags.server === undefined ? undefined : await getVersion(flags.server, clientOptionsFrom(flags as ClientFlags));
    if (flags.json) {
      console.log(JSON.stringify({ client: { version: packageVersion }, server: node }));
      return;
    }
    console.log(`trib ${packageVersion}`);
    if (node !== undefined) console.log(describeNode(flags.server ?? '', node));
  });
}

function describeNode(address: string, node: NodeVersion): string {
  return [
    `node ${node.nodeId} at ${address}: trib ${node.serverVersion} (${node.roles.join(', ')}), ${node.nodejsVersion} ${node.platform}`,
    `started ${new Date(node.startedAtMs).toISOString()}`,
    `compatibility: ${node.compatibility} — ${node.compatibilityMessage}`,
    ...node.apiVersions.map((api) => `  ${api.service} v${api.version}`),
  ].join('\n');
}
