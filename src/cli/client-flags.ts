import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { type ClientOptions, clientDeadlineMsDefault, type ControllerClientOptions } from '../rpc/clients/index.js';
import { packageVersion } from '../node/package-version.js';

export interface ClientFlags {
  server: string;
  timeoutMs: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  tokenFile?: string;
}

/** Flags every command that talks to a node accepts; `trib version` asks a node only when told. */
export function withClientFlags(command: Command, options: { serverRequired: boolean }): Command {
  const server = ['-s, --server <address>', 'gRPC address of the node, host:port'] as const;
  return withConnectionFlags(options.serverRequired ? command.requiredOption(...server) : command.option(...server));
}

/** Flags of commands that talk to the controller quorum: where to start, how to connect, how to print. */
export interface ControllerFlags extends Omit<ClientFlags, 'server'> {
  bootstrap?: string;
  json?: boolean;
}

/** Bootstrap addresses one flag may list: more than any quorum (16 controllers) has. */
const bootstrapAddressesMax = 32;

export function withControllerFlags(command: Command): Command {
  return withConnectionFlags(command)
    .addOption(new Option('-b, --bootstrap <addresses>', 'controller addresses, host:port[,host:port]').env('TRIB_BOOTSTRAP'))
    .option('--json', 'machine-readable output');
}

function withConnectionFlags(command: Command): Command {
  return command
    .option('--timeout-ms <ms>', 'deadline for each call', String(clientDeadlineMsDefault))
    .option('--ca-file <path>', 'CA certificate to trust (enables TLS)')
    .option('--cert-file <path>', 'client certificate for mTLS')
    .option('--key-file <path>', 'client private key for mTLS')
    .option('--token-file <path>', 'file holding the bearer token, for nodes with auth enabled');
}

export function controllerClientOptionsFrom(flags: ControllerFlags): ControllerClientOptions {
  return { ...clientOptionsFrom({ ...flags, server: '' }), bootstrap: bootstrapAddresses(flags.bootstrap) };
}

function bootstrapAddresses(flag: string | undefined): string[] {
  if (flag === undefined || flag.trim() === '') throw new Error('--bootstrap (or TRIB_BOOTSTRAP) is required: the controller addresses, host:port[,host:port]');
  const addresses = flag.split(',').map((address) => address.trim());
  if (addresses.length > bootstrapAddressesMax) throw new Error(`--bootstrap lists ${addresses.length} addresses; at most ${bootstrapAddressesMax} are allowed`);
  for (const address of addresses) {
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    if (address.lastIndexOf(':') <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new Error(`--bootstrap address "${address}" is not host:port with a port from 1 to 65535`);
    }
  }
  return addresses;
}

export function clientOptionsFrom(flags: ClientFlags): ClientOptions {
  const deadlineMs = Number(flags.timeoutMs);
  if (!Number.isSafeInteger(deadlineMs) || deadlineMs <= 0) {
    throw new Error(`--timeout-ms must be a positive integer number of milliseconds, got "${flags.timeoutMs}"`);
  }
  const usesTls = flags.caFile !== undefined || flags.certFile !== undefined;
  return {
    deadlineMs,
    clientId: `trib-cli/${packageVersion}`,
    tls: usesTls ? { caFile: flags.caFile, certFile: flags.certFile, keyFile: flags.keyFile } : undefined,
    token: flags.tokenFile === undefined ? undefined : readToken(flags.tokenFile),
  };
}

function readToken(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new Error(`--token-file "${path}" could not be read: ${(error as Error).message}`, { cause: error });
  }
}
