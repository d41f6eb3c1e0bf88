import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type ClientOptions, clientDeadlineMsDefault } from '../rpc/clients/index.js';
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
  return (options.serverRequired ? command.requiredOption(...server) : command.option(...server))
    .option('--timeout-ms <ms>', 'deadline for each call', String(clientDeadlineMsDefault))
    .option('--ca-file <path>', 'CA certificate to trust (enables TLS)')
    .option('--cert-file <path>', 'client certificate for mTLS')
    .option('--key-file <path>', 'client private key for mTLS')
    .option('--token-file <path>', 'file holding the bearer token, for nodes with auth enabled');
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
